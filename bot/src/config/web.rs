//! `[web]`: the pages people open in a browser or as Element widgets (SPEC §10).

use std::{net::SocketAddr, time::Duration};

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
}

/// `[web]`
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// Where people's browsers reach the bot's pages (links in messages, widget URLs; cookies
    /// are `Secure` when it is `https`).
    pub public_url: Url,
    /// Where people's browsers reach the homeserver to sign in.
    pub homeserver_url: Url,
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
}

impl RawWeb {
    /// Pages default to the listening address and the bot's own homeserver URL.
    pub(super) fn validate(
        self,
        listen: SocketAddr,
        homeserver_url: &Url,
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
        for (key, url) in [
            ("public_url", &public_url),
            (
                "homeserver_url",
                self.homeserver_url.as_ref().unwrap_or(homeserver_url),
            ),
        ] {
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
            homeserver_url: self
                .homeserver_url
                .unwrap_or_else(|| homeserver_url.clone()),
            session_lifetime,
            widgets: self.widgets.unwrap_or(true),
            element_origins,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn validate(raw: RawWeb) -> Result<WebConfig, ConfigError> {
        let homeserver = Url::parse("http://synapse:8008").expect("url");
        raw.validate("127.0.0.1:9100".parse().expect("address"), &homeserver)
    }

    #[test]
    fn defaults_follow_the_listener_and_the_homeserver() {
        let web = validate(RawWeb::default()).expect("valid");
        assert_eq!(web.public_url.as_str(), "http://127.0.0.1:9100/");
        assert_eq!(web.homeserver_url.as_str(), "http://synapse:8008/");
        assert!(!web.secure());
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
