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

/// The names `users` go by in `room`, from its member state (read locally: no request); someone
/// the room does not know is named by their ID.
pub fn of<'a>(
    room: &'a Room,
    users: impl IntoIterator<Item = &'a UserId>,
) -> impl Future<Output = Names> + Send + 'a {
    look_up(room, users, Profiles::Skip)
}

/// As [`of`], and someone of the bot's own server the room does not know (a person paged, on
/// call) by the name on their profile, asked of the homeserver: for the few messages that name
/// people from outside the room. People of other servers are not asked: a partner's server
/// that is slow or down must not hold up the worker.
pub fn of_anyone<'a>(
    room: &'a Room,
    users: impl IntoIterator<Item = &'a UserId>,
) -> impl Future<Output = Names> + Send + 'a {
    look_up(room, users, Profiles::Ask)
}

/// Whether people the room does not know are looked up on their profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Profiles {
    Ask,
    Skip,
}

/// The users are gathered before the lookup, so the future holds no iterator.
fn look_up<'a>(
    room: &'a Room,
    users: impl IntoIterator<Item = &'a UserId>,
    profiles: Profiles,
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
                Ok(None) if profiles == Profiles::Ask && ours(room, user) => {
                    if let Some(name) = profile_name(room, user).await {
                        names.insert(user.to_owned(), &name, false);
                    }
                }
                Ok(None) => {}
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

/// Whether `user` is of the bot's own server.
fn ours(room: &Room, user: &UserId) -> bool {
    room.client()
        .user_id()
        .is_some_and(|bot| bot.server_name() == user.server_name())
}

/// How long a profile lookup may take: a homeserver that is slow must not hold up the message
/// that names someone.
const PROFILE_TIMEOUT: Duration = Duration::from_secs(2);

/// The display name on `user`'s profile, asked of the homeserver; none when there is none or
/// the answer takes too long.
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
