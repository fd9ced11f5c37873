//! Prometheus Alertmanager, webhook version 4: `Authorization: Bearer <secret>` (its
//! `http_config.authorization`), and the alert list of [`super::grouped`].

use serde_json::Value;

use super::{auth, grouped::grouped};
use crate::alert::{Alert, AuthError, PayloadError};

/// Checks the bearer token.
pub fn authenticate(secret: &str, authorization: Option<&str>) -> Result<(), AuthError> {
    auth::bearer(secret, authorization)
}

/// The alerts of a version 4 webhook.
pub fn parse(json: &Value) -> Result<Vec<Alert>, PayloadError> {
    if json["version"] != "4" {
        return Err(PayloadError::new(
            "not an Alertmanager webhook: `version` must be \"4\"",
        ));
    }
    grouped(json, "Alertmanager")
}
