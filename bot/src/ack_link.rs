//! Acknowledge links (SPEC §14): each notification outside Matrix carries a link that
//! acknowledges the page it is about. The link names the person, the incident's room, the
//! escalation policy and its page, expires, and is signed with a key only the bot holds (HMAC-SHA256), so the
//! identity it carries is the bot's word, never the URL's; that each acts once is the page's
//! part (`web::ack`), which stores every link it has acted on.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use hmac::{Hmac, Mac};
use matrix_sdk::ruma::{OwnedEventId, OwnedRoomId, OwnedUserId};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use brigade_core::store::Store;

use crate::keys::{self, KeyError};

/// How long a link acknowledges.
pub const LIFETIME_MILLIS: u64 = 24 * 60 * 60 * 1000;

/// What an acknowledge link says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AckLink {
    /// The incident's room.
    #[serde(rename = "r")]
    pub room: OwnedRoomId,
    /// Who was paged, and acknowledges by following it.
    #[serde(rename = "u")]
    pub user: OwnedUserId,
    /// The escalation policy that paged them.
    #[serde(rename = "p")]
    pub policy: String,
    /// The page it is about: following the link acknowledges as 👀 on it would.
    #[serde(rename = "e")]
    pub page: OwnedEventId,
    /// Until when it acknowledges (milliseconds since the epoch).
    #[serde(rename = "x")]
    pub expires: u64,
}

/// Why a link does not acknowledge.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    /// Not a link the bot makes (cut short, or not one at all).
    #[error("this is not an acknowledge link Brigade made (it may have been cut short)")]
    Malformed,
    /// Its signature does not match: changed, or not Brigade's.
    #[error("this link's signature does not match: it was changed, or it is not Brigade's")]
    Forged,
    /// Too old.
    #[error("this link has expired")]
    Expired,
}

type Signer = Hmac<Sha256>;

fn signer(key: &[u8]) -> Signer {
    <Signer as Mac>::new_from_slice(key).expect("HMAC takes a key of any length")
}

impl AckLink {
    /// The link's token: the claims, then their signature, both base64url.
    pub fn sign(&self, key: &[u8]) -> String {
        let claims = URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).unwrap_or_default());
        let mut mac = signer(key);
        mac.update(claims.as_bytes());
        let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        format!("{claims}.{signature}")
    }

    /// What `token` says, if `key` signed it and it has not expired at `now`.
    pub fn verify(token: &str, key: &[u8], now: u64) -> Result<Self, LinkError> {
        let (claims, signature) = token.split_once('.').ok_or(LinkError::Malformed)?;
        let signature = URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|_| LinkError::Malformed)?;
        let mut mac = signer(key);
        mac.update(claims.as_bytes());
        mac.verify_slice(&signature)
            .map_err(|_| LinkError::Forged)?;
        let claims = URL_SAFE_NO_PAD
            .decode(claims)
            .map_err(|_| LinkError::Malformed)?;
        let link: Self = serde_json::from_slice(&claims).map_err(|_| LinkError::Malformed)?;
        if link.expires <= now {
            return Err(LinkError::Expired);
        }
        Ok(link)
    }
}

/// The name under which a token's use is stored: a digest, so the store holds no usable link.
pub fn used_id(token: &str) -> String {
    hex::encode(&Sha256::digest(token.as_bytes())[..16])
}

/// The bot's signing key, if it has made one (at its start: [`ensure_key`]). One it cannot read
/// is an error, never replaced: every link signed with it would stop working.
pub async fn key(store: &dyn Store) -> Result<Option<Vec<u8>>, KeyError> {
    let stored = keys::ack_key();
    let Some(key) = stored.get_to_change(store).await? else {
        return Ok(None);
    };
    hex::decode(&key)
        .map(Some)
        .map_err(|_| KeyError::Unreadable(stored.name().to_owned()))
}

/// Makes the bot's signing key if the store holds none yet; called once, at the start, before
/// anything signs or checks a link.
pub async fn ensure_key(store: &dyn Store) -> Result<(), KeyError> {
    if key(store).await?.is_some() {
        return Ok(());
    }
    let mut key = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut key);
    keys::ack_key().set(store, &hex::encode(key)).await
}

#[cfg(test)]
mod tests {
    use matrix_sdk::ruma::{owned_event_id, owned_room_id, owned_user_id};

    use super::*;

    fn link() -> AckLink {
        AckLink {
            room: owned_room_id!("!inc:example.org"),
            user: owned_user_id!("@dan:example.org"),
            policy: "db".to_owned(),
            page: owned_event_id!("$page:example.org"),
            expires: 10_000,
        }
    }

    #[test]
    fn a_signed_link_reads_back_until_it_expires() {
        let token = link().sign(b"key");
        assert_eq!(AckLink::verify(&token, b"key", 9_999), Ok(link()));
        assert_eq!(
            AckLink::verify(&token, b"key", 10_000),
            Err(LinkError::Expired)
        );
        assert_eq!(
            AckLink::verify(&token, b"another key", 1),
            Err(LinkError::Forged)
        );
    }

    #[test]
    fn a_changed_or_cut_link_is_refused() {
        let token = link().sign(b"key");
        let (claims, signature) = token.split_once('.').expect("two parts");
        let mut other = link();
        other.user = owned_user_id!("@mallory:example.org");
        let forged_claims = other.sign(b"not the key");
        let (forged_claims, _) = forged_claims.split_once('.').expect("two parts");
        assert_eq!(
            AckLink::verify(&format!("{forged_claims}.{signature}"), b"key", 1),
            Err(LinkError::Forged),
            "another person under the same signature"
        );
        assert_eq!(
            AckLink::verify(claims, b"key", 1),
            Err(LinkError::Malformed)
        );
        assert_eq!(
            AckLink::verify(&format!("{claims}.!!"), b"key", 1),
            Err(LinkError::Malformed)
        );
        assert_ne!(used_id(&token), used_id(&link().sign(b"key2")));
    }
}
