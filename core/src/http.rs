//! The HTTP server the bot and the bridge put their routers behind: what `axum::serve` leaves
//! open is bounded here. A connection has [`Limits::header_timeout`] from when it starts
//! waiting for a request to that request's headers, a request [`Limits::request_timeout`] to be read and answered (408 after), and at
//! most [`Limits::connections`] connections are served at once (more wait in the kernel's
//! backlog until one ends). Only HTTP/1.1: the homeserver, Prometheus and webhook senders speak
//! it.

use std::{future::Future, io, sync::Arc, time::Duration};

use axum::{http::StatusCode, Router};
use hyper::server::conn::http1;
use hyper_util::{
    rt::{TokioIo, TokioTimer},
    server::graceful::GracefulShutdown,
    service::TowerToHyperService,
};
use tokio::{net::TcpListener, sync::Semaphore};
use tower_http::timeout::TimeoutLayer;

/// What one peer may hold of the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Connections served at once.
    pub connections: usize,
    /// From when a connection waits for a request (its start, or the end of its last one) to
    /// that request's headers.
    pub header_timeout: Duration,
    /// From a request's headers to its answer, the body's reading included.
    pub request_timeout: Duration,
    /// How long connections still open at shutdown are given to finish.
    pub shutdown_grace: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            connections: 256,
            header_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            shutdown_grace: Duration::from_secs(5),
        }
    }
}

/// Serves `router` on `listener` within `limits` until `shutdown`, then lets open connections
/// finish their requests (for at most [`Limits::shutdown_grace`]).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    let router = router.layer(TimeoutLayer::with_status_code(
        StatusCode::REQUEST_TIMEOUT,
        limits.request_timeout,
    ));
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    let permits = Arc::new(Semaphore::new(limits.connections));
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            () = &mut shutdown => break,
            permit = permits.clone().acquire_owned() => permit.map_err(io::Error::other)?,
        };
        let stream = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                // Out of file descriptors, or a connection reset before it was taken: the
                // listener itself is fine.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let connection = http.serve_connection(
            TokioIo::new(stream),
            TowerToHyperService::new(router.clone()),
        );
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            // A peer that goes away mid-request is its own business.
            let _ = connection.await;
            drop(permit);
        });
    }
    drop(listener);
    let _ = tokio::time::timeout(limits.shutdown_grace, graceful.shutdown()).await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use axum::routing::get;
    use tokio::{
        io::{AsyncReadExt, AsyncWriteExt},
        net::TcpStream,
        sync::oneshot,
    };

    use super::*;

    /// A deadline for what must happen, not a measure of how fast it does.
    const DEADLINE: Duration = Duration::from_secs(20);

    async fn start(limits: Limits) -> (SocketAddr, oneshot::Sender<()>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port");
        let address = listener.local_addr().expect("an address");
        let router = Router::new().route("/", get(|| async { "ok" })).route(
            "/slow-body",
            axum::routing::post(|body: String| async move { body }),
        );
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(serve(listener, router, limits, async move {
            let _ = stopped.await;
        }));
        (address, stop)
    }

    /// Reads until the server closes the connection; what it sent.
    async fn until_closed(stream: &mut TcpStream) -> String {
        let mut answer = Vec::new();
        tokio::time::timeout(DEADLINE, stream.read_to_end(&mut answer))
            .await
            .expect("the server closes the connection")
            .expect("a readable connection");
        String::from_utf8_lossy(&answer).into_owned()
    }

    async fn get_root(address: SocketAddr) -> String {
        let mut stream = TcpStream::connect(address).await.expect("a connection");
        stream
            .write_all(b"GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
            .await
            .expect("sent");
        until_closed(&mut stream).await
    }

    #[tokio::test]
    async fn a_peer_that_never_finishes_its_headers_is_cut_off() {
        let (address, _stop) = start(Limits {
            header_timeout: Duration::from_millis(200),
            ..Limits::default()
        })
        .await;
        let mut stream = TcpStream::connect(address).await.expect("a connection");
        stream
            .write_all(b"GET / HTTP/1.1\r\nhost: x\r\n")
            .await
            .expect("sent");
        let answer = until_closed(&mut stream).await;
        assert!(!answer.contains("200 OK"), "{answer}");
        assert!(
            get_root(address).await.contains("200 OK"),
            "others are served"
        );
    }

    #[tokio::test]
    async fn a_body_that_never_ends_is_answered_408() {
        let (address, _stop) = start(Limits {
            request_timeout: Duration::from_millis(200),
            ..Limits::default()
        })
        .await;
        let mut stream = TcpStream::connect(address).await.expect("a connection");
        stream
            .write_all(b"POST /slow-body HTTP/1.1\r\nhost: x\r\ncontent-length: 100\r\n\r\nhalf")
            .await
            .expect("sent");
        let answer = until_closed(&mut stream).await;
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    }

    #[tokio::test]
    async fn connections_beyond_the_limit_wait_for_one_to_end() {
        // Idle connections are not cut off while the test runs: only the limit holds them.
        let (address, _stop) = start(Limits {
            connections: 2,
            header_timeout: Duration::from_secs(600),
            ..Limits::default()
        })
        .await;
        let first = TcpStream::connect(address).await.expect("a connection");
        let second = TcpStream::connect(address).await.expect("a connection");
        // Both held open, idle: a third is not served while they are.
        let third = tokio::spawn(get_root(address));
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(!third.is_finished(), "served beyond the limit");
        drop(first);
        let answer = tokio::time::timeout(DEADLINE, third)
            .await
            .expect("served once a connection ended")
            .expect("the request task");
        assert!(answer.contains("200 OK"), "{answer}");
        drop(second);
    }

    #[tokio::test]
    async fn shutdown_stops_taking_connections() {
        let (address, stop) = start(Limits::default()).await;
        assert!(get_root(address).await.contains("200 OK"));
        stop.send(()).expect("the server listens");
        tokio::time::timeout(DEADLINE, async {
            while TcpStream::connect(address).await.is_ok() {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await
        .expect("the port is closed after shutdown");
    }
}
