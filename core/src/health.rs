//! `brigade-bot healthcheck` and `brigade-bridge healthcheck`: a container's `HEALTHCHECK`
//! asks the running program's `/healthz` and reports the answer as the exit status (0 healthy,
//! 1 not: the only two Docker gives a meaning), so the images need no HTTP client of their own.

use std::{
    net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr},
    process::ExitCode,
    time::Duration,
};

/// How long the program has to answer.
const TIMEOUT: Duration = Duration::from_secs(5);

/// Asks `/healthz` on `listen` (its loopback address when it listens on every address):
/// success when it answers 200, failure otherwise, with the reason on standard error.
pub fn check(program: &str, listen: SocketAddr) -> ExitCode {
    let url = healthz_url(listen);
    let answer = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| error.to_string())
        .and_then(|runtime| runtime.block_on(ask(&url)));
    match answer {
        Ok(()) => {
            println!("{program}: healthy ({url})");
            ExitCode::SUCCESS
        }
        Err(problem) => {
            eprintln!("{program}: unhealthy: {url}: {problem}");
            ExitCode::FAILURE
        }
    }
}

async fn ask(url: &str) -> Result<(), String> {
    // Never through a proxy the environment names for outbound traffic: this is loopback.
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(TIMEOUT)
        .build()
        .map_err(|error| error.to_string())?;
    let response = client
        .get(url)
        .send()
        .await
        .map_err(|error| error.to_string())?;
    let status = response.status();
    if status.is_success() {
        return Ok(());
    }
    let body = response.text().await.unwrap_or_default();
    Err(format!("{status}: {}", body.trim()))
}

fn healthz_url(listen: SocketAddr) -> String {
    let host = match listen.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    format!("http://{}/healthz", SocketAddr::new(host, listen.port()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_address_is_asked_on_loopback() {
        let url = |listen: &str| healthz_url(listen.parse().expect("an address"));
        assert_eq!(url("0.0.0.0:9100"), "http://127.0.0.1:9100/healthz");
        assert_eq!(url("[::]:9200"), "http://[::1]:9200/healthz");
        assert_eq!(url("10.0.0.5:9100"), "http://10.0.0.5:9100/healthz");
    }
}
