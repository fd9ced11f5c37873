//! brigade-core: the incident domain shared by the bot and the bridge.
//!
//! Nothing in here touches the network, but for [`http`] and [`health`] (the `http` feature):
//! the server loop both programs put their routers behind, and the probe their containers'
//! health checks run. The bot and the bridge keep their working state behind
//! the [`store::Store`] trait and read the time through [`clock::Clock`], so both can be tested
//! without a homeserver and without sleeping.

pub mod clock;
pub mod engine;
pub mod events;
pub mod followup;
pub mod forward;
#[cfg(feature = "http")]
pub mod health;
pub mod html;
#[cfg(feature = "http")]
pub mod http;
pub mod incident;
pub mod kinds;
pub mod levels;
pub mod oncall;
pub mod record;
pub mod secret;
pub mod status;
pub mod store;
pub mod sync;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod timeline;
