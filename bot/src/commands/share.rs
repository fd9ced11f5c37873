//! `!inc share [<server> [@user…]]`

use brigade_core::{incident::IncidentError, record::IncidentRecord};
use matrix_sdk::ruma::{OwnedServerName, OwnedUserId, ServerName};

use super::{
    args,
    decision::Refusal,
    info::{CommandInfo, ParseError, Scope, Who},
};

pub(super) const INFO: CommandInfo = CommandInfo {
    name: "share",
    arguments: "[<server> [@user…]]",
    summary: "share the incident with a partner organisation's server in a companion room and invite its people (commander or moderators); alone, says what it is shared with and which invitations wait",
    scope: Scope::Incident,
    who: Who::Directors,
    in_shared_room: false,
};

/// What `!inc share` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShareArgs {
    /// The partner's server; `None` asks what the incident is shared with.
    pub server: Option<OwnedServerName>,
    /// The partner's people to invite (`@name` means a user of `server`).
    pub users: Vec<OwnedUserId>,
}

pub(super) fn parse(rest: &str) -> Result<ShareArgs, ParseError> {
    let mut words = rest.split_whitespace();
    let Some(server) = words.next() else {
        return Ok(ShareArgs {
            server: None,
            users: Vec::new(),
        });
    };
    let server = ServerName::parse(server.trim_start_matches('@')).map_err(|_| {
        ParseError::Invalid(format!(
            "`{server}` is not a server name: `{}`, for example `!inc share partner.example @ops`",
            INFO.usage()
        ))
    })?;
    let mut users = Vec::new();
    for word in words {
        let user = args::user(word, &server)?;
        if user.server_name() != server {
            return Err(ParseError::Invalid(format!(
                "{user} is not on {server}: share with one server at a time"
            )));
        }
        if !users.contains(&user) {
            users.push(user);
        }
    }
    Ok(ShareArgs {
        server: Some(server),
        users,
    })
}

/// `!inc share <server>`: refused for a private incident, and for servers of our own.
pub fn decide(
    record: &IncidentRecord,
    server: &ServerName,
    own: &ServerName,
    allowed: &[OwnedServerName],
) -> Result<(), Refusal> {
    if record.incident.private {
        return Err(IncidentError::PrivateNotShared.into());
    }
    if server == own || allowed.iter().any(|ours| ours == server) {
        return Err(Refusal::new(format!(
            "{server} is one of ours: its people join the incident room itself (`!inc page`); share with a partner organisation's server"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use matrix_sdk::ruma::{owned_server_name, owned_user_id};

    use super::*;
    use matrix_sdk::ruma::server_name;

    #[test]
    fn a_partner_server_and_its_people() {
        assert_eq!(
            parse("acme.example @ops @kim:acme.example @ops"),
            Ok(ShareArgs {
                server: Some(owned_server_name!("acme.example")),
                users: vec![
                    owned_user_id!("@ops:acme.example"),
                    owned_user_id!("@kim:acme.example")
                ],
            })
        );
        assert_eq!(
            parse(""),
            Ok(ShareArgs {
                server: None,
                users: Vec::new()
            })
        );
        let other = parse("acme.example @kim:other.example").expect_err("another server");
        assert!(
            other.to_string().contains("is not on acme.example"),
            "{other}"
        );
        let bad = parse("bad/server").expect_err("no server name");
        assert!(bad.to_string().contains("is not a server name"), "{bad}");
    }

    #[test]
    fn a_private_incident_or_one_of_our_servers_is_not_shared() {
        let record =
            brigade_core::testing::record(1, "DNS", brigade_core::incident::Severity::Sev2, 1);
        let own = server_name!("example.org");
        let allowed = [owned_server_name!("sister.example")];
        assert_eq!(
            decide(&record, server_name!("acme.example"), own, &allowed),
            Ok(())
        );
        for ours in [own, server_name!("sister.example")] {
            let refused = decide(&record, ours, own, &allowed).expect_err("ours");
            assert!(refused.text.contains("is one of ours"), "{refused}");
        }
        let mut private = record;
        private.incident.private = true;
        assert!(decide(&private, server_name!("acme.example"), own, &allowed).is_err());
    }
}
