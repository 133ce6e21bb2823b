//! Events on their way out: what a command writes into the outbox.

use std::collections::HashMap;

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
    /// W3C trace context of the request that caused it, captured when the
    /// event was made (a batch may be written from another task's span).
    pub trace_headers: HashMap<String, String>,
}

impl NewEvent {
    /// Encodes `message` as the event `event_id` published under `routing_key`.
    pub fn encode<M: prost::Name>(event_id: Uuid, routing_key: &str, message: &M) -> NewEvent {
        NewEvent {
            event_id,
            routing_key: routing_key.to_owned(),
            message_type: M::full_name(),
            payload: message.encode_to_vec(),
            trace_headers: civicgrid_runtime::trace_context::current_headers(),
        }
    }
}

/// The `EventMeta` of a new event with a fresh id, and that id.
///
/// The correlation id is the current trace id when there is one, so an
/// event can be found from the request's logs and the other way round.
pub fn meta(
    producer: &str,
    routing_key: &str,
    aggregate_id: &str,
    aggregate_version: i64,
    actor: &str,
    causation_id: &str,
) -> (Uuid, civicgrid_proto::common::v1::EventMeta) {
    meta_at(
        chrono::Utc::now(),
        producer,
        routing_key,
        aggregate_id,
        aggregate_version,
        actor,
        causation_id,
    )
}

/// [`meta`] for a change that happened at `now`: the time its command
/// stamped on it, or a historical time for an imported record, so
/// consumers count it in the period it belongs to.
pub fn meta_at(
    now: chrono::DateTime<chrono::Utc>,
    producer: &str,
    routing_key: &str,
    aggregate_id: &str,
    aggregate_version: i64,
    actor: &str,
    causation_id: &str,
) -> (Uuid, civicgrid_proto::common::v1::EventMeta) {
    let event_id = Uuid::now_v7();
    let correlation_id = civicgrid_runtime::trace_context::current_trace_id()
        .unwrap_or_else(|| event_id.to_string());
    let meta = civicgrid_proto::common::v1::EventMeta {
        event_id: event_id.to_string(),
        occurred_at: Some(prost_types::Timestamp {
            seconds: now.timestamp(),
            nanos: i32::try_from(now.timestamp_subsec_nanos()).unwrap_or(0),
        }),
        correlation_id,
        causation_id: causation_id.to_owned(),
        producer: producer.to_owned(),
        aggregate_id: aggregate_id.to_owned(),
        aggregate_version,
        event_type: routing_key.to_owned(),
        actor: actor.to_owned(),
    };
    (event_id, meta)
}
