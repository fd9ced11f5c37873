//! Who is asking: an OpenID token from the person's homeserver, exchanged for their user ID
//! with that homeserver (`/_matrix/federation/v1/openid/userinfo`). The token says nothing by
//! itself; only the homeserver that issued it can say whose it is.
//!
//! The lookup goes to a server the token's sender names, so it is fenced: only servers in
//! `access.allowed_servers` are asked, and never at an internal address (loopback, private,
//! link-local …) unless the operator named the address: the bot's own homeserver at its
//! configured URL, another at its `web.homeservers` `federation_url`. Names
//! are resolved once by a resolver that drops internal addresses, so a name cannot point
//! somewhere else between the check and the connection, and redirects are not followed.

use std::{
    net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr},
    sync::Arc,
    time::Duration,
};

use matrix_sdk::ruma::{
    api::{IncomingResponse, OutgoingRequest},
    OwnedServerName, OwnedUserId, ServerName,
};
use ruma_federation_api::openid::get_openid_userinfo::v1 as userinfo;
use url::Url;

/// A lookup that takes longer than this has failed.
const TIMEOUT: Duration = Duration::from_secs(10);
/// The federation port when a server names none (and delegates nowhere).
const FEDERATION_PORT: u16 = 8448;

/// Why a token was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// The server is not one whose users may use the bot.
    #[error("{0} is not a server whose users may use Brigade here")]
    NotAllowed(OwnedServerName),
    /// The server resolves only to internal addresses.
    #[error("{0} resolves to an internal address, which Brigade does not ask")]
    Internal(String),
    /// The homeserver could not be asked (the reason is logged, not shown: it would tell a
    /// stranger what answers at an address).
    #[error("{server} could not be asked whose the token is; try again later")]
    Unreachable {
        /// The server.
        server: OwnedServerName,
        /// What went wrong.
        reason: String,
    },
    /// The homeserver does not know the token (or it expired).
    #[error("{0} does not know this token (it may have expired): sign in again")]
    Refused(OwnedServerName),
    /// The homeserver vouched for a user of another server.
    #[error("{server} vouched for {user_id}, who is not one of its users")]
    Mismatch {
        /// The server asked.
        server: OwnedServerName,
        /// Whom it named.
        user_id: OwnedUserId,
    },
}

/// Exchanges OpenID tokens for user IDs.
#[derive(Debug, Clone)]
pub struct Verifier {
    allowed: Vec<OwnedServerName>,
    /// Servers asked where the operator said (the bot's own at its often internal address).
    named: Vec<(OwnedServerName, Url)>,
    /// For the servers at the addresses the operator named.
    direct: reqwest::Client,
    /// For every other server: internal addresses refused, no proxy, no redirects.
    guarded: reqwest::Client,
}

impl Verifier {
    /// A verifier for users of `allowed`; the `named` servers are asked at the URL given with
    /// each, the others at their federation address.
    pub fn new(allowed: Vec<OwnedServerName>, named: Vec<(OwnedServerName, Url)>) -> Self {
        let builder = || {
            reqwest::Client::builder()
                .timeout(TIMEOUT)
                .redirect(reqwest::redirect::Policy::none())
                .user_agent(concat!("brigade-bot/", env!("CARGO_PKG_VERSION")))
        };
        Self {
            allowed,
            named,
            direct: builder().build().unwrap_or_default(),
            guarded: builder()
                .no_proxy()
                .dns_resolver(Arc::new(GlobalOnly))
                .build()
                .unwrap_or_default(),
        }
    }

