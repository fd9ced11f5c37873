//! `[[partners]]`: standing shared rooms with partner organisations (SPEC §7, §12).

use brigade_core::incident::slug;
use matrix_sdk::ruma::{OwnedServerName, OwnedUserId, RoomAliasId, ServerName};
use serde::Deserialize;

use super::error::ConfigError;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPartner {
    server: OwnedServerName,
    name: String,
    #[serde(default)]
    contacts: Vec<OwnedUserId>,
    alias: Option<String>,
}

/// A partner organisation with a standing shared room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partner {
    /// Its homeserver.
    pub server: OwnedServerName,
    /// Its name, as people know it.
    pub name: String,
    /// Its people invited to the room.
    pub contacts: Vec<OwnedUserId>,
    /// The localpart of the room's alias on the bot's server (`partner-<name>` by default).
    pub alias: String,
}

pub(super) fn validate_partners(
    raw: Vec<RawPartner>,
    own: &ServerName,
    allowed: &[OwnedServerName],
) -> Result<Vec<Partner>, ConfigError> {
    let mut partners: Vec<Partner> = Vec::with_capacity(raw.len());
    for partner in raw {
        let name = partner.name.trim().to_owned();
        let server = partner.server;
        if name.is_empty() {
            return Err(ConfigError::Partner(format!("{server}: an empty name")));
        }
        if server == own || allowed.contains(&server) {
            return Err(ConfigError::Partner(format!(
                "{name}: {server} is one of access.allowed_servers; partners are other organisations' servers"
            )));
        }
        if let Some(contact) = partner
            .contacts
            .iter()
            .find(|contact| contact.server_name() != server)
        {
            return Err(ConfigError::Partner(format!(
                "{name}: contact {contact} is not on {server}"
            )));
        }
        let alias = partner
            .alias
            .unwrap_or_else(|| format!("partner-{}", slug(&name)));
        if RoomAliasId::parse(format!("#{alias}:{own}")).is_err() || alias.ends_with('-') {
            return Err(ConfigError::Partner(format!(
                "{name}: `{alias}` does not make a room alias; set `alias`"
            )));
        }
        if partners
            .iter()
            .any(|other| other.server == server || other.alias == alias)
        {
            return Err(ConfigError::Partner(format!(
                "{name}: a second entry for {server} or for the alias `{alias}`"
            )));
        }
        partners.push(Partner {
            server,
            name,
            contacts: partner.contacts,
            alias,
        });
    }
    Ok(partners)
}
