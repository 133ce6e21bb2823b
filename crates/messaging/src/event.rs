//! Events on their way out: what a command writes into the outbox.

use uuid::Uuid;

/// An event to publish, already encoded. `event_id` equals the id in the
/// payload's `EventMeta` and becomes the AMQP `message_id`.
#[derive(Debug, Clone)]
pub struct NewEvent {
    /// Unique id (UUID v7), the consumers' de-duplication key.
    pub event_id: Uuid,
    /// e.g. `grid.cell.created`.
    pub routing_key: String,
    /// The protobuf message's full name, e.g. `civicgrid.grid.v1.CellCreated`.
    pub message_type: String,
    /// The encoded protobuf message.
    pub payload: Vec<u8>,
}

impl NewEvent {
    /// Encodes `message` as the event `event_id` published under `routing_key`.
    pub fn encode<M: prost::Name>(event_id: Uuid, routing_key: &str, message: &M) -> NewEvent {
        NewEvent {
            event_id,
            routing_key: routing_key.to_owned(),
            message_type: M::full_name(),
            payload: message.encode_to_vec(),
        }
    }
}