    /// The user whose token `access_token` is, as `server` (which issued it) says.
    pub async fn verify(
        &self,
        server: &ServerName,
        access_token: &str,
    ) -> Result<OwnedUserId, VerifyError> {
        if !self.allowed.iter().any(|allowed| allowed == server) {
            return Err(VerifyError::NotAllowed(server.to_owned()));
        }
        let unreachable = |reason: String| VerifyError::Unreachable {
            server: server.to_owned(),
            reason,
        };
        let named = self.named.iter().find(|(named, _)| named == server);
        let (base, client) = match named {
            Some((_, url)) => (url.clone(), &self.direct),
            None => (self.federation_url(server).await?, &self.guarded),
        };
        let request = userinfo::Request::new(access_token.to_owned())
            .try_into_http_request::<Vec<u8>>(base.as_str().trim_end_matches('/'), (), ())
            .map_err(|error| unreachable(error.to_string()))?;
        let request =
            reqwest::Request::try_from(request).map_err(|error| unreachable(error.to_string()))?;
        let response = client
            .execute(request)
            .await
            .map_err(|error| unreachable(error.without_url().to_string()))?;
        let status = response.status();
        let body = response
            .bytes()
            .await
            .map_err(|error| unreachable(error.without_url().to_string()))?;
        if status == reqwest::StatusCode::UNAUTHORIZED || status == reqwest::StatusCode::FORBIDDEN {
            return Err(VerifyError::Refused(server.to_owned()));
        }
        let mut answer = axum::http::Response::new(body.to_vec());
        *answer.status_mut() = status;
        let user_id = userinfo::Response::try_from_http_response(answer)
            .map_err(|error| unreachable(format!("answered {status}: {error}")))?
            .sub;
        if user_id.server_name() != server {
            return Err(VerifyError::Mismatch {
                server: server.to_owned(),
                user_id,
            });
        }
        Ok(user_id)
    }

    /// Where `server` serves the federation API: the server name itself when it names a port
    /// or is an address, else its `/.well-known/matrix/server` delegation, else port 8448.
    /// (SRV records are not looked up: a server that relies on them alone is not reached.)
    async fn federation_url(&self, server: &ServerName) -> Result<Url, VerifyError> {
        let unreachable = |reason: String| VerifyError::Unreachable {
            server: server.to_owned(),
            reason,
        };
        let host = server.host();
        let delegated = if server.port().is_some() || host.parse::<IpAddr>().is_ok() {
            None
        } else {
            self.delegation(server).await
        };
        let target = delegated.unwrap_or_else(|| server.to_string());
        let with_port = if target
            .rsplit_once(':')
            .is_some_and(|(_, port)| port.parse::<u16>().is_ok() && !target.ends_with(']'))
        {
            target
        } else {
            format!("{target}:{FEDERATION_PORT}")
        };
        let url = Url::parse(&format!("https://{with_port}/"))
            .map_err(|error| unreachable(error.to_string()))?;
        fenced(&url, server)?;
        Ok(url)
    }

    /// The `m.server` of `server`'s well-known document, if it has a usable one.
    async fn delegation(&self, server: &ServerName) -> Option<String> {
        #[derive(serde::Deserialize)]
        struct WellKnown {
            #[serde(rename = "m.server")]
            server: String,
        }
        let url = Url::parse(&format!(
            "https://{}/.well-known/matrix/server",
            server.host()
        ))
        .ok()?;
        fenced(&url, server).ok()?;
        let response = self.guarded.get(url).send().await.ok()?;
        if !response.status().is_success() {
            return None;
        }
        let body = response.bytes().await.ok()?;
        let known: WellKnown = serde_json::from_slice(&body).ok()?;
        let usable = !known.server.is_empty()
            && known
                .server
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c));
        usable.then_some(known.server)
    }
}

/// `url`, unless its host is an address off the public internet. Names go through
/// [`GlobalOnly`]; an address (however written: the URL parser reads `2130706433` and `0x7f.1`
/// as IPv4) is never resolved, so it is checked here.
fn fenced(url: &Url, server: &ServerName) -> Result<(), VerifyError> {
    let ip = match url.host() {
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip),
        Some(url::Host::Domain(_)) => return Ok(()),
        None => return Err(VerifyError::Internal(server.to_string())),
    };
    if is_global(ip) {
        Ok(())
    } else {
        Err(VerifyError::Internal(server.to_string()))
    }
}

/// A resolver that answers only with addresses on the public internet.
#[derive(Debug)]
struct GlobalOnly;

impl reqwest::dns::Resolve for GlobalOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|address| is_global(address.ip()))
                .collect();
            if found.is_empty() {
                return Err(VerifyError::Internal(host).into());
            }
            let addresses: reqwest::dns::Addrs = Box::new(found.into_iter());
            Ok(addresses)
        })
    }
}

