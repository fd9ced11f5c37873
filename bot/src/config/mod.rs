//! The bot's configuration: a raw serde shape read from a TOML file and `BRIGADE_…` environment
//! variables, validated into [`Config`].
//!
//! Reading (file + environment, [`Config::load`]) is separate from validating
//! ([`Config::from_figment`]) so tests can feed strings. Unknown keys are rejected by serde and
//! reported by figment with the key and the file (or variable) it came from.

mod alerts;
mod bridge;
mod calls;
mod error;
mod escalation;
mod forward;
mod git;
mod notify;
mod oncall;
mod partners;
mod postmortems;
mod sections;
mod status;
mod web;

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    time::Duration,
};

use brigade_core::{
    incident::{IncidentError, Severity},
    oncall::Rotation,
};
use figment::{
    providers::{Env, Format, Toml},
    Figment,
};
use matrix_sdk::ruma::{OwnedServerName, OwnedUserId, RoomAliasId, RoomVersionId};
use serde::Deserialize;
use url::Url;

pub use alerts::{AlertCommander, AlertsConfig};
pub use bridge::BridgeRegistration;
pub use brigade_core::secret::Secret;
pub use calls::CallsConfig;
pub use error::ConfigError;
pub use escalation::{Level, Policy};
pub use forward::{builtin as builtin_reaction, normal as normal_emoji, ForwardRule};
pub use git::GitTarget;
pub use notify::{EmailConfig, NotifyConfig, NtfyConfig, Person, WebhookConfig};
pub use oncall::{Handoff, Route, RouteTarget, TeamPolicy};
pub use partners::Partner;
pub use postmortems::PostmortemsConfig;
pub use sections::*;
pub use status::{Component, StatusConfig};
pub use web::WebConfig;

/// Environment variables that override configuration keys start with this; the section and the
/// key are separated by a double underscore: `BRIGADE_MATRIX__PASSWORD` sets `matrix.password`.
/// Variables without the double underscore (`BRIGADE_CONFIG`, `BRIGADE_LOG_FORMAT`) belong to
/// the command line or to other tools and are not configuration keys.
pub const ENV_PREFIX: &str = "BRIGADE_";
const ENV_SEPARATOR: &str = "__";

const DEFAULT_DISPLAY_NAME: &str = "Brigade";
const DEFAULT_MAX_AGE: Duration = Duration::from_secs(15 * 60);
/// Syncs long-poll for 30 s, so a healthy bot completes one at least every 30 s plus the
/// request's own time; three missed polls mean something is wrong.
const DEFAULT_UNHEALTHY_AFTER: Duration = Duration::from_secs(90);

/// The validated configuration of the bot.
#[derive(Debug, Clone)]
pub struct Config {
    /// How to reach and log in to the homeserver.
    pub matrix: MatrixConfig,
    /// Where the bot keeps its store, its Matrix session and its encryption keys.
    pub storage: StorageConfig,
    /// The HTTP server for `/healthz` and `/metrics`.
    pub http: HttpConfig,
    /// The pages and widgets.
    pub web: WebConfig,
    /// How the bot appears to people.
    pub profile: ProfileConfig,
    /// How commands are answered.
    pub commands: CommandsConfig,
    /// Who may use the bot.
    pub access: AccessConfig,
    /// The standard rooms' alias localparts.
    pub rooms: RoomsConfig,
    /// How incidents are declared and run.
    pub incidents: IncidentsConfig,
    /// When the commander is reminded that a status update is due.
    pub reminders: RemindersConfig,
    /// Groups people can page by name.
    pub groups: Vec<Group>,
    /// On-call rotations, by team.
    pub oncall: Vec<Rotation>,
    /// Where teams' handoffs are announced.
    pub handoffs: Vec<Handoff>,
    /// Escalation policies, by name.
    pub escalation: Vec<Policy>,
    /// The policies teams' pages start.
    pub team_policies: Vec<TeamPolicy>,
    /// How paged people are reached outside Matrix.
    pub notify: NotifyConfig,
    /// Words that call for specialists.
    pub routes: Vec<Route>,
    /// Reaction forwarding rules for every room.
    pub forward: Vec<ForwardRule>,
    /// Partner organisations with a standing shared room.
    pub partners: Vec<Partner>,
    /// Incidents declared for alerts.
    pub alerts: AlertsConfig,
    /// The public status page.
    pub status: StatusConfig,
    /// Where final postmortems are committed.
    pub postmortems: PostmortemsConfig,
    /// Where incidents' calls are held.
    pub calls: CallsConfig,
}

