//! `[calls]`: where `!inc call` puts the incident's call.

use serde::Deserialize;
use url::Url;

use super::error::ConfigError;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCalls {
    jitsi_domain: Option<String>,
    element_call_url: Option<Url>,
}

/// `[calls]`
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallsConfig {
    /// The Jitsi Meet server conferences are held on (`meet.example.org`).
    pub jitsi_domain: Option<String>,
    /// Element Call's address (`https://call.example.org`): where set, calls are held there.
    pub element_call_url: Option<Url>,
}

impl RawCalls {
    pub(super) fn validate(self) -> Result<CallsConfig, ConfigError> {
        let refused = |key, reason| ConfigError::Calls { key, reason };
        if let Some(domain) = &self.jitsi_domain {
            // A host (and port) only: Element builds the conference's address from it.
            let plain = domain
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c));
            let host = Url::parse(&format!("https://{domain}/"))
                .ok()
                .filter(|url| plain && url.host_str().is_some());
            if host.is_none() {
                return Err(refused(
                    "jitsi_domain",
                    format!(
                        "`{domain}` is not a host name: give the Jitsi server's name alone, \
                         such as `meet.example.org`"
                    ),
                ));
            }
        }
        if let Some(url) = &self.element_call_url {
            let secure = url.scheme() == "https"
                || (url.scheme() == "http"
                    && url.host_str().is_some_and(|host| {
                        host == "localhost"
                            || host
                                .parse::<std::net::IpAddr>()
                                .is_ok_and(|ip| ip.is_loopback())
                    }));
            if !secure || url.query().is_some() || url.fragment().is_some() {
                return Err(refused(
                    "element_call_url",
                    format!(
                        "`{url}` is not Element Call's address: give an https:// URL without \
                         a query or fragment"
                    ),
                ));
            }
        }
        // A folder: the call's page is under it, not beside it.
        let element_call_url = self.element_call_url.map(|mut url| {
            if !url.path().ends_with('/') {
                url.set_path(&format!("{}/", url.path()));
            }
            url
        });
        Ok(CallsConfig {
            jitsi_domain: self.jitsi_domain.map(|domain| domain.to_ascii_lowercase()),
            element_call_url,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(jitsi: Option<&str>, element: Option<&str>) -> RawCalls {
        RawCalls {
            jitsi_domain: jitsi.map(str::to_owned),
            element_call_url: element.map(|url| Url::parse(url).expect("a URL")),
        }
    }

    #[test]
    fn calls_go_to_a_jitsi_host_or_an_element_call_address() {
        let config = raw(Some("Meet.Example.org"), Some("https://call.example.org/"))
            .validate()
            .expect("valid");
        assert_eq!(config.jitsi_domain.as_deref(), Some("meet.example.org"));
        let under = raw(None, Some("https://example.org/call"))
            .validate()
            .expect("valid");
        assert_eq!(
            under.element_call_url.map(String::from).as_deref(),
            Some("https://example.org/call/")
        );
        assert!(
            raw(Some("meet.example.org:8443"), Some("http://127.0.0.1:8080"))
                .validate()
                .is_ok()
        );
        assert_eq!(
            raw(None, None).validate().expect("valid"),
            CallsConfig::default()
        );
        for (jitsi, element, said) in [
            (
                Some("https://meet.example.org"),
                None,
                "calls.jitsi_domain: `https://meet.example.org` is not a host name",
            ),
            (Some("meet.example.org/room"), None, "is not a host name"),
            (Some(""), None, "is not a host name"),
            (Some("meet example"), None, "is not a host name"),
            (
                None,
                Some("http://call.example.org/"),
                "calls.element_call_url: `http://call.example.org/`",
            ),
            (
                None,
                Some("https://call.example.org/?x=1"),
                "without a query",
            ),
            (
                None,
                Some("https://call.example.org/#room"),
                "without a query",
            ),
        ] {
            let error = raw(jitsi, element).validate().expect_err(said);
            assert!(error.to_string().contains(said), "{error}");
        }
    }
}
