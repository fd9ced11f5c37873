//! An SMS and voice gateway's receiving end, for the signed webhook of notifications outside
//! Matrix: it keeps every request as it came (headers and body) for the tests to verify with
//! the Standard Webhooks authors' own library, as a gateway would, and can refuse the first
//! ones to show retries.

use std::{
    net::{Ipv4Addr, SocketAddr},
    sync::{Arc, Mutex},
};

use anyhow::Result;
use axum::{
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode},
    Router,
};
use brigade_core::sync::lock;

/// One request as received.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// Its headers.
    pub headers: HeaderMap,
    /// Its body.
    pub body: Bytes,
}

#[derive(Debug)]
struct Shared {
    refuse: Mutex<usize>,
    received: Mutex<Vec<Delivery>>,
}

/// A running gateway.
#[derive(Debug, Clone)]
pub struct Gateway {
    /// Where it is posted to.
    pub url: String,
    shared: Arc<Shared>,
}

impl Gateway {
    /// Starts one on a free loopback port that answers its first `refuse` requests with 503.
    pub async fn start(refuse: usize) -> Result<Self> {
        let listener =
            tokio::net::TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).await?;
        let url = format!("http://{}/hooks/brigade", listener.local_addr()?);
        let shared = Arc::new(Shared {
            refuse: Mutex::new(refuse),
            received: Mutex::default(),
        });
        let router = Router::new()
            .route("/hooks/brigade", axum::routing::post(receive))
            .with_state(shared.clone());
        tokio::spawn(async move { axum::serve(listener, router).await });
        Ok(Self { url, shared })
    }

    /// Every request so far, refused ones too.
    pub fn received(&self) -> Vec<Delivery> {
        lock(&self.shared.received).clone()
    }
}

async fn receive(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, &'static str) {
    lock(&shared.received).push(Delivery { headers, body });
    let mut refuse = lock(&shared.refuse);
    if *refuse > 0 {
        *refuse -= 1;
        return (StatusCode::SERVICE_UNAVAILABLE, "the SMS provider is down");
    }
    (StatusCode::NO_CONTENT, "")
}
