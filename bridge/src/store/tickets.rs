//! Follow-ups' tickets: each follow-up the bot asked a ticket for, by its event ID, with where
//! the ticket stands and what its room was told; and each ticket's follow-up by the ticket's key
//! in its tracker, for the tracker's webhooks.

use brigade_core::events::FollowupContent;
use serde::{Deserialize, Serialize};

use super::{encode, engine::Tree, Store, StoreError};

/// A follow-up's ticket, from the bot's asking to the room's being told of each change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketRecord {
    /// The bot's `org.brigade.followup` event.
    pub followup_event: String,
    /// The incident room.
    pub room_id: String,
    /// What the bot asked.
    pub followup: FollowupContent,
    /// The tracker it goes to, by name.
    pub tracker: String,
    /// When it was taken (milliseconds since the Unix epoch): a ticket made for it is not
    /// older.
    pub taken: u64,
    /// Whether a request to make it may have reached the tracker: before another, the ticket
    /// is looked for by its marker.
    #[serde(default)]
    pub tried: bool,
    /// When to try next (milliseconds since the Unix epoch), after a failure worth another try.
    #[serde(default)]
    pub next_try: u64,
    /// The failures in a row.
    #[serde(default)]
    pub failures: u32,
    /// The ticket, once made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket: Option<Ticket>,
    /// Why no ticket is made, when the tracker refused for good.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refused: Option<String>,
    /// What the room was told.
    #[serde(default)]
    pub told: Told,
}

/// A ticket in its tracker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ticket {
    /// How the tracker names it: `acme/app#12`.
    pub key: String,
    /// The tracker's own ID for it in its API (GitHub's issue number).
    pub id: String,
    /// Its page.
    pub url: String,
    /// Whether it is closed.
    pub closed: bool,
    /// Who last closed or reopened it, as the tracker names them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by_name: Option<String>,
    /// When it last changed, by the tracker (RFC 3339), so an older webhook changes nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changed_at: Option<String>,
}

/// What an incident room was told of a follow-up's ticket.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Told {
    /// That a failure is tried again.
    #[serde(default)]
    pub retrying: bool,
    /// That it is refused for good.
    #[serde(default)]
    pub refused: bool,
    /// The ticket's state, closed or not, once told.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed: Option<bool>,
    /// How many of the ticket's states were told (its opening, then each change).
    #[serde(default)]
    pub changes: u32,
}

impl TicketRecord {
    /// Whether anything is left to do for it: a ticket to make or a change to tell.
    pub fn owed(&self) -> bool {
        match (&self.ticket, &self.refused) {
            (Some(ticket), _) => self.told.closed != Some(ticket.closed),
            (None, Some(_)) => !self.told.refused,
            (None, None) => true,
        }
    }
}

/// The key under which a ticket's follow-up is found: the tracker's name and the ticket's key.
fn ticket_key(tracker: &str, key: &str) -> Vec<u8> {
    format!("{tracker}\0{key}").into_bytes()
}

impl Store {
    /// Keeps `record` unless a record of its follow-up is kept already; whether it was new.
    /// Durable when this returns.
    pub async fn take_ticket(&self, record: &TicketRecord) -> Result<bool, StoreError> {
        {
            let _writing = self.writing.lock().await;
            let key = record.followup_event.as_bytes();
            if self.engine.get(Tree::Tickets.name(), key)?.is_some() {
                return Ok(false);
            }
            self.engine.insert(
                Tree::Tickets.name(),
                key,
                &encode(&record.followup_event, record)?,
            )?;
            self.wrote();
        }
        self.flush().await?;
        Ok(true)
    }

    /// Changes the record of `followup_event` by `change`, read and written back under the
    /// store's write lock, so that what the tickets' worker and a tracker's webhook change at
    /// the same time both stay; durable when this returns. The record as changed, if there is
    /// one.
    pub async fn update_ticket(
        &self,
        followup_event: &str,
        change: impl FnOnce(&mut TicketRecord),
    ) -> Result<Option<TicketRecord>, StoreError> {
        let record = {
            let _writing = self.writing.lock().await;
            let Some(mut record) = self.ticket(followup_event)? else {
                return Ok(None);
            };
            change(&mut record);
            self.put_ticket(&record)?;
            self.wrote();
            record
        };
        self.flush().await?;
        Ok(Some(record))
    }

    /// Writes `record` and the way to it from its ticket's key; with `writing` held.
    fn put_ticket(&self, record: &TicketRecord) -> Result<(), StoreError> {
        self.engine.insert(
            Tree::Tickets.name(),
            record.followup_event.as_bytes(),
            &encode(&record.followup_event, record)?,
        )?;
        if let Some(ticket) = &record.ticket {
            self.engine.insert(
                Tree::TicketKeys.name(),
                &ticket_key(&record.tracker, &ticket.key),
                record.followup_event.as_bytes(),
            )?;
        }
        Ok(())
    }

    /// The record of the follow-up whose event is `followup_event`.
    pub fn ticket(&self, followup_event: &str) -> Result<Option<TicketRecord>, StoreError> {
        let Some(bytes) = self
            .engine
            .get(Tree::Tickets.name(), followup_event.as_bytes())?
        else {
            return Ok(None);
        };
        decode(followup_event, &bytes).map(Some)
    }

    /// The record of the follow-up whose ticket is `key` in `tracker`.
    pub fn ticket_by_key(
        &self,
        tracker: &str,
        key: &str,
    ) -> Result<Option<TicketRecord>, StoreError> {
        match self
            .engine
            .get(Tree::TicketKeys.name(), &ticket_key(tracker, key))?
        {
            Some(event) => self.ticket(&String::from_utf8_lossy(&event)),
            None => Ok(None),
        }
    }

    /// The records with something left to do, oldest first.
    pub fn tickets_owed(&self) -> Result<Vec<TicketRecord>, StoreError> {
        let mut owed = Vec::new();
        for (key, bytes) in self.engine.scan_prefix(Tree::Tickets.name(), b"")? {
            let record = decode(&String::from_utf8_lossy(&key), &bytes)?;
            if record.owed() {
                owed.push(record);
            }
        }
        owed.sort_by_key(|record| record.taken);
        Ok(owed)
    }
}

fn decode(key: &str, bytes: &[u8]) -> Result<TicketRecord, StoreError> {
    serde_json::from_slice(bytes).map_err(|source| StoreError::Corrupt {
        key: key.to_owned(),
        source,
    })
}