/// Whether `ip` is an address on the public internet (not loopback, private, link-local,
/// shared, documentation, benchmarking, multicast, reserved or unspecified).
pub fn is_global(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(ip) => is_global_v4(ip),
        IpAddr::V6(ip) => {
            if let Some(mapped) = ip.to_ipv4_mapped() {
                return is_global_v4(mapped);
            }
            let segments = ip.segments();
            let nat64 = segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0];
            if nat64 {
                let [a, b] = segments[6].to_be_bytes();
                let [c, d] = segments[7].to_be_bytes();
                return is_global_v4(Ipv4Addr::new(a, b, c, d));
            }
            !(ip.is_loopback()
                || ip.is_unspecified()
                || ip.is_multicast()
                || ip.is_unique_local()
                || ip.is_unicast_link_local()
                || segments[0] == 0x2001 && segments[1] == 0x0db8
                || ip == Ipv6Addr::UNSPECIFIED)
        }
    }
}

fn is_global_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    !(ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_documentation()
        || ip.is_unspecified()
        || ip.is_multicast()
        || a == 0
        || a >= 240
        || a == 100 && (64..128).contains(&b)
        || a == 192 && b == 0 && ip.octets()[2] == 0
        || a == 198 && (18..20).contains(&b))
}

#[cfg(test)]
mod tests {
    use matrix_sdk::ruma::server_name;

    use super::*;

    fn verifier() -> Verifier {
        Verifier::new(
            vec![
                server_name!("example.org").to_owned(),
                server_name!("127.0.0.5:8448").to_owned(),
                server_name!("10.1.2.3").to_owned(),
                server_name!("partner.example").to_owned(),
            ],
            vec![
                (
                    server_name!("example.org").to_owned(),
                    Url::parse("http://127.0.0.1:1/").expect("url"),
                ),
                (
                    server_name!("partner.example").to_owned(),
                    Url::parse("http://127.0.0.2:1/").expect("url"),
                ),
            ],
        )
    }

    #[test]
    fn internal_addresses_are_not_global() {
        for internal in [
            "127.0.0.1",
            "10.0.0.1",
            "172.16.5.4",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "240.0.0.1",
            "192.0.0.8",
            "198.18.0.1",
            "::1",
            "::",
            "fc00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "64:ff9b::a00:1",
            "2001:db8::1",
            "ff02::1",
        ] {
            assert!(!is_global(internal.parse().expect("address")), "{internal}");
        }
        for global in [
            "93.184.215.14",
            "1.1.1.1",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
        ] {
            assert!(is_global(global.parse().expect("address")), "{global}");
        }
    }

    #[tokio::test]
    async fn only_allowed_servers_are_asked() {
        let error = verifier()
            .verify(server_name!("evil.example"), "token")
            .await
            .expect_err("refused");
        assert!(matches!(error, VerifyError::NotAllowed(_)), "{error}");
    }

    #[tokio::test]
    async fn an_allowed_server_at_an_internal_address_is_not_asked() {
        for server in [server_name!("127.0.0.5:8448"), server_name!("10.1.2.3")] {
            let error = verifier()
                .verify(server, "token")
                .await
                .expect_err("refused");
            assert!(
                matches!(error, VerifyError::Internal(_)),
                "{server}: {error}"
            );
        }
    }

    #[test]
    fn addresses_however_written_are_fenced() {
        let server = server_name!("example.org");
        for url in [
            "https://127.0.0.1:8448/",
            "https://[::1]:80/",
            "https://2130706433:8448/",
            "https://0x7f.1/",
            "https://10.0.0.1/",
        ] {
            let url = Url::parse(url).expect("url");
            assert!(
                matches!(fenced(&url, server), Err(VerifyError::Internal(_))),
                "{url}"
            );
        }
        for url in ["https://matrix.example.org:8448/", "https://1.1.1.1/"] {
            assert!(
                fenced(&Url::parse(url).expect("url"), server).is_ok(),
                "{url}"
            );
        }
    }

    #[tokio::test]
    async fn names_resolving_to_internal_addresses_are_refused_by_the_resolver() {
        use reqwest::dns::Resolve;
        let name = "localhost".parse().expect("a name");
        let error = GlobalOnly.resolve(name).await.err().expect("refused");
        assert!(error.to_string().contains("internal"), "{error}");
    }

    #[tokio::test]
    async fn named_homeservers_are_asked_at_their_configured_url() {
        // Nothing listens on port 1: each is asked there, internal or not.
        for server in [server_name!("example.org"), server_name!("partner.example")] {
            let error = verifier()
                .verify(server, "token")
                .await
                .expect_err("unreachable");
            assert!(
                matches!(error, VerifyError::Unreachable { .. }),
                "{server}: {error}"
            );
        }
    }
}
