//! Why a configuration was refused, and the checks every section shares.

use std::path::PathBuf;

use brigade_core::secret::Secret;

/// Why a configuration was refused.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file or the environment does not have the expected shape; figment names the key.
    #[error("{0}")]
    Invalid(#[from] Box<figment::Error>),
    /// A secret given both inline and as a file, or neither.
    #[error("{key}: give either `{key}` or `{key}_file`")]
    SecretSource {
        /// The key.
        key: String,
    },
    /// A secret file that cannot be read or is empty.
    #[error("{key}_file {path}: {problem}")]
    SecretFile {
        /// The key.
        key: String,
        /// The file.
        path: PathBuf,
        /// What is wrong.
        problem: String,
    },
    /// Anything else, with the key named.
    #[error("{key}: {problem}")]
    Value {
        /// The key.
        key: String,
        /// What is wrong.
        problem: String,
    },
}

pub(super) fn value(key: impl Into<String>, problem: impl Into<String>) -> ConfigError {
    ConfigError::Value {
        key: key.into(),
        problem: problem.into(),
    }
}

pub(super) fn secret(
    key: &str,
    inline: Option<Secret>,
    file: Option<PathBuf>,
) -> Result<Secret, ConfigError> {
    let secret = match (inline, file) {
        (Some(secret), None) => secret,
        (None, Some(path)) => match Secret::from_file(&path) {
            Ok(Some(secret)) => secret,
            Ok(None) => {
                return Err(ConfigError::SecretFile {
                    key: key.to_owned(),
                    path,
                    problem: "empty".to_owned(),
                })
            }
            Err(error) => {
                return Err(ConfigError::SecretFile {
                    key: key.to_owned(),
                    path,
                    problem: error.to_string(),
                })
            }
        },
        _ => {
            return Err(ConfigError::SecretSource {
                key: key.to_owned(),
            })
        }
    };
    if secret.expose().trim().is_empty() {
        return Err(value(key, "is empty"));
    }
    Ok(secret)
}
