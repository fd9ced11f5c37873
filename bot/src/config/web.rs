//! `[web]`: the pages people open in a browser or as Element widgets (SPEC §10).

use std::{net::SocketAddr, time::Duration};

use matrix_sdk::ruma::{OwnedServerName, ServerName};
use serde::Deserialize;
use url::Url;

use super::error::ConfigError;

/// A signed-in page stays signed in this long, then asks again.
const DEFAULT_SESSION_LIFETIME: Duration = Duration::from_secs(60 * 60);
/// Longer than a working day is no longer short-lived.
const MAX_SESSION_LIFETIME: Duration = Duration::from_secs(12 * 60 * 60);

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawWeb {
    public_url: Option<Url>,
    homeserver_url: Option<Url>,
    #[serde(default, with = "humantime_serde")]
    session_lifetime: Option<Duration>,
    widgets: Option<bool>,
    element_origins: Option<Vec<Url>>,
    homeservers: Option<Vec<RawHomeserver>>,
}

/// `[[web.homeservers]]`: another allowed server whose people sign in on the standalone pages.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawHomeserver {
    server: OwnedServerName,
    url: Url,
    federation_url: Option<Url>,
}

/// A homeserver whose people sign in on the standalone pages.
#[derive(Debug, Clone)]
pub struct SignInServer {
    /// Its server name, the part after `:` in its people's IDs.
    pub server: OwnedServerName,
    /// Where its people's browsers reach it to sign in.
    pub url: Url,
    /// Where the bot asks it whose a sign-in token is, when not at its federation address:
    /// the bot's own homeserver at `matrix.homeserver_url`, another where the operator named
    /// one. Asked even at an internal address, since the operator chose it.
    pub userinfo_url: Option<Url>,
}

/// `[web]`
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// Where people's browsers reach the bot's pages (links in messages, widget URLs; cookies
    /// are `Secure` when it is `https`).
    pub public_url: Url,
    /// The homeservers whose people sign in on the standalone pages: the bot's own first
    /// (at `web.homeserver_url`), then those of `[[web.homeservers]]`.
    pub homeservers: Vec<SignInServer>,
    /// How long a page stays signed in.
    pub session_lifetime: Duration,
    /// Whether the bot adds the report form to triage and the panel to incident rooms.
    pub widgets: bool,
    /// The origins (`https://element.example.org`) that may show the pages as widgets; any
    /// when empty.
    pub element_origins: Vec<String>,
}

impl WebConfig {
    /// Whether pages are served over HTTPS, so cookies may be marked `Secure`.
    pub fn secure(&self) -> bool {
        self.public_url.scheme() == "https"
    }

    /// Where the bot's own people sign in.
    pub fn homeserver_url(&self) -> &Url {
        &self.homeservers[0].url
    }
}

impl RawWeb {
    /// Pages default to the listening address and the bot's own homeserver (`own`, reached by
    /// the bot at `homeserver_url`); other homeservers must be of `allowed` servers.
    pub(super) fn validate(
        self,
        listen: SocketAddr,
        own: &ServerName,
        homeserver_url: &Url,
        allowed: &[OwnedServerName],
    ) -> Result<WebConfig, ConfigError> {
        let invalid = |key, reason: &str| ConfigError::Web {
            key,
            reason: reason.to_owned(),
        };
        let public_url = match self.public_url {
            Some(url) => url,
            None => Url::parse(&format!("http://{listen}/"))
                .map_err(|_| invalid("public_url", "set it: the listening address makes no URL"))?,
        };
        let mut homeservers = vec![SignInServer {
            server: own.to_owned(),
            url: self
                .homeserver_url
                .unwrap_or_else(|| homeserver_url.clone()),
            userinfo_url: Some(homeserver_url.clone()),
        }];
        for raw in self.homeservers.unwrap_or_default() {
            let server = &raw.server;
            let refused = |reason: String| invalid("homeservers", &reason);
            if server == own {
                return Err(refused(format!(
                    "{server} is the bot's own server: its sign-in is web.homeserver_url"
                )));
            }
            if !allowed.contains(server) {
                return Err(refused(format!(
                    "{server} is not one of access.allowed_servers, so its people could not sign in"
                )));
            }
            if homeservers.iter().any(|known| &known.server == server) {
                return Err(refused(format!("{server} is named twice")));
            }
            // What answers there is believed about who its people are: not over plain HTTP
            // across a network.
            if let Some(url) = &raw.federation_url {
                if url.scheme() == "http" && !on_this_network(url) {
                    return Err(refused(format!(
                        "{server}: federation_url must be https unless it is a loopback or private address"
                    )));
                }
            }
            homeservers.push(SignInServer {
                server: raw.server,
                url: raw.url,
                userinfo_url: raw.federation_url,
            });
        }
        let mut urls = vec![
            ("public_url", &public_url),
            ("homeserver_url", &homeservers[0].url),
        ];
        for homeserver in &homeservers[1..] {
            urls.push(("homeservers", &homeserver.url));
            urls.extend(
                homeserver
                    .userinfo_url
                    .iter()
                    .map(|url| ("homeservers", url)),
            );
        }
        for (key, url) in urls {
            if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
                return Err(invalid(key, "must be an http or https URL with a host"));
            }
        }
        if public_url.query().is_some() || public_url.fragment().is_some() {
            return Err(invalid("public_url", "must not have a query or a fragment"));
        }
        // The pages link to each other from the root (`/report`, `/assets/…`).
        if public_url.path() != "/" {
            return Err(invalid(
                "public_url",
                "the pages are served at the root of their host: give no path (a proxy may serve them under a host of their own)",
            ));
        }
        let session_lifetime = self.session_lifetime.unwrap_or(DEFAULT_SESSION_LIFETIME);
        if session_lifetime.is_zero() || session_lifetime > MAX_SESSION_LIFETIME {
            return Err(invalid(
                "session_lifetime",
                "must be longer than zero and at most 12h",
            ));
        }
        let mut element_origins = Vec::new();
        for url in self.element_origins.unwrap_or_default() {
            let origin = url.origin();
            if !origin.is_tuple() {
                return Err(invalid(
                    "element_origins",
                    "each must be an http or https URL",
                ));
            }
            element_origins.push(origin.ascii_serialization());
        }
        Ok(WebConfig {
            public_url,
            homeservers,
            session_lifetime,
            widgets: self.widgets.unwrap_or(true),
            element_origins,
        })
    }
}

