//! `[alerts]`: incidents the bot declares for alerts the bridge posts (SPEC §9).

use std::path::PathBuf;

use matrix_sdk::ruma::{OwnedUserId, ServerName, UserId};
use serde::Deserialize;

use super::{bridge::BridgeRegistration, error::ConfigError};
use brigade_core::oncall::Rotation;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAlerts {
    commander: Option<String>,
    bridge_registration: Option<PathBuf>,
}

/// Who commands an incident declared for an alert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AlertCommander {
    /// This user.
    User(OwnedUserId),
    /// Whoever is on call for this team when the alert comes.
    OnCall(String),
}

/// `[alerts]`
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlertsConfig {
    /// Who commands incidents declared for alerts; without it, they start with nobody in
    /// command (🚑 takes it).
    pub commander: Option<AlertCommander>,
    /// The bridge's registration: alerts are believed only from its users in its routes' rooms.
    /// Without it, no alert is acted on.
    pub bridge: Option<BridgeRegistration>,
}

pub(super) fn validate_alerts(
    raw: RawAlerts,
    rotations: &[Rotation],
    server: &ServerName,
) -> Result<AlertsConfig, ConfigError> {
    let bridge = raw
        .bridge_registration
        .as_deref()
        .map(|path| BridgeRegistration::load(path, server))
        .transpose()?;
    let commander = match raw.commander.as_deref() {
        None => None,
        Some(text) => Some(match text.strip_prefix("oncall:") {
            Some(team) => {
                if !rotations
                    .iter()
                    .any(|known| known.team().eq_ignore_ascii_case(team))
                {
                    return Err(ConfigError::Alerts(format!(
                        "commander: no [[oncall]] team named `{team}`"
                    )));
                }
                AlertCommander::OnCall(team.to_owned())
            }
            None => AlertCommander::User(UserId::parse(text).map_err(|_| {
                ConfigError::Alerts(format!(
                    "commander: `{text}` is neither a user ID (@name:server) nor oncall:<team>"
                ))
            })?),
        }),
    };
    Ok(AlertsConfig { commander, bridge })
}
