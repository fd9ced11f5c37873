//! People as the web pages show them: the display name and a thumbnail of the avatar on their
//! profile, asked of their homeserver and kept a while, so most page loads ask nothing.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use brigade_core::sync::lock;
use matrix_sdk::{
    media::{MediaFormat, MediaRequestParameters, MediaThumbnailSettings},
    ruma::{
        api::client::profile::{AvatarUrl, DisplayName},
        events::room::MediaSource,
        uint, OwnedMxcUri, OwnedUserId, UserId,
    },
};
use tracing::debug;

use super::bot::Bot;
use crate::desk::Avatar;

/// A profile looked up is used for this long before it is looked up again.
const KEPT_MS: u64 = 10 * 60 * 1000;
/// The most profiles kept at once.
const MAX_KEPT: usize = 1_000;
/// How long a profile, or its thumbnail, may take: a slow (federated) homeserver holds a page
/// up this long at most per person, once in [`KEPT_MS`].
const LOOKUP_TIMEOUT: Duration = Duration::from_secs(3);

/// What the pages show of a person.
#[derive(Debug, Clone, Default)]
struct Profile {
    name: Option<String>,
    avatar: Option<Arc<Avatar>>,
}

/// The profiles looked up lately, with when (monotonic milliseconds).
#[derive(Debug, Default)]
pub struct Profiles {
    kept: Mutex<HashMap<OwnedUserId, (Profile, u64)>>,
}

impl Profiles {
    /// `user_id`'s display name, if they set one.
    pub async fn display_name(&self, bot: &Bot, user_id: &UserId) -> Option<String> {
        self.profile(bot, user_id).await.name
    }

    /// A thumbnail of `user_id`'s avatar, if they set one and it is an image.
    pub async fn avatar(&self, bot: &Bot, user_id: &UserId) -> Option<Arc<Avatar>> {
        self.profile(bot, user_id).await.avatar
    }

    async fn profile(&self, bot: &Bot, user_id: &UserId) -> Profile {
        let now = bot.clock.monotonic_millis();
        if let Some((profile, at)) = lock(&self.kept).get(user_id) {
            if now.saturating_sub(*at) < KEPT_MS {
                return profile.clone();
            }
        }
        let Some(profile) = look_up(bot, user_id).await else {
            // Not kept: the next page asks again.
            return Profile::default();
        };
        let mut kept = lock(&self.kept);
        if kept.len() >= MAX_KEPT {
            kept.retain(|_, (_, at)| now.saturating_sub(*at) < KEPT_MS);
            if kept.len() >= MAX_KEPT {
                kept.clear();
            }
        }
        kept.insert(user_id.to_owned(), (profile.clone(), now));
        profile
    }
}

/// `user_id`'s profile and avatar thumbnail, each given [`LOOKUP_TIMEOUT`]; none when the
/// profile cannot be read in time. A thumbnail that cannot be read leaves the name alone.
async fn look_up(bot: &Bot, user_id: &UserId) -> Option<Profile> {
    let account = bot.client.account();
    let lookup = account.fetch_user_profile_of(user_id);
    let profile = match tokio::time::timeout(LOOKUP_TIMEOUT, lookup).await {
        Ok(Ok(profile)) => profile,
        Ok(Err(error)) => {
            debug!(%user_id, %error, "cannot read a profile");
            return None;
        }
        Err(_) => {
            debug!(%user_id, "a profile took too long");
            return None;
        }
    };
    let name = profile
        .get_static::<DisplayName>()
        .ok()
        .flatten()
        .filter(|name| !name.trim().is_empty());
    let avatar = match profile.get_static::<AvatarUrl>().ok().flatten() {
        Some(url) => tokio::time::timeout(LOOKUP_TIMEOUT, thumbnail(bot, url))
            .await
            .unwrap_or_else(|_| {
                debug!(%user_id, "an avatar took too long");
                None
            }),
        None => None,
    };
    Some(Profile { name, avatar })
}

/// A small thumbnail of the avatar at `url`, from the bot's homeserver (authenticated media).
async fn thumbnail(bot: &Bot, url: OwnedMxcUri) -> Option<Arc<Avatar>> {
    let request = MediaRequestParameters {
        source: MediaSource::Plain(url),
        format: MediaFormat::Thumbnail(MediaThumbnailSettings::new(uint!(64), uint!(64))),
    };
    match bot.client.media().get_media_content(&request, false).await {
        Ok(bytes) => Avatar::recognise(bytes).map(Arc::new),
        Err(error) => {
            debug!(%error, "cannot read an avatar");
            None
        }
    }
}
