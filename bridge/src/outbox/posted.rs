//! Finding a first post the homeserver may have taken already. Its transaction ID makes a
//! retried post one message only while the homeserver remembers the ID: Synapse keeps an
//! appservice user's IDs in memory for half an hour, so after a restart of the homeserver, or
//! an outage of the bridge longer than that, the retry would be a second message. Before an
//! uncertain first post, the room's recent messages of the virtual user are read back for one
//! that carries the alert's (or burst's) identity and episode.

use std::collections::HashMap;

use brigade_core::events::ALERT_KEY;
use ruma::{OwnedRoomId, OwnedUserId, RoomId, UserId};
use serde_json::Value;

use crate::{
    bridge::Bridge,
    homeserver::{HomeserverError, Posted},
    store::{AlertRecord, BurstRecord},
};

/// How far before an episode began a look back starts: the bridge's clock, which stamps
/// episodes, may be ahead of the homeserver's, which stamps messages.
const CLOCK_SKEW_MILLIS: u64 = 10 * 60 * 1000;

/// The messages read back, by room and virtual user: one look back serves every uncertain
/// post of a room after a start. Forgotten when a send fails (a post that failed may have been
/// taken after they were read).
#[derive(Debug, Default)]
pub struct LookedBack(HashMap<(OwnedRoomId, OwnedUserId), (u64, Vec<Posted>)>);

impl LookedBack {
    /// Forgets every look back.
    pub fn forget(&mut self) {
        self.0.clear();
    }

    /// The message `user` posted in `room` for `record`'s episode, if there is one.
    pub async fn alert(
        &mut self,
        bridge: &Bridge,
        user: &UserId,
        room: &RoomId,
        record: &AlertRecord,
    ) -> Result<Option<Posted>, HomeserverError> {
        let is_it = |content: &Value| {
            let alert = &content[ALERT_KEY];
            alert["source"] == record.source.name()
                && alert["route"] == record.route.as_str()
                && alert["fingerprint"] == record.fingerprint.as_str()
                && alert["first_seen"] == record.first_seen
        };
        self.find(bridge, user, room, record.first_seen, is_it)
            .await
    }

    /// The message `user` posted in `room` for `burst` with its identity under `key`: the
    /// burst's own (`brigade_core::events::BURST_KEY`) or its list's (`BURST_LIST_KEY`), if
    /// there is one.
    pub async fn burst(
        &mut self,
        bridge: &Bridge,
        (user, room): (&UserId, &RoomId),
        burst: &BurstRecord,
        key: &str,
    ) -> Result<Option<Posted>, HomeserverError> {
        let is_it = |content: &Value| {
            let identity = &content[key];
            identity["source"] == burst.source.name()
                && identity["route"] == burst.route.as_str()
                && identity["started"] == burst.started
        };
        self.find(bridge, user, room, burst.started, is_it).await
    }

    /// The first post (not an edit) among `user`'s messages in `room` since a little before
    /// `began` that `is_it`, read back once for every such question.
    async fn find(
        &mut self,
        bridge: &Bridge,
        user: &UserId,
        room: &RoomId,
        began: u64,
        is_it: impl Fn(&Value) -> bool,
    ) -> Result<Option<Posted>, HomeserverError> {
        let since = began.saturating_sub(CLOCK_SKEW_MILLIS);
        let key = (room.to_owned(), user.to_owned());
        let fresh = match self.0.get(&key) {
            Some((read_since, _)) => *read_since > since,
            None => true,
        };
        if fresh {
            let posted = bridge.homeserver.posted_since(user, room, since).await?;
            tracing::info!(%room, messages = posted.len(), "read back the room's recent alert messages before an uncertain post");
            self.0.insert(key.clone(), (since, posted));
        }
        let posted = self.0.get(&key).map(|(_, posted)| posted.as_slice());
        Ok(posted
            .unwrap_or_default()
            .iter()
            .rev()
            .find(|posted| {
                posted.content["m.relates_to"]["rel_type"] != "m.replace" && is_it(&posted.content)
            })
            .cloned())
    }
}

#[cfg(test)]
mod tests {
    use super::super::{
        tests::{fire, post_with_its_answer_lost, posts, setup},
        Outbox,
    };
    use crate::alert::{AlertStatus, Source};

    #[tokio::test]
    async fn a_post_taken_before_the_homeserver_restarted_is_not_posted_again() {
        let (bridge, homeserver, _clock) = setup();
        let mut outbox = Outbox::new(&bridge).expect("outbox");
        fire(&bridge, "a").await;
        post_with_its_answer_lost(&mut outbox, &bridge, &homeserver).await;
        // The homeserver restarts: it no longer knows the transaction.
        homeserver.forget_transactions();
        outbox.deliver_all(&bridge).await.expect("delivered");

        let sent = homeserver.sent();
        assert_eq!(posts(&sent).len(), 1, "one message: {sent:?}");
        assert_eq!(sent.len(), 1, "it shows the alert already: no edit");
        assert_eq!(bridge.store.depth(), 0);
    }

