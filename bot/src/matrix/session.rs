//! Logging in once and coming back as the same device on every later start.
//!
//! The first start logs in with the password and saves the session (access token, device ID)
//! beside the matrix-sdk store in `storage.path`. Later starts restore it: a new login would be a
//! new device, which breaks end-to-end encryption (the room keys belong to the old device).

use std::{
    io::Write,
    os::unix::fs::OpenOptionsExt,
    path::{Path, PathBuf},
};

use matrix_sdk::{
    authentication::matrix::MatrixSession,
    ruma::api::{client::uiaa, error::ErrorKind},
    Client,
};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use tracing::{info, warn};
use url::Url;

use crate::config::Config;

const SESSION_FILE: &str = "session.json";
const MATRIX_STORE_DIR: &str = "matrix";
const DEVICE_DISPLAY_NAME: &str = "Brigade bot";

/// Why the bot could not get a working session.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// The storage directory or the session file could not be read or written.
    #[error("session file {path}: {source}")]
    File {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The session file is not what this bot writes.
    #[error("session file {path} is unreadable: {source}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// Why it could not be parsed.
        source: serde_json::Error,
    },
    /// The stored session belongs to another user than the configured one.
    #[error("{path} holds a session for {stored}, but matrix.user_id is {configured}; use another storage.path")]
    OtherUser {
        /// The file.
        path: PathBuf,
        /// Whose session is stored.
        stored: String,
        /// The configured user.
        configured: String,
    },
    /// The matrix-sdk client could not be built (store, homeserver URL).
    #[error("cannot open the Matrix client: {0}")]
    Build(#[from] Box<matrix_sdk::ClientBuildError>),
    /// Logging in or restoring the session failed.
    #[error("cannot log in to the homeserver: {0}")]
    Login(#[from] Box<matrix_sdk::Error>),
}

#[derive(Serialize, Deserialize)]
struct SavedSession {
    homeserver_url: Url,
    /// Encrypts the matrix-sdk sqlite stores (crypto keys included) at rest.
    store_passphrase: String,
    session: MatrixSession,
}

/// A logged-in client, restored from `storage.path` when a session is there, whose device is
/// signed by the bot's own cross-signing identity.
pub async fn connect(config: &Config) -> Result<Client, SessionError> {
    let client = log_in(config).await?;
    cross_sign(&client, config).await;
    Ok(client)
}

/// Makes the bot's device verified by its owner, as Element shows it: the first start creates
/// the bot's cross-signing identity (with its password when the homeserver asks) and signs the
/// device with it; later starts find the keys in the crypto store. A homeserver that wants
/// another kind of authentication leaves the device unverified, which is logged; encryption
/// works either way.
async fn cross_sign(client: &Client, config: &Config) {
    let encryption = client.encryption();
    if encryption
        .cross_signing_status()
        .await
        .is_some_and(|status| status.is_complete())
    {
        return;
    }
    let result = match encryption.bootstrap_cross_signing(None).await {
        Err(error) => match error.as_uiaa_response() {
            Some(asked) => {
                let mut password = uiaa::Password::new(
                    uiaa::UserIdentifier::Matrix(uiaa::MatrixUserIdentifier::new(
                        config.matrix.user_id.to_string(),
                    )),
                    config.matrix.password.expose().to_owned(),
                );
                password.session = asked.session.clone();
                encryption
                    .bootstrap_cross_signing(Some(uiaa::AuthData::Password(password)))
                    .await
            }
            None => Err(error),
        },
        done => done,
    };
    match result {
        Ok(()) => info!("cross-signing identity created; this device is signed by it"),
        Err(error) => {
            warn!(%error, "could not set up cross-signing: Element will show the bot's device as unverified")
        }
    }
}

async fn log_in(config: &Config) -> Result<Client, SessionError> {
    let dir = &config.storage.path;
    std::fs::create_dir_all(dir).map_err(|source| SessionError::File {
        path: dir.clone(),
        source,
    })?;
    let session_path = dir.join(SESSION_FILE);
    let store_path = dir.join(MATRIX_STORE_DIR);

    if let Some(saved) = read_session(&session_path)? {
        if saved.session.meta.user_id != config.matrix.user_id {
            return Err(SessionError::OtherUser {
                path: session_path,
                stored: saved.session.meta.user_id.to_string(),
                configured: config.matrix.user_id.to_string(),
            });
        }
        let client = build_client(
            &config.matrix.homeserver_url,
            &store_path,
            &saved.store_passphrase,
        )
        .await?;
        let device_id = saved.session.meta.device_id.clone();
        client
            .restore_session(saved.session)
            .await
            .map_err(Box::new)?;
        match client.whoami().await {
            Ok(_) => {
                info!(%device_id, "session restored");
                return Ok(client);
            }
            Err(error)
                if matches!(
                    error.client_api_error_kind(),
                    Some(ErrorKind::UnknownToken(_))
                ) =>
            {
                // Logged out elsewhere (or the token expired): log in again as the same device,
                // which keeps its encryption keys.
                warn!(%device_id, "access token no longer valid; logging in again as the same device");
                return log_in_with_password(
                    config,
                    &store_path,
                    &session_path,
                    saved.store_passphrase,
                    Some(device_id.as_str()),
                )
                .await;
            }
            Err(error) => return Err(SessionError::Login(Box::new(error.into()))),
        }
    }

    // First start. A store left without its session file cannot be opened (its passphrase
    // was in that file), so start it afresh.
    if store_path.exists() {
        warn!(path = %store_path.display(), "matrix store without a session file; starting a new one");
        std::fs::remove_dir_all(&store_path).map_err(|source| SessionError::File {
            path: store_path.clone(),
            source,
        })?;
    }
    let client =
        log_in_with_password(config, &store_path, &session_path, new_passphrase(), None).await?;
    info!(device_id = ?client.device_id(), "logged in with a new device");
    Ok(client)
}

/// Logs in with the configured password over the store at `store_path` (opened with
/// `passphrase`), as `device` when given (it keeps its encryption keys) or as a new device, and
/// saves the session beside the store.
async fn log_in_with_password(
    config: &Config,
    store_path: &Path,
    session_path: &Path,
    passphrase: String,
    device: Option<&str>,
) -> Result<Client, SessionError> {
    let client = build_client(&config.matrix.homeserver_url, store_path, &passphrase).await?;
    let mut login = client
        .matrix_auth()
        .login_username(&config.matrix.user_id, config.matrix.password.expose())
        .initial_device_display_name(DEVICE_DISPLAY_NAME);
    if let Some(device) = device {
        login = login.device_id(device);
    }
    login.send().await.map_err(Box::new)?;
    save_session(
        session_path,
        &client,
        &config.matrix.homeserver_url,
        passphrase,
    )?;
    Ok(client)
}

async fn build_client(
    homeserver_url: &Url,
    store_path: &Path,
    passphrase: &str,
) -> Result<Client, SessionError> {
    Ok(Client::builder()
        .homeserver_url(homeserver_url)
        // The configured URL is how the bot reaches its homeserver, often an address of its
        // own network (`http://synapse:8008` in docker/compose.yml); the login answer's
        // well-known names the public one, which the bot may have no route to.
        .respect_login_well_known(false)
        .sqlite_store(store_path, Some(passphrase))
        // Inviting someone must not hand them the keys to what was said before: a private
        // incident's room shows members only what was said after they joined (SPEC §6).
        .with_enable_share_history_on_invite(false)
        .build()
        .await
        .map_err(Box::new)?)
}

fn new_passphrase() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

fn read_session(path: &Path) -> Result<Option<SavedSession>, SessionError> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(SessionError::File {
                path: path.to_owned(),
                source,
            })
        }
    };
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|source| SessionError::Corrupt {
            path: path.to_owned(),
            source,
        })
}

/// Writes the session file readable by its owner only (it holds an access token), atomically.
fn save_session(
    path: &Path,
    client: &Client,
    homeserver_url: &Url,
    store_passphrase: String,
) -> Result<(), SessionError> {
    let file_error = |source| SessionError::File {
        path: path.to_owned(),
        source,
    };
    let Some(session) = client.matrix_auth().session() else {
        return Err(SessionError::Login(Box::new(
            matrix_sdk::Error::AuthenticationRequired,
        )));
    };
    let saved = SavedSession {
        homeserver_url: homeserver_url.clone(),
        store_passphrase,
        session,
    };
    let bytes = serde_json::to_vec_pretty(&saved).map_err(|source| SessionError::Corrupt {
        path: path.to_owned(),
        source,
    })?;
    let temporary = path.with_extension("json.new");
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&temporary)
        .map_err(file_error)?;
    file.write_all(&bytes)
        .and_then(|()| file.sync_all())
        .map_err(file_error)?;
    std::fs::rename(&temporary, path).map_err(file_error)
}
