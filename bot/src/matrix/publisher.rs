//! The handle that asks for incident rooms to be brought in step with their records, and the
//! queue [`super::publish::run`] works through. Apart from the publishing itself, so that
//! everything that changes a record can ask for it without importing the publisher's work.

use matrix_sdk::ruma::{OwnedRoomId, RoomId};
use tokio::sync::mpsc;

/// Asks for rooms to be published.
#[derive(Debug, Clone)]
pub struct Publisher {
    queue: mpsc::UnboundedSender<OwnedRoomId>,
}

/// The receiving end, for [`super::publish::run`].
#[derive(Debug)]
pub struct Queue(pub(super) mpsc::UnboundedReceiver<OwnedRoomId>);

impl Publisher {
    /// A publisher and the queue the publishing task works through.
    pub fn new() -> (Self, Queue) {
        let (queue, receiver) = mpsc::unbounded_channel();
        (Self { queue }, Queue(receiver))
    }

    /// Has `room_id` brought in step with its stored record.
    pub fn publish(&self, room_id: &RoomId) {
        // Closed only at shutdown; the next start publishes what is left.
        let _ = self.queue.send(room_id.to_owned());
    }
}