    #[tokio::test]
    async fn an_uncertain_post_waits_while_the_room_cannot_be_read_back() {
        let (bridge, homeserver, _clock) = setup();
        let mut outbox = Outbox::new(&bridge).expect("outbox");
        fire(&bridge, "a").await;
        post_with_its_answer_lost(&mut outbox, &bridge, &homeserver).await;
        homeserver.forget_transactions();
        homeserver.fail_reads(Some(400));
        assert!(
            outbox.deliver_all(&bridge).await.is_err(),
            "worth another try"
        );
        assert_eq!(bridge.store.depth(), 1, "not dropped");
        homeserver.fail_reads(None);
        outbox.deliver_all(&bridge).await.expect("delivered");
        assert_eq!(posts(&homeserver.sent()).len(), 1);
        assert_eq!(bridge.store.depth(), 0);
    }

    #[tokio::test]
    async fn a_post_taken_before_a_long_outage_is_found_and_brought_in_step() {
        let (bridge, homeserver, _clock) = setup();
        fire(&bridge, "a").await;
        {
            let mut outbox = Outbox::new(&bridge).expect("outbox");
            post_with_its_answer_lost(&mut outbox, &bridge, &homeserver).await;
        }
        // The bridge is down longer than the homeserver remembers transactions; the alert
        // repeats meanwhile.
        homeserver.forget_transactions();
        fire(&bridge, "a").await;
        let mut outbox = Outbox::new(&bridge).expect("outbox after a restart");
        outbox.deliver_all(&bridge).await.expect("delivered");

        let sent = homeserver.sent();
        let posts = posts(&sent);
        assert_eq!(posts.len(), 1, "one message: {sent:?}");
        let edits: Vec<_> = sent
            .iter()
            .filter(|sent| sent.content["m.relates_to"]["event_id"] == posts[0].event_id.as_str())
            .collect();
        assert_eq!(edits.len(), 1);
        assert_eq!(
            edits[0].content["m.new_content"]["org.brigade.alert"]["count"],
            2
        );
        assert_eq!(bridge.store.depth(), 0);
    }

    #[tokio::test]
    async fn a_burst_and_its_list_taken_before_a_restart_are_not_posted_again() {
        let (bridge, homeserver, clock) = setup();
        let alert = |n: usize| super::super::tests::alert(&format!("f{n}"), AlertStatus::Firing);
        // The room's share goes to three alerts of their own; the next two make a burst,
        // whose post the homeserver takes and whose answer is lost.
        let first: Vec<_> = (0..3).map(alert).collect();
        super::super::tests::accept(&bridge, Source::Generic, "prod", &first).await;
        let mut outbox = Outbox::new(&bridge).expect("outbox");
        outbox.deliver_all(&bridge).await.expect("delivered");
        let then: Vec<_> = (3..5).map(alert).collect();
        super::super::tests::accept(&bridge, Source::Generic, "prod", &then).await;
        post_with_its_answer_lost(&mut outbox, &bridge, &homeserver).await;
        assert!(
            bridge.store.depth() > 0,
            "the burst is not known to be posted"
        );
        homeserver.forget_transactions();
        clock.advance(std::time::Duration::from_secs(1));
        let mut outbox = Outbox::new(&bridge).expect("outbox after a restart");
        // The list, posted while uncertain, is edited once more after.
        for _ in 0..2 {
            outbox.deliver_all(&bridge).await.expect("delivered");
            clock.advance(std::time::Duration::from_secs(1));
        }
        let sent = homeserver.sent();
        let bursts = posts(&sent)
            .into_iter()
            .filter(|sent| !sent.content["org.brigade.alert_burst"].is_null())
            .count();
        let lists = sent
            .iter()
            .filter(|sent| sent.content["m.relates_to"]["rel_type"] == "m.thread")
            .count();
        assert_eq!((bursts, lists), (1, 1), "{sent:#?}");
        assert_eq!(bridge.store.depth(), 0);
    }

    #[tokio::test]
    async fn a_list_taken_before_a_restart_is_found_and_edited_not_posted_again() {
        let (bridge, homeserver, clock) = setup();
        let alerts: Vec<_> = (0..5)
            .map(|n| super::super::tests::alert(&format!("f{n}"), AlertStatus::Firing))
            .collect();
        super::super::tests::accept(&bridge, Source::Generic, "prod", &alerts).await;
        let mut outbox = Outbox::new(&bridge).expect("outbox");
        homeserver.lose_thread_answers(true);
        assert!(
            outbox.deliver_all(&bridge).await.is_err(),
            "the list's answer was lost"
        );
        homeserver.lose_thread_answers(false);
        homeserver.forget_transactions();
        clock.advance(std::time::Duration::from_secs(1));
        let mut outbox = Outbox::new(&bridge).expect("outbox after a restart");
        outbox.deliver_all(&bridge).await.expect("delivered");
        let sent = homeserver.sent();
        let lists: Vec<_> = sent
            .iter()
            .filter(|sent| sent.content["m.relates_to"]["rel_type"] == "m.thread")
            .collect();
        assert_eq!(lists.len(), 1, "{sent:#?}");
        let edited = sent.iter().any(|sent| {
            sent.content["m.relates_to"]["rel_type"] == "m.replace"
                && sent.content["m.relates_to"]["event_id"] == lists[0].event_id.as_str()
        });
        assert!(edited, "brought in step by an edit: {sent:#?}");
        assert_eq!(bridge.store.depth(), 0);
    }
}
