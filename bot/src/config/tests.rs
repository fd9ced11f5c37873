//! The configuration's loading, checking and defaults, from files and the environment.

#![allow(clippy::result_large_err)] // figment's Jail closures return figment's own error

use figment::Jail;

use super::*;

const MINIMAL: &str = r#"
    [matrix]
    homeserver_url = "http://127.0.0.1:8008"
    user_id = "@brigade:example.org"
    password = "hunter2"
    [storage]
    path = "data/bot"
    [http]
    listen = "127.0.0.1:9100"
"#;

fn load_in_jail(jail: &mut Jail, toml: &str) -> Result<Config, ConfigError> {
    jail.create_file("bot.toml", toml).expect("write config");
    Config::load(Path::new("bot.toml"))
}

#[test]
fn minimal_config_runs_with_every_default() {
    Jail::expect_with(|jail| {
        let config = load_in_jail(jail, MINIMAL).expect("minimal config is valid");
        assert_eq!(config.matrix.password.expose(), "hunter2");
        assert_eq!(config.profile.display_name, "Brigade");
        assert_eq!(config.commands.max_age, Duration::from_secs(900));
        assert!(config.commands.threads);
        assert_eq!(
            config.access.allowed_servers,
            vec!["example.org".to_owned()]
        );
        Ok(())
    });
}

#[test]
fn unknown_key_is_named_with_its_file() {
    Jail::expect_with(|jail| {
        let toml = MINIMAL.replace("[http]", "[http]\nlisten_backlog = 5");
        let error = load_in_jail(jail, &toml).expect_err("unknown key is refused");
        let message = error.to_string();
        assert!(message.contains("listen_backlog"), "{message}");
        assert!(message.contains("bot.toml"), "{message}");
        Ok(())
    });
}

#[test]
fn unknown_section_is_refused() {
    Jail::expect_with(|jail| {
        let toml = format!("{MINIMAL}\n[telemetry]\nenabled = true\n");
        let message = load_in_jail(jail, &toml).expect_err("refused").to_string();
        assert!(message.contains("telemetry"), "{message}");
        Ok(())
    });
}

#[test]
fn environment_overrides_nested_keys() {
    Jail::expect_with(|jail| {
        jail.set_env("BRIGADE_MATRIX__PASSWORD", "from-env");
        jail.set_env("BRIGADE_COMMANDS__MAX_AGE", "2m");
        jail.set_env("BRIGADE_CONFIG", "ignored: belongs to the command line");
        jail.set_env("BRIGADE_SYNAPSE_VENV", "ignored: not a section and key");
        let config = load_in_jail(jail, MINIMAL).expect("valid");
        assert_eq!(config.matrix.password.expose(), "from-env");
        assert_eq!(config.commands.max_age, Duration::from_secs(120));
        Ok(())
    });
}

#[test]
fn the_web_pages_are_placed_from_the_environment_as_the_compose_file_does() {
    Jail::expect_with(|jail| {
        jail.set_env("BRIGADE_WEB__PUBLIC_URL", "http://localhost:9100/");
        jail.set_env("BRIGADE_WEB__HOMESERVER_URL", "http://localhost:8008");
        jail.set_env(
            "BRIGADE_WEB__ELEMENT_ORIGINS",
            "[\"http://localhost:8080\"]",
        );
        let config = load_in_jail(jail, MINIMAL).expect("valid");
        assert_eq!(config.web.public_url.as_str(), "http://localhost:9100/");
        assert_eq!(
            config.web.homeserver_url().as_str(),
            "http://localhost:8008/"
        );
        assert_eq!(config.web.element_origins, ["http://localhost:8080"]);
        Ok(())
    });
}

#[test]
fn unknown_key_from_the_environment_is_named() {
    Jail::expect_with(|jail| {
        jail.set_env("BRIGADE_MATRIX__PASWORD", "typo");
        let message = load_in_jail(jail, MINIMAL)
            .expect_err("refused")
            .to_string();
        assert!(message.contains("pasword"), "{message}");
        assert!(message.contains("BRIGADE_"), "{message}");
        Ok(())
    });
}

