//! Follow-ups become tickets (SPEC §16). The bot posts an `org.brigade.followup` event in the
//! incident room it invited the bridge to; the bridge keeps it ([`take`]), opens the ticket in
//! the tracker the follow-up names (or its incident type's default), says so in the room with
//! `org.brigade.ticket` (which the bot puts in the timeline), and says again each time the
//! tracker's signed webhook ([`webhook`]) says the ticket was closed or reopened.
//!
//! Exactly once: the follow-up is kept before the homeserver's transaction is answered; before
//! each request that makes a ticket the record says one may have been made, and a ticket made
//! by a request whose answer was lost is found by the marker in its body before another is
//! made. A tracker's failure is tried again (2 s, doubling to 10 min), said once in the room;
//! a refusal for good (a bad token, an unknown repository) is said once and not tried again.

mod github;
mod intake;
mod model;
mod text;
pub mod webhook;

pub use intake::{followup, invited_by_the_bot, join, take, JoinError};
pub use model::{FollowupEvent, NewTicket, TrackerChange, TrackerError};

use std::time::Duration;

use brigade_core::events::{TicketContent, TICKET_KEY};
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::{
    bridge::Bridge,
    config::{Tracker, TrackerKind},
    homeserver::HomeserverError,
    store::{
        tickets::{Ticket, TicketRecord},
        StoreError,
    },
};

const RETRY_FIRST: Duration = Duration::from_secs(2);
const RETRY_MAX: Duration = Duration::from_secs(10 * 60);

/// Makes and tells tickets until `shutdown`, waking when a follow-up or a webhook comes in and
/// when a failure's wait is over.
pub async fn run(bridge: &Bridge, shutdown: CancellationToken) {
    loop {
        let notified = bridge.tickets.notified();
        let worked = tokio::select! {
            () = shutdown.cancelled() => return,
            worked = work(bridge) => worked,
        };
        let wait = match worked {
            Ok(wait) => wait,
            Err(error) => {
                warn!(%error, "the tickets' store failed; trying again");
                Some(RETRY_FIRST)
            }
        };
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = notified => {}
            () = tokio::time::sleep(wait.unwrap_or(RETRY_MAX)) => {}
        }
    }
}

/// Does what is owed now; how long until the next failure's wait is over, if any.
async fn work(bridge: &Bridge) -> Result<Option<Duration>, StoreError> {
    let mut soonest: Option<u64> = None;
    for mut record in bridge.store.tickets_owed()? {
        let now = bridge.clock.now_millis();
        if record.next_try > now {
            soonest = Some(soonest.map_or(record.next_try, |at| at.min(record.next_try)));
            continue;
        }
        match step(bridge, &mut record).await {
            Ok(()) if record.owed() && record.next_try > now => {
                soonest = Some(soonest.map_or(record.next_try, |at| at.min(record.next_try)));
            }
            Ok(()) => {}
            Err(Failure::Store(error)) => return Err(error),
            Err(Failure::Homeserver(error)) => {
                warn!(%error, followup = %record.followup_event, "the room cannot be told of the ticket yet");
                let wait = backoff(&mut record, bridge.clock.now_millis());
                keep(bridge, &mut record).await?;
                soonest = Some(soonest.map_or(wait, |at| at.min(wait)));
            }
        }
    }
    Ok(soonest.map(|at| Duration::from_millis(at.saturating_sub(bridge.clock.now_millis()))))
}

/// Why a step stopped.
#[derive(Debug, thiserror::Error)]
enum Failure {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Homeserver(#[from] HomeserverError),
}

/// Waits longer after each failure in a row; when to try next.
fn backoff(record: &mut TicketRecord, now: u64) -> u64 {
    let wait = RETRY_FIRST
        .saturating_mul(2u32.saturating_pow(record.failures.min(16)))
        .min(RETRY_MAX);
    record.failures += 1;
    record.next_try = now + u64::try_from(wait.as_millis()).unwrap_or(u64::MAX);
    record.next_try
}

/// Moves `record` on as far as it goes now: the ticket made, then the room told.
async fn step(bridge: &Bridge, record: &mut TicketRecord) -> Result<(), Failure> {
    if record.ticket.is_none() && record.refused.is_none() {
        let Some(tracker) = bridge.config.tickets.tracker(&record.tracker) else {
            return Ok(());
        };
        match make(bridge, tracker, record).await? {
            Ok(ticket) => {
                info!(followup = %record.followup_event, key = %ticket.key, "ticket made");
                record.ticket = Some(ticket);
                record.failures = 0;
                keep(bridge, record).await?;
            }
            Err(TrackerError::Refused(why)) => {
                warn!(followup = %record.followup_event, %why, "the tracker refused the ticket");
                record.refused = Some(why);
                keep(bridge, record).await?;
            }
            Err(TrackerError::Unavailable(why)) => {
                warn!(followup = %record.followup_event, %why, "the tracker failed; trying again");
                backoff(record, bridge.clock.now_millis());
                if !record.told.retrying {
                    let said = text::retrying(record, tracker, &why);
                    say(bridge, record, "retrying", said, None).await?;
                    record.told.retrying = true;
                }
                keep(bridge, record).await?;
                return Ok(());
            }
        }
    }
    if let (None, Some(why)) = (&record.ticket, &record.refused) {
        if !record.told.refused {
            let said = text::refused(record, why);
            say(bridge, record, "refused", said, None).await?;
            record.told.refused = true;
            keep(bridge, record).await?;
        }
        return Ok(());
    }
    if let Some(ticket) = record.ticket.clone() {
        if record.told.closed != Some(ticket.closed) {
            let kind = tracker_kind(bridge, record);
            let (purpose, said) = match record.told.closed {
                None => ("opened", text::opened(record, &ticket, kind)),
                Some(_) => ("changed", text::changed(record, &ticket)),
            };
            let content = TicketContent {
                followup_event: ruma::OwnedEventId::try_from(record.followup_event.as_str())
                    .map_err(|error| HomeserverError::Build(error.to_string()))?,
                followup: record.followup.number,
                tracker: record.tracker.clone(),
                key: ticket.key.clone(),
                url: ticket.url.clone(),
                closed: ticket.closed,
                by_name: ticket.by_name.clone(),
            };
            // Each change told is the next one: the same when told again after a crash.
            let purpose = format!("{purpose}-{}", record.told.changes);
            say(bridge, record, &purpose, said, Some(content)).await?;
            record.told.closed = Some(ticket.closed);
            record.told.changes += 1;
            keep(bridge, record).await?;
        }
    }
    Ok(())
}

fn tracker_kind(bridge: &Bridge, record: &TicketRecord) -> &'static str {
    bridge
        .config
        .tickets
        .tracker(&record.tracker)
        .map_or("the tracker", |tracker| tracker.kind.display())
}

