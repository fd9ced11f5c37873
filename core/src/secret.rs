//! Secrets (passwords, tokens, webhook keys) that never appear in logs or `Debug` output, read
//! from configuration or from a file.

use std::{fmt, path::Path};

use serde::Deserialize;

/// A secret value (a password, a token) that never appears in logs or `Debug` output.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// A secret holding `value`.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret in the file at `path`, without the trailing newline files written by `echo` or an
    /// editor end in; `None` when the file holds nothing else.
    pub fn from_file(path: &Path) -> std::io::Result<Option<Self>> {
        let contents = std::fs::read_to_string(path)?;
        let value = contents.trim_end_matches(['\r', '\n']);
        Ok((!value.is_empty()).then(|| Self(value.to_owned())))
    }

    /// The secret itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

/// A secret is read as a string only; anything else is refused without repeating the value
/// (serde's usual message quotes it, and it would end up in logs).
impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Secret;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string (in quotes)")
            }
            fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<Secret, E> {
                Ok(Secret(value.to_owned()))
            }
            fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<Secret, E> {
                Err(E::custom(
                    "must be a string (in quotes); the value is not shown",
                ))
            }
            fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<Secret, E> {
                Err(E::custom(
                    "must be a string (in quotes); the value is not shown",
                ))
            }
            fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<Secret, E> {
                Err(E::custom(
                    "must be a string (in quotes); the value is not shown",
                ))
            }
            fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<Secret, E> {
                Err(E::custom(
                    "must be a string (in quotes); the value is not shown",
                ))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}
