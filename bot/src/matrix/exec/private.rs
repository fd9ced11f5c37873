//! `!inc private`: an open incident goes on in a new private room (SPEC §6); this room keeps
//! the pointer.

use brigade_core::record::IncidentRecord;

use super::super::{change::Change, error::ActionError, names, open::open};
use crate::commands::{decide, Answer};

/// Opens the companion private incident of `record` and points to it.
pub async fn run(change: &Change<'_>, record: &IncidentRecord) -> Result<Answer, ActionError> {
    let declaration = decide::private(record, change.sender)?;
    let (companion, _) = open(change, declaration).await?;
    let names = names::of_incident(change.room, record, [change.sender]).await;
    change
        .carry_out(decide::private_moved(record, &companion, &names))
        .await
}