/// Whether `url`'s host is this machine or a private network address.
fn on_this_network(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback() || ip.is_private(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback() || ip.is_unique_local(),
        Some(url::Host::Domain(name)) => name == "localhost",
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use matrix_sdk::ruma::server_name;

    use super::*;

    fn validate(raw: RawWeb) -> Result<WebConfig, ConfigError> {
        let homeserver = Url::parse("http://synapse:8008").expect("url");
        raw.validate(
            "127.0.0.1:9100".parse().expect("address"),
            server_name!("example.org"),
            &homeserver,
            &[
                server_name!("example.org").to_owned(),
                server_name!("partner.example").to_owned(),
            ],
        )
    }

    fn partner(server: &str, url: &str) -> RawHomeserver {
        RawHomeserver {
            server: server.try_into().expect("server name"),
            url: Url::parse(url).expect("url"),
            federation_url: None,
        }
    }

    #[test]
    fn defaults_follow_the_listener_and_the_homeserver() {
        let web = validate(RawWeb::default()).expect("valid");
        assert_eq!(web.public_url.as_str(), "http://127.0.0.1:9100/");
        assert_eq!(web.homeserver_url().as_str(), "http://synapse:8008/");
        assert_eq!(web.homeservers.len(), 1);
        assert_eq!(
            web.homeservers[0].userinfo_url.as_ref().map(Url::as_str),
            Some("http://synapse:8008/")
        );
        assert!(!web.secure());
    }

    #[test]
    fn other_allowed_servers_sign_in_where_they_are_named() {
        let web = validate(RawWeb {
            homeserver_url: Some(Url::parse("https://matrix.example.org").expect("url")),
            homeservers: Some(vec![partner(
                "partner.example",
                "https://matrix.partner.example",
            )]),
            ..RawWeb::default()
        })
        .expect("valid");
        let servers: Vec<_> = web
            .homeservers
            .iter()
            .map(|homeserver| (homeserver.server.as_str(), homeserver.url.as_str()))
            .collect();
        assert_eq!(
            servers,
            [
                ("example.org", "https://matrix.example.org/"),
                ("partner.example", "https://matrix.partner.example/")
            ]
        );
        // The bot still asks its own server at the address it uses itself.
        assert_eq!(
            web.homeservers[0].userinfo_url.as_ref().map(Url::as_str),
            Some("http://synapse:8008/")
        );
        assert!(web.homeservers[1].userinfo_url.is_none());
    }

    #[test]
    fn refuses_homeservers_that_could_not_sign_anyone_in() {
        for (homeservers, reason) in [
            (
                vec![partner(
                    "elsewhere.example",
                    "https://matrix.elsewhere.example",
                )],
                "elsewhere.example is not one of access.allowed_servers",
            ),
            (
                vec![partner("example.org", "https://matrix.example.org")],
                "example.org is the bot's own server",
            ),
            (
                vec![
                    partner("partner.example", "https://a.partner.example"),
                    partner("partner.example", "https://b.partner.example"),
                ],
                "partner.example is named twice",
            ),
            (
                vec![partner("partner.example", "file:///etc/passwd")],
                "must be an http or https URL",
            ),
            (
                vec![RawHomeserver {
                    federation_url: Some(
                        Url::parse("http://matrix.partner.example:8448").expect("url"),
                    ),
                    ..partner("partner.example", "https://matrix.partner.example")
                }],
                "federation_url must be https",
            ),
        ] {
            let error = validate(RawWeb {
                homeservers: Some(homeservers),
                ..RawWeb::default()
            })
            .expect_err("refused");
            assert!(
                matches!(
                    &error,
                    ConfigError::Web {
                        key: "homeservers",
                        ..
                    }
                ) && error.to_string().contains(reason),
                "{error}"
            );
        }
    }

    #[test]
    fn refuses_what_no_browser_could_use() {
        let url = |text: &str| Some(Url::parse(text).expect("url"));
        for (raw, key) in [
            (
                RawWeb {
                    public_url: url("ftp://example.org/"),
                    ..RawWeb::default()
                },
                "public_url",
            ),
            (
                RawWeb {
                    public_url: url("https://example.org/?x=1"),
                    ..RawWeb::default()
                },
                "public_url",
            ),
            (
                RawWeb {
                    public_url: url("https://example.org/brigade/"),
                    ..RawWeb::default()
                },
                "public_url",
            ),
            (
                RawWeb {
                    homeserver_url: url("mailto:a@example.org"),
                    ..RawWeb::default()
                },
                "homeserver_url",
            ),
            (
                RawWeb {
                    session_lifetime: Some(Duration::from_secs(13 * 3600)),
                    ..RawWeb::default()
                },
                "session_lifetime",
            ),
        ] {
            let error = validate(raw).expect_err("refused");
            assert!(
                matches!(&error, ConfigError::Web { key: refused, .. } if *refused == key),
                "{error}"
            );
        }
    }
}