#[test]
fn password_comes_from_a_file_without_its_newline() {
    Jail::expect_with(|jail| {
        jail.create_file("secret", "s3cret\n")?;
        let toml = MINIMAL.replace(r#"password = "hunter2""#, r#"password_file = "secret""#);
        let config = load_in_jail(jail, &toml).expect("valid");
        assert_eq!(config.matrix.password.expose(), "s3cret");
        Ok(())
    });
}

#[test]
fn password_and_password_file_together_are_refused() {
    Jail::expect_with(|jail| {
        let toml = MINIMAL.replace(
            r#"password = "hunter2""#,
            "password = \"a\"\npassword_file = \"secret\"",
        );
        let error = load_in_jail(jail, &toml).expect_err("refused");
        assert!(matches!(error, ConfigError::PasswordTwice), "{error}");
        Ok(())
    });
}

#[test]
fn missing_password_file_names_the_file() {
    Jail::expect_with(|jail| {
        let toml = MINIMAL.replace(r#"password = "hunter2""#, r#"password_file = "nowhere/pw""#);
        let message = load_in_jail(jail, &toml).expect_err("refused").to_string();
        assert!(message.contains("nowhere/pw"), "{message}");
        Ok(())
    });
}

#[test]
fn missing_required_key_is_named() {
    Jail::expect_with(|jail| {
        let toml = MINIMAL.replace(r#"user_id = "@brigade:example.org""#, "");
        let message = load_in_jail(jail, &toml).expect_err("refused").to_string();
        assert!(message.contains("user_id"), "{message}");
        Ok(())
    });
}

#[test]
fn malformed_values_are_refused_with_the_key() {
    Jail::expect_with(|jail| {
        let toml = MINIMAL.replace("127.0.0.1:9100", "nine-thousand");
        let message = load_in_jail(jail, &toml).expect_err("refused").to_string();
        assert!(message.contains("listen"), "{message}");
        let toml = format!("{MINIMAL}\n[commands]\nmax_age = \"soon\"\n");
        let message = load_in_jail(jail, &toml).expect_err("refused").to_string();
        assert!(message.contains("max_age"), "{message}");
        Ok(())
    });
}

#[test]
fn avatar_of_unknown_type_is_refused() {
    Jail::expect_with(|jail| {
        jail.create_file("face.bmp", "BM")?;
        let toml = format!("{MINIMAL}\n[profile]\navatar = \"face.bmp\"\n");
        let error = load_in_jail(jail, &toml).expect_err("refused");
        assert!(matches!(error, ConfigError::Avatar { .. }), "{error}");
        Ok(())
    });
}

#[test]
fn every_example_in_the_config_directory_is_valid() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../config");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).expect("config directory") {
        let path = entry.expect("entry").path();
        if path
            .file_name()
            .and_then(|name| name.to_str())
            .is_some_and(|name| name.starts_with("bot") && name.ends_with(".toml"))
        {
            let figment = Figment::new().merge(Toml::file_exact(&path));
            // The full example names a password file and the bridge's registration, which
            // exist only in deployments.
            let figment = figment
                .merge(("matrix.password_file", None::<String>))
                .merge(("alerts.bridge_registration", None::<String>))
                .merge(("matrix.password", "x"));
            if let Err(error) = Config::from_figment(&figment) {
                panic!("{}: {error}", path.display());
            }
            checked += 1;
        }
    }
    assert!(
        checked >= 2,
        "expected bot.toml and bot.full.toml in {}",
        dir.display()
    );
}

#[test]
fn incidents_reminders_and_groups_default_to_the_spec() {
    Jail::expect_with(|jail| {
        let config = load_in_jail(jail, MINIMAL).expect("minimal config is valid");
        assert_eq!(config.incidents.default_severity, Severity::Sev3);
        assert_eq!(config.incidents.find_type("SECURITY"), Some("security"));
        assert_eq!(config.incidents.private_types, vec!["security".to_owned()]);
        assert_eq!(config.incidents.take_command, TakeCommand::Anyone);
        let minutes = |m: u64| Some(Duration::from_secs(m * 60));
        assert_eq!(config.reminders.every(Severity::Sev1), minutes(30));
        assert_eq!(config.reminders.every(Severity::Sev2), minutes(60));
        assert_eq!(config.reminders.every(Severity::Sev3), None);
        assert!(config.groups.is_empty());
        Ok(())
    });
}

#[test]
fn unusable_incident_settings_and_groups_are_named() {
    let cases = [
        ("[incidents]\ndefault_severity = \"9\"", "incidents.default_severity: unknown severity `9`"),
        ("[incidents]\ntypes = []", "incidents.types: must name at least one type"),
        ("[incidents]\nprivate_types = [\"spies\"]", "incidents.private_types: `spies` is not one of incidents.types"),
        ("[incidents]\ntake_command = \"sre\"", "incidents.take_command: `sre` is neither"),
        ("[incidents]\nflag_reactions = [\"👀\"]", "incidents.flag_reactions: 👀 already means something"),
        ("[incidents]\nthanks_reactions = [\"📌\"]", "incidents.thanks_reactions: 📌 is also in flag_reactions"),
        ("[incidents]\nflag_reactions = []", "incidents.flag_reactions: must list at least one emoji"),
        ("[[oncall]]\nteam = \"db\"\nmembers = []\nstart = \"2026-01-05T08:00:00Z\"", "oncall: team `db` has nobody in its rotation"),
        ("[[oncall]]\nteam = \"db\"\nmembers = [\"@a:x\"]", "oncall: team `db`: needs `start`"),
        ("[[oncall]]\nteam = \"db\"\nmembers = [\"@a:x\"]\nstart = \"monday\"", "oncall: team `db`: start `monday` is not an RFC 3339 time"),
        ("[[oncall]]\nteam = \"db\"\nmembers = [\"@a:x\"]\nstart = \"2026-01-05T08:00:00Z\"\ntimezone = \"Mars/Olympus\"", "oncall: team `db`: unknown timezone `Mars/Olympus`"),
        ("[[oncall]]\nteam = \"db\"\nical = \"/nonexistent/db.ics\"", "oncall: team `db`: ical /nonexistent/db.ics: cannot read it"),
        ("[[oncall]]\nteam = \"db\"\nmembers = [\"@a:x\"]\nical = \"/etc/db.ics\"", "oncall: team `db`: `ical` replaces members, start and shift_hours"),
        ("[[oncall]]\nteam = \"db\"\nmembers = [\"@a:x\"]\nstart = \"2026-01-05T08:00:00Z\"\n[[oncall.overrides]]\nwho = \"@b:x\"\nfrom = \"2026-01-06T00:00:00Z\"\nuntil = \"2026-01-08T00:00:00Z\"\n[[oncall.overrides]]\nwho = \"@c:x\"\nfrom = \"2026-01-07T00:00:00Z\"\nuntil = \"2026-01-09T00:00:00Z\"", "oncall: team `db`: the overrides for @b:x and @c:x overlap"),
        ("[[routes]]\nkeywords = [\"postgres\"]\ngroup = \"dba\"", "routes: no [[groups]] entry named `dba`"),
        ("[[routes]]\nkeywords = [\"postgres\"]\noncall = \"db\"", "routes: no [[oncall]] team named `db`"),
        ("[[routes]]\nkeywords = [\"postgres\"]", "routes: route for postgres needs one of `group`, `oncall` and `escalation`"),
        ("[[forward]]\nemoji = \"📌\"\nto = \"#pm:x\"", "forward: 📌 already means something to Brigade"),
        ("[[forward]]\nemoji = \"📝\"\nto = \"postmortems\"", "leading sigil is incorrect or missing for key \"default.forward.0.to\""),
        ("[[groups]]\nname = \"dba\"\nmembers = []", "groups: `dba` has no members"),
        ("[[partners]]\nserver = \"acme.example\"\nname = \" \"", "partners: acme.example: an empty name"),
        ("[[partners]]\nserver = \"example.org\"\nname = \"Us\"", "partners: Us: example.org is one of access.allowed_servers"),
        ("[[partners]]\nserver = \"acme.example\"\nname = \"Acme\"\ncontacts = [\"@ops:other.example\"]", "partners: Acme: contact @ops:other.example is not on acme.example"),
        ("[[partners]]\nserver = \"acme.example\"\nname = \"Acme\"\n[[partners]]\nserver = \"acme.example\"\nname = \"Acme 2\"", "partners: Acme 2: a second entry for acme.example"),
        ("[[partners]]\nserver = \"acme.example\"\nname = \"Acme\"\nbogus = 1", "unknown field: found `bogus`"),
        ("[[groups]]\nname = \"d b\"\nmembers = [\"@a:x\"]", "groups: `d b` is not a usable name"),
        ("[[groups]]\nname = \"dba\"\nmembers = [\"@a:x\"]\n[[groups]]\nname = \"DBA\"\nmembers = [\"@b:x\"]", "groups: `DBA` is defined twice"),
    ];
    for (extra, expected) in cases {
        Jail::expect_with(|jail| {
            let error = load_in_jail(jail, &format!("{MINIMAL}\n{extra}"))
                .expect_err(extra)
                .to_string();
            assert!(error.starts_with(expected), "{extra}: {error}");
            Ok(())
        });
    }
}

#[test]
fn escalation_policies_are_read_and_unusable_ones_named() {
    const TEAMS: &str = "[[groups]]\nname = \"dba\"\nmembers = [\"@carol:x\"]\n\
        [[oncall]]\nteam = \"db\"\nmembers = [\"@bob:x\"]\nstart = \"2026-01-05T08:00:00Z\"\n";
    Jail::expect_with(|jail| {
        let toml = format!(
            "{MINIMAL}\n{TEAMS}escalation = \"db\"\n[[escalation]]\nname = \"db\"\nrepeat = 2\n\
             [[escalation.levels]]\npage = [\"oncall:db\"]\nwait = \"5m\"\n\
             [[escalation.levels]]\npage = [\"dba\", \"@dan:x\"]\nwait = \"10m\"\n\
             [[routes]]\nkeywords = [\"postgres\"]\nescalation = \"DB\"\n"
        );
        let config = load_in_jail(jail, &toml).expect("valid");
        let policy = config.team_policy("DB").expect("the team's policy");
        assert_eq!(policy.repeat, 2);
        assert_eq!(policy.levels[1].page, ["dba", "@dan:x"]);
        assert_eq!(policy.levels[1].wait, Duration::from_secs(600));
        assert_eq!(policy.level(7), &policy.levels[1], "the last one beyond");
        assert_eq!(
            config.routes[0].target,
            RouteTarget::Escalation("DB".to_owned())
        );
        Ok(())
    });
    let policy = |levels: &str| format!("{TEAMS}[[escalation]]\nname = \"p\"\n{levels}");
    const SMTP: &str = "[notify.email]\nsmtp = \"smtp://127.0.0.1:25\"\nfrom = \"b@x.org\"\n";
    const NTFY: &str = "[notify.ntfy]\nurl = \"https://ntfy.example.org\"\n";
    const HOOK: &str = "[notify.webhook]\nurl = \"https://sms.example.org/brigade\"\nsecret_file = \"hook-secret\"\n";
    let cases = [
        (policy(""), "escalation: policy `p`: needs at least one [[escalation.levels]]"),
        (policy("[[escalation.levels]]\npage = [\"dba\"]"), "escalation: policy `p`: level 1 has no `wait`"),
        (policy("[[escalation.levels]]\npage = [\"dba\"]\nwait = \"0s\""), "escalation: policy `p`: level 1: `wait` must be longer than zero"),
        (policy("[[escalation.levels]]\npage = []\nwait = \"1m\""), "escalation: policy `p`: level 1 pages nobody"),
        (policy("[[escalation.levels]]\npage = [\"dba\"]\nwait = \"1m\"\n[[escalation.levels]]\npage = [\"oncall:web\"]\nwait = \"1m\""), "escalation: policy `p`: level 2: no [[oncall]] team named `web`"),
        (policy("[[escalation.levels]]\npage = [\"sre\"]\nwait = \"1m\""), "escalation: policy `p`: level 1: `sre` is neither a [[groups]] name"),
        (policy("[[escalation.levels]]\npage = [\"@dan\"]\nwait = \"1m\""), "escalation: policy `p`: level 1: `@dan` is not a Matrix user ID"),
        (policy("[[escalation.levels]]\npage = [\"dba\"]\nwait = \"soon\""), "invalid value"),
        (format!("{TEAMS}[[escalation]]\nname = \"dba\"\n[[escalation.levels]]\npage = [\"dba\"]\nwait = \"1m\""), "escalation: policy `dba`: a [[groups]] entry has the same name"),
        (format!("{TEAMS}escalation = \"nope\""), "oncall: team `db`: escalation: no [[escalation]] policy named `nope`: none are configured"),
        (format!("{SMTP}{}", policy("[[escalation.levels]]\npage = [\"dba\"]\nwait = \"1m\"")), "escalation: policy `p`: level 1: notify_after (2m) is not shorter than its wait (1m)"),
        (format!("{SMTP}[[notify.people]]\nuser = \"@dan:x\"\nemail = \"dan@\""), "notify.people: @dan:x: `dan@` is not an email address"),
        ("[[notify.people]]\nuser = \"@dan:x\"\nemail = \"dan@x.org\"".to_owned(), "notify.people: @dan:x has an email address, but [notify.email] is not set"),
        (format!("{SMTP}[[notify.people]]\nuser = \"@dan:x\"\n[[notify.people]]\nuser = \"@dan:x\""), "notify.people: @dan:x is listed twice"),
        ("[notify.email]\nsmtp = \"http://mail\"\nfrom = \"b@x.org\"".to_owned(), "notify.email.smtp: `http` is not an smtp:// or smtps:// URL"),
        ("[notify.email]\nsmtp = \"smtp://me:secret@mail\"\nfrom = \"b@x.org\"".to_owned(), "notify.email.smtp: holds a login"),
        ("[notify.email]\nsmtp = \"smtp://mail\"\nfrom = \"Brigade\"".to_owned(), "notify.email.from: `Brigade` is not a mailbox"),
        ("[notify.email]\nsmtp = \"smtp://mail\"\nfrom = \"b@x.org\"\nusername = \"b\"".to_owned(), "notify.email.username: set both `username` and `password_file`"),
        ("[[routes]]\nkeywords = [\"dns\"]\nescalation = \"nope\"".to_owned(), "routes: escalation: no [[escalation]] policy named `nope`"),
        ("[[notify.people]]\nuser = \"@dan:x\"\nntfy = \"dan\"".to_owned(), "notify.people: @dan:x has an ntfy topic, but [notify.ntfy] is not set"),
        (format!("{NTFY}[[notify.people]]\nuser = \"@dan:x\"\nntfy = \"https://ntfy.sh/dan\""), "notify.people: @dan:x: `https://ntfy.sh/dan` is not a topic on this bot's ntfy server, https://ntfy.example.org"),
        (format!("{NTFY}[[notify.people]]\nuser = \"@dan:x\"\nntfy = \"dan/pages\""), "notify.people: @dan:x: `dan/pages` is not an ntfy topic"),
        ("[notify.ntfy]\nurl = \"ftp://ntfy\"".to_owned(), "notify.ntfy.url: `ftp` is not an http:// or https:// URL"),
        ("[notify.ntfy]\nurl = \"https://tk:secret@ntfy\"".to_owned(), "notify.ntfy.url: holds a login"),
        ("[notify.ntfy]\nurl = \"https://ntfy\"\ntoken_file = \"missing\"".to_owned(), "notify.ntfy.token_file: cannot read missing"),
        ("[[notify.people]]\nuser = \"@dan:x\"\nphone = \"+442079460958\"".to_owned(), "notify.people: @dan:x has a phone number, but [notify.webhook] is not set"),
        (format!("{HOOK}[[notify.people]]\nuser = \"@dan:x\"\nphone = \"07946 0958\""), "notify.people: @dan:x: `07946 0958` is not a phone number in international form"),
        ("[notify.webhook]\nurl = \"https://sms\"\nsecret_file = \"weak-secret\"".to_owned(), "notify.webhook.secret_file: weak-secret does not hold a Standard Webhooks secret"),
        ("[notify.webhook]\nurl = \"https://sms\"".to_owned(), "missing field `secret_file`"),
    ];
    for (extra, expected) in cases {
        Jail::expect_with(|jail| {
            jail.create_file("hook-secret", HOOK_SECRET)?;
            jail.create_file("weak-secret", "whsec_c2hvcnQ=")?;
            let error = load_in_jail(jail, &format!("{MINIMAL}\n{extra}"))
                .expect_err(&extra)
                .to_string();
            assert!(error.contains(expected), "{extra}: {error}");
            Ok(())
        });
    }
}

/// A Standard Webhooks secret: `whsec_` and the base64 of 32 bytes.
const HOOK_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw9ax4QBZpwFg=\n";

#[test]
fn each_person_has_a_topic_on_the_ntfy_server_and_a_phone_number_for_the_gateway() {
    Jail::expect_with(|jail| {
        jail.create_file("hook-secret", HOOK_SECRET)?;
        jail.create_file("ntfy-token", "tk_abc\n")?;
        let config = load_in_jail(
            jail,
            &format!(
                "{MINIMAL}\n[notify.ntfy]\nurl = \"https://ntfy.example.org/\"\ntoken_file = \"ntfy-token\"\n\
                 [notify.webhook]\nurl = \"https://sms.example.org/brigade\"\nsecret_file = \"hook-secret\"\n\
                 [[notify.people]]\nuser = \"@dan:x\"\nntfy = \"https://ntfy.example.org/dan-pages\"\nphone = \"+44 20 7946 0958\"\n"
            ),
        )
        .expect("valid");
        let notify = &config.notify;
        assert!(notify.any());
        assert_eq!(
            notify
                .ntfy
                .as_ref()
                .and_then(|ntfy| ntfy.token.as_ref())
                .map(|token| token.expose()),
            Some("tk_abc")
        );
        let dan = notify
            .person(matrix_sdk::ruma::user_id!("@dan:x"))
            .expect("dan");
        assert_eq!(dan.ntfy.as_deref(), Some("dan-pages"));
        assert_eq!(dan.phone.as_deref(), Some("+442079460958"));
        assert_eq!(dan.email, None);
        Ok(())
    });
}

#[test]
fn room_aliases_default_to_the_spec_and_bad_ones_are_refused() {
    Jail::expect_with(|jail| {
        let config = load_in_jail(jail, MINIMAL).expect("valid");
        assert_eq!(config.rooms.space, "incidents");
        assert_eq!(config.rooms.announcements, "incidents-announce");
        let toml = format!("{MINIMAL}\n[rooms]\ntriage = \"tri age:x\"\n");
        let error = load_in_jail(jail, &toml).expect_err("refused");
        assert!(
            matches!(error, ConfigError::RoomAlias { key: "triage", .. }),
            "{error}"
        );
        Ok(())
    });
}

#[test]
fn the_public_status_room_never_takes_a_standard_rooms_alias() {
    Jail::expect_with(|jail| {
        let toml = format!(
            "{MINIMAL}\n[rooms]\nprivate_triage = \"secret\"\n[status]\nroom = \"secret\"\n"
        );
        let error = load_in_jail(jail, &toml).expect_err("refused");
        assert!(
            error
                .to_string()
                .starts_with("status.room: `secret` is the alias of a standard room"),
            "{error}"
        );
        Ok(())
    });
}

#[test]
fn a_password_of_the_wrong_type_is_refused_without_showing_it() {
    Jail::expect_with(|jail| {
        jail.set_env("BRIGADE_MATRIX__PASSWORD", "31415926");
        let error = load_in_jail(jail, MINIMAL)
            .expect_err("a number")
            .to_string();
        assert!(error.to_lowercase().contains("matrix.password"), "{error}");
        assert!(!error.contains("31415926"), "{error}");
        Ok(())
    });
}

#[test]
fn secrets_never_show_in_debug_output() {
    Jail::expect_with(|jail| {
        let config = load_in_jail(jail, MINIMAL).expect("valid");
        assert!(!format!("{config:?}").contains("hunter2"));
        Ok(())
    });
}
