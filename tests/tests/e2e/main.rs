//! End-to-end tests against real Synapse homeservers, in one test binary so that they share
//! the homeservers the harness starts (`brigade_tests::servers`) instead of each file starting
//! its own. Each module is one area; each test registers its own bot and people.

// matrix-sdk's futures are deep enough to overflow the compiler's default limit when spawned.
#![recursion_limit = "256"]

mod alerting;
mod bot;
mod bridge;
mod calls;
mod escalation;
mod forward;
mod lifecycle;
mod notify;
mod oncall;
mod postmortem;
mod private;
mod share;
mod status;
mod tickets;
mod transcript;
mod web;
