//! Grafana alerting: `Authorization: Bearer <secret>` (the contact point's credentials), and
//! the alert list of [`super::grouped`] beside its numeric `orgId`.

use serde_json::Value;

use super::{auth, grouped::grouped};
use crate::alert::{Alert, AuthError, PayloadError};

/// Checks the bearer token.
pub fn authenticate(secret: &str, authorization: Option<&str>) -> Result<(), AuthError> {
    auth::bearer(secret, authorization)
}

/// The alerts of a Grafana alerting webhook.
pub fn parse(json: &Value) -> Result<Vec<Alert>, PayloadError> {
    if !json["orgId"].is_number() {
        return Err(PayloadError::new(
            "not a Grafana alerting webhook: no numeric `orgId`",
        ));
    }
    grouped(json, "Grafana")
}
