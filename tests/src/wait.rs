//! Polling with a deadline: homeservers on a loaded 2-core machine are slow, so tests wait for
//! what they expect instead of sleeping a fixed time.

use std::{future::Future, time::Duration};

use anyhow::{bail, Result};

/// How long a test waits for anything before it fails. Generous: a concurrent build can make
/// Synapse several times slower, and CI's machines are slower than a developer's.
pub const DEADLINE: Duration = Duration::from_secs(120);

/// Polls `probe` until it returns `Some`, or fails naming `what` after [`DEADLINE`].
pub async fn wait_for<T, F, Fut>(what: &str, mut probe: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        if let Some(value) = probe().await {
            return Ok(value);
        }
        if tokio::time::Instant::now() > deadline {
            bail!("gave up after {} s waiting for {what}", DEADLINE.as_secs());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
