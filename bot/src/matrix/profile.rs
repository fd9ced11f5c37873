//! The bot's face and name: its display name and avatar, set from `[profile]` at start-up.

use brigade_core::store::{Store, StoreError};
use matrix_sdk::Client;
use sha2::{Digest, Sha256};
use tracing::{info, warn};

use crate::{
    config::{avatar_mime, ProfileConfig},
    keys::{self, KeyError},
};

/// Sets the display name and avatar where they differ from the configuration. A failure is
/// logged, not fatal: a bot without its face still answers.
pub async fn apply(client: &Client, store: &dyn Store, profile: &ProfileConfig) {
    if let Err(error) = apply_display_name(client, &profile.display_name).await {
        warn!(%error, "could not set the display name");
    }
    if let Some(path) = &profile.avatar {
        if let Err(error) = apply_avatar(client, store, path).await {
            warn!(%error, path = %path.display(), "could not set the avatar");
        }
    }
}

async fn apply_display_name(client: &Client, name: &str) -> Result<(), matrix_sdk::Error> {
    let account = client.account();
    if account.get_display_name().await?.as_deref() != Some(name) {
        account.set_display_name(Some(name)).await?;
        info!(name, "display name set");
    }
    Ok(())
}

#[derive(Debug, thiserror::Error)]
enum AvatarError {
    #[error("cannot read the file: {0}")]
    Read(#[from] std::io::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error(transparent)]
    Matrix(#[from] matrix_sdk::Error),
}

async fn apply_avatar(
    client: &Client,
    store: &dyn Store,
    path: &std::path::Path,
) -> Result<(), AvatarError> {
    // The configuration was validated, so the type is known; octet-stream is only a fallback.
    let mime = avatar_mime(path).unwrap_or(mime::APPLICATION_OCTET_STREAM);
    let data = tokio::fs::read(path).await?;
    let fingerprint = hex::encode(Sha256::digest(&data));
    let account = client.account();
    // Which avatar file was uploaded, so a restart does not upload it again.
    let uploaded = keys::avatar().get(store).await?;
    if uploaded.as_deref() == Some(fingerprint.as_str())
        && account.get_avatar_url().await?.is_some()
    {
        return Ok(());
    }
    let url = account.upload_avatar(&mime, data).await?;
    keys::avatar().set(store, &fingerprint).await?;
    info!(%url, "avatar set");
    Ok(())
}
