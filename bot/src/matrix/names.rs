//! The names people go by in a room, read from its member state (which the bot syncs), for
//! the messages, names and topics that name them ([`crate::names`]).

use std::{collections::BTreeSet, future::Future, time::Duration};

use brigade_core::record::IncidentRecord;
use matrix_sdk::{
    ruma::{api::client::profile::DisplayName, UserId},
    Room,
};
use tracing::debug;

use crate::names::Names;

/// The names `users` go by in `room`; someone the room does not know is named by their ID.
/// (The users are gathered before the lookup, so the future holds no iterator.)
pub fn of<'a>(
    room: &'a Room,
    users: impl IntoIterator<Item = &'a UserId>,
) -> impl Future<Output = Names> + Send + 'a {
    let users: BTreeSet<&UserId> = users.into_iter().collect();
    async move {
        let mut names = Names::new();
        for user in users {
            match room.get_member_no_sync(user).await {
                Ok(Some(member)) => {
                    if let Some(name) = member.display_name() {
                        names.insert(user.to_owned(), name, member.name_ambiguous());
                    }
                }
                Ok(None) => {
                    // Never in the room (someone just paged): the name on their profile.
                    if let Some(name) = profile_name(room, user).await {
                        names.insert(user.to_owned(), &name, false);
                    }
                }
                Err(error) => debug!(%user, %error, "cannot read a member's name"),
            }
        }
        names
    }
}

/// The names of everyone `record` names, and of `others`, in its incident `room`.
pub fn of_incident<'a>(
    room: &'a Room,
    record: &'a IncidentRecord,
    others: impl IntoIterator<Item = &'a UserId>,
) -> impl Future<Output = Names> + Send + 'a {
    of(room, record.people().into_iter().chain(others))
}

/// How long a profile lookup may take: a partner's server that is down must not hold up the
/// message that names them.
const PROFILE_TIMEOUT: Duration = Duration::from_secs(2);

/// The display name on `user`'s profile, asked of the homeserver (over federation for a
/// partner); none when there is none or the answer takes too long.
async fn profile_name(room: &Room, user: &UserId) -> Option<String> {
    let account = room.client().account();
    let lookup = account.fetch_user_profile_of(user);
    match tokio::time::timeout(PROFILE_TIMEOUT, lookup).await {
        Ok(Ok(profile)) => profile.get_static::<DisplayName>().ok().flatten(),
        Ok(Err(error)) => {
            debug!(%user, %error, "cannot read a profile's name");
            None
        }
        Err(_) => {
            debug!(%user, "a profile's name took too long");
            None
        }
    }
}