/// Keeps what the worker changed of `record` (whether a request was made, when to try next,
/// the ticket once made, a refusal, what the room was told) and takes what the tracker's
/// webhooks changed meanwhile (the ticket's state).
async fn keep(bridge: &Bridge, record: &mut TicketRecord) -> Result<(), StoreError> {
    let mine = record.clone();
    let stored = bridge
        .store
        .update_ticket(&record.followup_event, |stored| {
            stored.tried = mine.tried;
            stored.next_try = mine.next_try;
            stored.failures = mine.failures;
            stored.refused.clone_from(&mine.refused);
            stored.told = mine.told.clone();
            if stored.ticket.is_none() {
                stored.ticket.clone_from(&mine.ticket);
            }
        })
        .await?;
    if let Some(stored) = stored {
        *record = stored;
    }
    Ok(())
}

/// Makes `record`'s ticket in `tracker`, or finds the one a lost answer made.
async fn make(
    bridge: &Bridge,
    tracker: &Tracker,
    record: &mut TicketRecord,
) -> Result<Result<Ticket, TrackerError>, StoreError> {
    let marker = text::marker(&record.followup_event);
    if record.tried {
        let found = match tracker.kind {
            TrackerKind::Github => github::find(&bridge.http, tracker, &marker, record.taken).await,
        };
        match found {
            Ok(Some(ticket)) => {
                info!(key = %ticket.key, "a ticket made before was found by its marker");
                return Ok(Ok(ticket));
            }
            Ok(None) => {}
            Err(error) => return Ok(Err(error)),
        }
    } else {
        record.tried = true;
        keep(bridge, record).await?;
    }
    let new = text::ticket(record, tracker, &marker);
    let made = match tracker.kind {
        TrackerKind::Github => github::create(&bridge.http, tracker, &new).await,
    };
    #[cfg(feature = "failpoints")]
    if made.is_ok() {
        fail::fail_point!("ticket-after-create", |_| crate::bridge::crash());
    }
    Ok(made)
}

/// Tells `record`'s room what is `said` (with `ticket` in its content) as the bridge's own user,
/// once per `purpose`.
async fn say(
    bridge: &Bridge,
    record: &TicketRecord,
    purpose: &str,
    said: text::Said,
    ticket: Option<TicketContent>,
) -> Result<(), Failure> {
    let sender = intake::sender(bridge)?;
    let room = ruma::RoomId::parse(&record.room_id)
        .map_err(|error| HomeserverError::Build(error.to_string()))?;
    let mut content = text::notice(&said);
    if let Some(ticket) = ticket {
        content[TICKET_KEY] = serde_json::json!(ticket);
    }
    let txn = transaction_id(&record.followup_event, purpose);
    match bridge
        .homeserver
        .send_message(&sender, &room, &txn, content)
        .await
    {
        Ok(_) => Ok(()),
        // The room refuses the bridge for good (it was removed): what is done stays done.
        Err(error) if error.for_good() => {
            warn!(%error, followup = %record.followup_event, "the room refused what the bridge had to say of a ticket");
            Ok(())
        }
        Err(error) => Err(error.into()),
    }
}

/// A transaction ID for what is said of follow-up `event` for `purpose`: the same when said
/// again after a crash, so the homeserver posts it once.
fn transaction_id(event: &str, purpose: &str) -> ruma::OwnedTransactionId {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(format!("{event}\0{purpose}").as_bytes());
    format!("brigade-ticket-{}", hex::encode(&digest[..12])).into()
}
