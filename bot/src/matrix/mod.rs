//! Everything that touches `matrix_sdk::Client`: the session, the sync loop, and the handlers
//! that turn events into effects exactly once.
//!
//! The way in: [`sync`] queues events for [`worker`], which hands each to its handler
//! ([`command`] for commands, which [`dispatch`] sends to the command's executor in [`exec`];
//! [`reaction`], [`timeline`], [`forward`], [`alerts`] and the rest for the others). Shared
//! pieces sit below them and import none of them: [`bot`] (the context), [`error`] (what can
//! fail and whether to try again), [`change`] (one change to one incident), [`room_state`]
//! (levels and initial state of the rooms the bot makes), [`lookup`] and [`reply`].

pub mod alerts;
pub mod ask;
pub mod bot;
pub mod change;
pub mod checkpoint;
pub mod command;
pub mod dispatch;
pub mod error;
pub mod exec;
pub mod forward;
pub mod handoffs;
pub mod invites;
pub mod lookup;
pub mod once;
pub mod open;
pub mod partners;
pub mod profile;
pub mod publish;
pub mod publisher;
pub mod reaction;
pub mod rebuild;
pub mod reminders;
pub mod reply;
pub mod responder;
pub mod room_state;
pub mod rooms;
pub mod session;
pub mod sync;
pub mod timeline;
pub mod worker;