impl Config {
    /// The on-call rotation of team `name` (any case).
    pub fn rotation(&self, name: &str) -> Option<&Rotation> {
        self.oncall
            .iter()
            .find(|rotation| rotation.team().eq_ignore_ascii_case(name))
    }

    /// The escalation policy named `name` (any case).
    pub fn policy(&self, name: &str) -> Option<&Policy> {
        self.escalation
            .iter()
            .find(|policy| policy.name.eq_ignore_ascii_case(name))
    }

    /// The escalation policy that paging team `team`'s on-call starts, if it has one.
    pub fn team_policy(&self, team: &str) -> Option<&Policy> {
        let named = self
            .team_policies
            .iter()
            .find(|known| known.team.eq_ignore_ascii_case(team))?;
        self.policy(&named.policy)
    }

    /// The group named `name` (any case).
    pub fn group(&self, name: &str) -> Option<&Group> {
        self.groups
            .iter()
            .find(|group| group.name.eq_ignore_ascii_case(name))
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    matrix: RawMatrix,
    storage: RawStorage,
    http: RawHttp,
    #[serde(default)]
    web: web::RawWeb,
    #[serde(default)]
    status: status::RawStatus,
    #[serde(default)]
    postmortems: postmortems::RawPostmortems,
    #[serde(default)]
    calls: calls::RawCalls,
    #[serde(default)]
    profile: RawProfile,
    #[serde(default)]
    commands: RawCommands,
    #[serde(default)]
    access: RawAccess,
    #[serde(default)]
    rooms: RawRooms,
    #[serde(default)]
    incidents: RawIncidents,
    #[serde(default)]
    reminders: RawReminders,
    #[serde(default)]
    groups: Vec<RawGroup>,
    #[serde(default)]
    oncall: Vec<oncall::RawOnCall>,
    #[serde(default)]
    escalation: Vec<escalation::RawPolicy>,
    #[serde(default)]
    notify: notify::RawNotify,
    #[serde(default)]
    routes: Vec<oncall::RawRoute>,
    #[serde(default)]
    forward: Vec<forward::RawForward>,
    #[serde(default)]
    partners: Vec<partners::RawPartner>,
    #[serde(default)]
    alerts: alerts::RawAlerts,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIncidents {
    default_severity: Option<String>,
    types: Option<Vec<String>>,
    private_types: Option<Vec<String>>,
    room_version: Option<RoomVersionId>,
    take_command: Option<String>,
    flag_reactions: Option<Vec<String>>,
    thanks_reactions: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawReminders {
    #[serde(default, with = "humantime_serde")]
    sev1: Option<Duration>,
    #[serde(default, with = "humantime_serde")]
    sev2: Option<Duration>,
    #[serde(default, with = "humantime_serde")]
    sev3: Option<Duration>,
    #[serde(default, with = "humantime_serde")]
    sev4: Option<Duration>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGroup {
    name: String,
    members: Vec<OwnedUserId>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRooms {
    space: Option<String>,
    triage: Option<String>,
    announcements: Option<String>,
    postmortems: Option<String>,
    archive: Option<String>,
    private_triage: Option<String>,
    private_triage_group: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMatrix {
    homeserver_url: Url,
    user_id: OwnedUserId,
    password: Option<Secret>,
    password_file: Option<PathBuf>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStorage {
    path: PathBuf,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHttp {
    listen: SocketAddr,
    #[serde(default, with = "humantime_serde")]
    unhealthy_after: Option<Duration>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProfile {
    display_name: Option<String>,
    avatar: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCommands {
    #[serde(default, with = "humantime_serde")]
    max_age: Option<Duration>,
    threads: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAccess {
    allowed_servers: Option<Vec<OwnedServerName>>,
    allow_ip_literals: Option<bool>,
}

impl Config {
    /// Reads `path`, applies `BRIGADE_…` environment overrides and validates the result.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let figment = Figment::new().merge(Toml::file_exact(path)).merge(
            Env::prefixed(ENV_PREFIX)
                .filter(|key| key.as_str().contains(ENV_SEPARATOR))
                .split(ENV_SEPARATOR),
        );
        Self::from_figment(&figment)
    }

    /// Validates configuration gathered by `figment`.
    pub fn from_figment(figment: &Figment) -> Result<Self, ConfigError> {
        let raw: RawConfig = figment.extract().map_err(Box::new)?;
        raw.validate()
    }

    /// The minimal configuration followed by `extra` (TOML sections), for unit tests.
    #[cfg(test)]
    pub fn for_tests(extra: &str) -> Self {
        let text = format!(
            "[matrix]\nhomeserver_url = \"http://127.0.0.1:8008\"\nuser_id = \"@brigade:example.org\"\n\
             password = \"hunter2\"\n[storage]\npath = \"data/bot\"\n[http]\nlisten = \"127.0.0.1:9100\"\n{extra}"
        );
        Self::from_figment(&Figment::from(Toml::string(&text))).expect("a valid test configuration")
    }
}

impl RawConfig {
    fn validate(self) -> Result<Config, ConfigError> {
        let password = match (self.matrix.password, self.matrix.password_file) {
            (Some(password), None) => password,
            (None, Some(path)) => read_password_file(path)?,
            (None, None) => return Err(ConfigError::PasswordMissing),
            (Some(_), Some(_)) => return Err(ConfigError::PasswordTwice),
        };

        let display_name = self
            .profile
            .display_name
            .unwrap_or_else(|| DEFAULT_DISPLAY_NAME.to_owned());
        if display_name.trim().is_empty() {
            return Err(ConfigError::EmptyDisplayName);
        }
        if let Some(path) = &self.profile.avatar {
            check_avatar(path)?;
        }

        let max_age = self.commands.max_age.unwrap_or(DEFAULT_MAX_AGE);
        if max_age.is_zero() {
            return Err(ConfigError::ZeroMaxAge);
        }

        if self
            .http
            .unhealthy_after
            .is_some_and(|after| after.is_zero())
        {
            return Err(ConfigError::ZeroUnhealthyAfter);
        }

        let allowed_servers = self
            .access
            .allowed_servers
            .unwrap_or_else(|| vec![self.matrix.user_id.server_name().to_owned()]);
        if allowed_servers.is_empty() {
            return Err(ConfigError::NoAllowedServers);
        }

        let server = self.matrix.user_id.server_name().to_owned();
        let rooms = RoomsConfig {
            space: self.rooms.space.unwrap_or_else(|| "incidents".to_owned()),
            triage: self
                .rooms
                .triage
                .unwrap_or_else(|| "incident-triage".to_owned()),
            announcements: self
                .rooms
                .announcements
                .unwrap_or_else(|| "incidents-announce".to_owned()),
            postmortems: self
                .rooms
                .postmortems
                .unwrap_or_else(|| "postmortems".to_owned()),
            archive: self
                .rooms
                .archive
                .unwrap_or_else(|| "incidents-archive".to_owned()),
            private_triage: self
                .rooms
                .private_triage
                .unwrap_or_else(|| "incident-triage-private".to_owned()),
            private_triage_group: self.rooms.private_triage_group,
        };
        for (key, value) in [
            ("space", &rooms.space),
            ("triage", &rooms.triage),
            ("announcements", &rooms.announcements),
            ("postmortems", &rooms.postmortems),
            ("archive", &rooms.archive),
            ("private_triage", &rooms.private_triage),
        ] {
            if value.is_empty() || RoomAliasId::parse(format!("#{value}:{server}")).is_err() {
                return Err(ConfigError::RoomAlias {
                    key,
                    value: value.clone(),
                });
            }
        }

        let groups = validate_groups(self.groups)?;
        if let Some(name) = &rooms.private_triage_group {
            if !groups.iter().any(|group| &group.name == name) {
                return Err(ConfigError::PrivateTriageGroup(name.clone()));
            }
        }
        let web = self.web.validate(
            self.http.listen,
            &server,
            &self.matrix.homeserver_url,
            &allowed_servers,
        )?;
        let (oncall, handoffs, team_policies) = oncall::validate_oncall(self.oncall)?;
        let escalation = escalation::validate_escalation(self.escalation, &groups, &oncall)?;
        for team in &team_policies {
            escalation::check_reference(&escalation, &team.policy).map_err(|reason| {
                ConfigError::OnCall(format!("team `{}`: escalation: {reason}", team.team))
            })?;
        }
        let routes = oncall::validate_routes(self.routes, &groups, &oncall, &escalation)?;
        let notify = self.notify.validate()?;
        if notify.any() {
            escalation::check_notify_after(&escalation)?;
        }
        let incidents = self.incidents.validate(&groups)?;
        let forward = forward::validate_forward(self.forward, &incidents)?;
        let reminders = self.reminders.validate();
        let partners = partners::validate_partners(self.partners, &server, &allowed_servers)?;
        let alerts = alerts::validate_alerts(self.alerts, &oncall, &server)?;
        let status = self.status.validate(&self.storage.path, &server)?;
        let postmortems = self.postmortems.validate()?;
        let calls = self.calls.validate()?;
        // The status room is public: sharing an alias with a standard room would make that
        // room the public one.
        if let Some(room) = &status.room {
            let standard = [
                &rooms.space,
                &rooms.triage,
                &rooms.announcements,
                &rooms.postmortems,
                &rooms.archive,
                &rooms.private_triage,
            ];
            if standard
                .iter()
                .any(|localpart| localpart.eq_ignore_ascii_case(room))
            {
                return Err(ConfigError::Status {
                    key: "room",
                    reason: format!("`{room}` is the alias of a standard room ([rooms]); the status room needs its own"),
                });
            }
        }

        Ok(Config {
            matrix: MatrixConfig {
                homeserver_url: self.matrix.homeserver_url,
                user_id: self.matrix.user_id,
                password,
            },
            storage: StorageConfig {
                path: self.storage.path,
            },
            http: HttpConfig {
                listen: self.http.listen,
                unhealthy_after: self.http.unhealthy_after.unwrap_or(DEFAULT_UNHEALTHY_AFTER),
            },
            web,
            profile: ProfileConfig {
                display_name,
                avatar: self.profile.avatar,
            },
            commands: CommandsConfig {
                max_age,
                threads: self.commands.threads.unwrap_or(true),
            },
            access: AccessConfig {
                allowed_servers,
                allow_ip_literals: self.access.allow_ip_literals.unwrap_or(true),
            },
            rooms,
            incidents,
            reminders,
            groups,
            oncall,
            handoffs,
            escalation,
            team_policies,
            notify,
            routes,
            forward,
            partners,
            alerts,
            status,
            postmortems,
            calls,
        })
    }
}

/// 📌, and the aliases of SPEC §8.
const DEFAULT_FLAGS: [&str; 3] = ["📌", "🗓", "⏱"];
const DEFAULT_THANKS: [&str; 2] = ["🙏", "🎉"];
/// The types of SPEC §3, security private by default.
const DEFAULT_TYPES: [&str; 5] = [
    "operations",
    "security",
    "facilities",
    "product",
    "customer",
];
const DEFAULT_PRIVATE_TYPES: [&str; 1] = ["security"];
const DEFAULT_SEVERITY: Severity = Severity::Sev3;
/// SEV1 wants an update every half hour, SEV2 every hour; below that none are due.
const DEFAULT_REMINDERS: [Option<Duration>; 4] = [
    Some(Duration::from_secs(30 * 60)),
    Some(Duration::from_secs(60 * 60)),
    None,
    None,
];

impl RawIncidents {
    fn validate(self, groups: &[Group]) -> Result<IncidentsConfig, ConfigError> {
        let invalid = |key, reason: String| ConfigError::Incidents { key, reason };
        let default_severity = match self.default_severity {
            Some(text) => text
                .parse()
                .map_err(|error: IncidentError| invalid("default_severity", error.to_string()))?,
            None => DEFAULT_SEVERITY,
        };
        let owned = |names: &[&str]| names.iter().map(|&name| name.to_owned()).collect();
        let types: Vec<String> = self.types.unwrap_or_else(|| owned(&DEFAULT_TYPES));
        if types.is_empty() {
            return Err(invalid("types", "must name at least one type".to_owned()));
        }
        for kind in &types {
            let word = !kind.is_empty()
                && kind
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
            if !word {
                return Err(invalid(
                    "types",
                    format!("`{kind}` is not a lower-case word (a-z, 0-9, -)"),
                ));
            }
        }
        let private_types = self
            .private_types
            .unwrap_or_else(|| owned(&DEFAULT_PRIVATE_TYPES));
        if let Some(unknown) = private_types.iter().find(|kind| !types.contains(kind)) {
            return Err(invalid(
                "private_types",
                format!("`{unknown}` is not one of incidents.types"),
            ));
        }
        let take_command = match self.take_command.as_deref() {
            None | Some("anyone") => TakeCommand::Anyone,
            Some(name) if groups.iter().any(|group| group.name == name) => {
                TakeCommand::Group(name.to_owned())
            }
            Some(name) => {
                return Err(invalid(
                    "take_command",
                    format!("`{name}` is neither `anyone` nor the name of a [[groups]] entry"),
                ))
            }
        };
        let reactions = |key: &'static str,
                         configured: Option<Vec<String>>,
                         default: &[&str]|
         -> Result<Vec<String>, ConfigError> {
            let reactions: Vec<String> = configured.unwrap_or_else(|| owned(default));
            if reactions.is_empty() || reactions.iter().any(|key| key.trim().is_empty()) {
                return Err(invalid(
                    key,
                    "must list at least one emoji, none empty".to_owned(),
                ));
            }
            // Clients may add a variation selector; keys are compared without it.
            Ok(reactions
                .iter()
                .map(|reaction| reaction.trim().trim_end_matches('\u{fe0f}').to_owned())
                .collect())
        };
        let flag_reactions = reactions("flag_reactions", self.flag_reactions, &DEFAULT_FLAGS)?;
        let thanks_reactions =
            reactions("thanks_reactions", self.thanks_reactions, &DEFAULT_THANKS)?;
        if let Some(taken) = flag_reactions
            .iter()
            .chain(&thanks_reactions)
            .find(|reaction| ["👀", "🚑", "✅", "❓"].contains(&reaction.as_str()))
        {
            return Err(invalid(
                "flag_reactions",
                format!("{taken} already means something to Brigade (👀 acknowledge, 🚑 take command, ✅ ❓ answers)"),
            ));
        }
        if let Some(both) = flag_reactions
            .iter()
            .find(|reaction| thanks_reactions.contains(reaction))
        {
            return Err(invalid(
                "thanks_reactions",
                format!("{both} is also in flag_reactions; a reaction means one thing"),
            ));
        }
        Ok(IncidentsConfig {
            default_severity,
            types,
            private_types,
            room_version: self.room_version,
            take_command,
            flag_reactions,
            thanks_reactions,
        })
    }
}

impl RawReminders {
    /// A key set to zero turns that severity's reminders off.
    fn validate(self) -> RemindersConfig {
        let mut every = DEFAULT_REMINDERS;
        for (slot, configured) in every
            .iter_mut()
            .zip([self.sev1, self.sev2, self.sev3, self.sev4])
        {
            if let Some(duration) = configured {
                *slot = (!duration.is_zero()).then_some(duration);
            }
        }
        RemindersConfig::new(every)
    }
}

fn validate_groups(raw: Vec<RawGroup>) -> Result<Vec<Group>, ConfigError> {
    let mut groups: Vec<Group> = Vec::with_capacity(raw.len());
    for group in raw {
        let word = !group.name.is_empty()
            && group
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !word {
            return Err(ConfigError::Group(format!(
                "`{}` is not a usable name (letters, digits, - and _)",
                group.name
            )));
        }
        if group.name.eq_ignore_ascii_case("anyone") {
            return Err(ConfigError::Group("`anyone` is reserved".to_owned()));
        }
        if groups
            .iter()
            .any(|known| known.name.eq_ignore_ascii_case(&group.name))
        {
            return Err(ConfigError::Group(format!(
                "`{}` is defined twice",
                group.name
            )));
        }
        if group.members.is_empty() {
            return Err(ConfigError::Group(format!(
                "`{}` has no members",
                group.name
            )));
        }
        groups.push(Group {
            name: group.name,
            members: group.members,
        });
    }
    Ok(groups)
}

fn read_password_file(path: PathBuf) -> Result<Secret, ConfigError> {
    match Secret::from_file(&path) {
        Ok(Some(password)) => Ok(password),
        Ok(None) => Err(ConfigError::PasswordFileEmpty { path }),
        Err(source) => Err(ConfigError::PasswordFile { path, source }),
    }
}

/// The media type of an avatar file, from its extension.
pub fn avatar_mime(path: &Path) -> Option<mime::Mime> {
    let extension = path.extension()?.to_str()?.to_ascii_lowercase();
    match extension.as_str() {
        "png" => Some(mime::IMAGE_PNG),
        "jpg" | "jpeg" => Some(mime::IMAGE_JPEG),
        "gif" => Some(mime::IMAGE_GIF),
        "webp" => "image/webp".parse().ok(),
        _ => None,
    }
}

fn check_avatar(path: &Path) -> Result<(), ConfigError> {
    let refuse = |reason: String| ConfigError::Avatar {
        path: path.to_owned(),
        reason,
    };
    if avatar_mime(path).is_none() {
        return Err(refuse("not a .png, .jpg, .gif or .webp file".to_owned()));
    }
    match std::fs::metadata(path) {
        Ok(metadata) if metadata.is_file() => Ok(()),
        Ok(_) => Err(refuse("not a file".to_owned())),
        Err(error) => Err(refuse(error.to_string())),
    }
}

#[cfg(test)]
mod tests;
