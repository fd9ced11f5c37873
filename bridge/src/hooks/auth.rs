//! The two ways sources prove a request is theirs: a bearer token, or an HMAC-SHA256 of the
//! body (with a timestamp, where the source signs one). Both compared in constant time. A
//! signed request is fresh only within its window of the bridge's clock (5 minutes of a time
//! stamped per request; a day of the event's own time, which a sender retries with), and
//! names a [`Delivery`] that is accepted once.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::alert::AuthError;
pub use crate::alert::{Delivery, REPLAY_WINDOW_MILLIS};

/// `Authorization: Bearer <secret>`, as Alertmanager and Grafana send it.
pub fn bearer(secret: &str, authorization: Option<&str>) -> Result<(), AuthError> {
    let token = authorization
        .and_then(|value| value.strip_prefix("Bearer "))
        .ok_or(AuthError("missing `Authorization: Bearer <secret>`"))?;
    if bool::from(token.as_bytes().ct_eq(secret.as_bytes())) {
        Ok(())
    } else {
        Err(AuthError("wrong bearer token"))
    }
}

/// Whether `given_hex` is the HMAC-SHA256 of `message` (its parts in order) under `secret`.
pub fn verify_hmac(secret: &str, message: &[&[u8]], given_hex: &str) -> Result<(), AuthError> {
    verify_any_hmac(secret, message, [given_hex])
}

/// Whether one of `given_hex` is the HMAC-SHA256 of `message` (its parts in order) under
/// `secret`: the HMAC computed once, each compared in constant time.
pub fn verify_any_hmac<'a>(
    secret: &str,
    message: &[&[u8]],
    given_hex: impl IntoIterator<Item = &'a str>,
) -> Result<(), AuthError> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes())
        .map_err(|_| AuthError("unusable secret"))?;
    for part in message {
        mac.update(part);
    }
    let expected = mac.finalize().into_bytes();
    let mut matched = false;
    for given in given_hex {
        let given = hex::decode(given).map_err(|_| AuthError("the signature is not hex"))?;
        matched |= bool::from(given.as_slice().ct_eq(expected.as_slice()));
    }
    if matched {
        Ok(())
    } else {
        Err(AuthError("the signature does not match the body"))
    }
}

/// The name of the delivery `id` signed with `secret`, as the store keeps it: keyed by the
/// secret (an HMAC, so the store holds nothing that tells the secret), the same for every
/// route that shares it.
pub fn under_secret(secret: &str, id: &str) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(b"brigade-delivery\0");
    mac.update(id.as_bytes());
    hex::encode(&mac.finalize().into_bytes()[..16])
}
