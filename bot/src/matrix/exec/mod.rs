//! The executors of commands with I/O of their own, one file per command, named as its parser
//! in `crate::commands` is: each reads what its decision needs, calls the decision, and carries
//! out what it decided. Commands whose change is only a new record, an update and levels have
//! no file here: [`super::change::Change::carry_out`] carries their decisions out.

pub mod call;
pub mod close;
pub mod cover;
pub mod declare;
pub mod followup;
pub mod forward;
pub mod list;
pub mod notify;
pub mod page;
pub mod postmortem;
pub mod private;
pub mod share;
pub mod transcript;
