//! Everything that touches `matrix_sdk::Client`: the session, the sync loop, and the handlers
//! that turn events into effects exactly once.
//!
//! The way in: [`sync`] queues events for [`worker`], which hands each to its handler
//! ([`command`] for commands, which [`dispatch`] sends to the command's executor in [`exec`];
//! [`reaction`], [`timeline`], [`forward`], [`alerts`] and the rest for the others). Shared
//! pieces sit below them and import none of them: [`bot`] (the context), [`error`] (what can
//! fail and whether to try again), [`change`] (one change to one incident), [`room_state`]
//! (levels and initial state of the rooms the bot makes), [`lookup`] and [`reply`].

mod alerts;
mod ask;
pub mod bot;
mod calls;
mod change;
mod checkpoint;
mod command;
mod dispatch;
mod error;
mod escalation;
mod exec;
mod forward;
mod handoffs;
mod invites;
mod lookup;
mod names;
pub mod notify;
mod once;
pub mod open;
mod overdue;
mod owner;
mod panel;
pub mod partners;
pub mod postmortem_repo;
pub mod profile;
mod profiles;
mod prune;
pub mod publish;
pub mod publisher;
mod reaction;
mod rebuild;
mod reminders;
mod reply;
pub mod reports;
mod responder;
mod room_state;
pub mod rooms;
pub mod session;
mod status_room;
pub mod sync;
mod tickets;
mod timeline;
mod undecrypted;
pub mod widgets;
mod worker;

pub use exec::cover::restore as restore_covers;
