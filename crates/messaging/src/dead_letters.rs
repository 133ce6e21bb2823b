//! Operator tools for a queue's dead letters (`<queue>.dlq`): list them,
//! show one decoded, replay them into the queue they died in, discard them.
//!
//! A dead-letter queue is a quorum queue (see [`crate::topology`]), which
//! cannot be browsed: reading a message takes it. So every operation takes
//! every message with `basic.get` (unacked, so a crash of this tool gives
//! them all back), settles the ones it acts on, and hands the rest back with
//! one `basic.nack(requeue)` each, in the order they were taken. A quorum
//! queue serves returned messages before any other, in the order they were
//! returned, so the queue keeps its order (the tests list twice and compare).
//! The one trace left is the broker's `x-delivery-count` header, which grows
//! with every look; replay strips it.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use lapin::message::Delivery;
use lapin::options::{
    BasicAckOptions, BasicGetOptions, BasicNackOptions, BasicPublishOptions, ConfirmSelectOptions,
    QueueDeclareOptions,
};
use lapin::types::{AMQPValue, FieldArray, FieldTable, ShortString};
use lapin::{BasicProperties, Channel, Confirmation};
use serde::Serialize;
use uuid::Uuid;

use crate::broker::{Broker, BrokerError};
use crate::topology::Topology;

/// How long a replayed message may wait for the broker's confirm.
const CONFIRM_TIMEOUT: Duration = Duration::from_secs(10);

/// What went wrong with a dead-letter operation. The messages name what the
/// operator typed, so they can be printed as they are.
#[derive(Debug, thiserror::Error)]
pub enum DeadLetterError {
    /// The queue or its dead-letter queue does not exist.
    #[error("no queue named {queue} (or its dead-letter queue {queue}.dlq)")]
    UnknownQueue {
        /// The queue the operator named.
        queue: String,
    },
    /// No dead letter carries this event id.
    #[error("no dead letter with event id {event_id} in {queue}.dlq")]
    UnknownEvent {
        /// The queue the operator named.
        queue: String,
        /// The event id asked for.
        event_id: Uuid,
    },
    /// The broker cannot be reached.
    #[error("cannot reach the broker at {url}: {reason}")]
    Unreachable {
        /// The broker URL, password masked.
        url: String,
        /// What the client said.
        reason: String,
    },
    /// The broker did not confirm (or refused) a replayed message; it is still
    /// in the dead-letter queue.
    #[error(
        "replaying event {event_id} to {queue} failed: {reason} (it stays in the dead-letter queue)"
    )]
    ReplayFailed {
        /// The event that stays dead-lettered.
        event_id: String,
        /// Where it was being replayed to.
        queue: String,
        /// Why it failed.
        reason: String,
    },
    /// Any other broker failure.
    #[error(transparent)]
    Broker(#[from] BrokerError),
}

impl From<lapin::Error> for DeadLetterError {
    fn from(error: lapin::Error) -> Self {
        DeadLetterError::Broker(BrokerError::Amqp(error))
    }
}

/// Which dead letters an operation acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selection {
    /// Every message with this event id (an event published twice may have
    /// died twice).
    Event(Uuid),
    /// Every message in the dead-letter queue.
    All,
}

/// One dead-lettered message, as the broker holds it.
#[derive(Debug, Clone, Serialize)]
pub struct DeadLetter {
    /// The producer's event id (AMQP `message_id`), when it is a UUID.
    pub event_id: Option<Uuid>,
    /// The raw `message_id`, for messages whose id is not a UUID.
    pub message_id: Option<String>,
    /// The routing key it was published with (from `x-death`; the message
    /// itself now carries the dead-letter routing key).
    pub routing_key: String,
    /// The protobuf message's full name (AMQP `type`).
    pub message_type: Option<String>,
    /// The service that published it (AMQP `app_id`).
    pub producer: Option<String>,
    /// The queue it died in, where replay sends it.
    pub original_queue: Option<String>,
    /// Why it died the first time: `rejected` (the handler gave up),
    /// `delivery_limit` (it failed too often), `expired`, ...
    pub first_death_reason: Option<String>,
    /// How many times it has been dead-lettered, over all queues and reasons.
    pub death_count: u64,
    /// When it was last dead-lettered.
    pub died_at: Option<DateTime<Utc>>,
    /// When the producer's relay published it.
    pub published_at: Option<DateTime<Utc>>,
    /// String-valued headers: the trace context and the broker's `x-*` ones.
    pub headers: BTreeMap<String, String>,
    /// Size of the payload in bytes.
    pub payload_len: usize,
    /// The encoded payload.
    #[serde(skip)]
    pub payload: Vec<u8>,
    #[serde(skip)]
    properties: BasicProperties,
}

/// A payload decoded for a human.
#[derive(Debug, Clone, PartialEq)]
pub enum DecodedPayload {
    /// The protobuf JSON form of the message.
    Json(serde_json::Value),
    /// The type is unknown or the bytes do not decode as it.
    Hex {
        /// Lower-case hex of the payload.
        hex: String,
        /// Why it is shown as hex.
        note: String,
    },
}

/// Decodes `payload` as the message named `message_type` (e.g.
/// `civicgrid.grid.v1.CellCreated`) with the descriptors of every civicgrid
/// contract, into protobuf's canonical JSON (lowerCamelCase field names).
pub fn decode_payload(message_type: Option<&str>, payload: &[u8]) -> DecodedPayload {
    let hex = |note: String| DecodedPayload::Hex {
        hex: to_hex(payload),
        note,
    };
    let Some(message_type) = message_type.filter(|t| !t.is_empty()) else {
        return hex("the message has no type property; payload shown as hex".to_owned());
    };
    let pool = match prost_reflect::DescriptorPool::decode(civicgrid_proto::FILE_DESCRIPTOR_SET) {
        Ok(pool) => pool,
        Err(error) => {
            return hex(format!(
                "descriptor set unreadable ({error}); payload shown as hex"
            ));
        }
    };
    let Some(descriptor) = pool.get_message_by_name(message_type) else {
        return hex(format!(
            "unknown message type {message_type}; payload shown as hex"
        ));
    };
    let message = match prost_reflect::DynamicMessage::decode(descriptor, payload) {
        Ok(message) => message,
        Err(error) => {
            return hex(format!(
                "payload does not decode as {message_type} ({error}); shown as hex"
            ));
        }
    };
    match serde_json::to_value(&message) {
        Ok(json) => DecodedPayload::Json(json),
        Err(error) => hex(format!(
            "{message_type} has no JSON form ({error}); payload shown as hex"
        )),
    }
}

fn to_hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        let _ = write!(out, "{byte:02x}");
    }
    out
}

/// `url` with its password replaced by `***`, fit for an error message.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _password)) => format!("{scheme}://{user}:***@{host}{path}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

/// The dead letters of one queue.
pub struct DeadLetters {
    broker: Arc<Broker>,
    url: String,
    queue: String,
}

/// Messages taken off the dead-letter queue and not yet settled.
struct Taken {
    channel: Channel,
    letters: Vec<(Delivery, DeadLetter)>,
    settled: HashSet<usize>,
}

impl Taken {
    /// Hands every unsettled message back, in the order taken, then closes.
    async fn restore(self) -> Result<(), DeadLetterError> {
        for (index, (delivery, _)) in self.letters.iter().enumerate() {
            if !self.settled.contains(&index) {
                delivery
                    .acker
                    .nack(BasicNackOptions {
                        multiple: false,
                        requeue: true,
                    })
                    .await?;
            }
        }
        // The close waits for the broker's close-ok, which it sends only
        // after it has processed the nacks before it on this channel.
        let _ = self
            .channel
            .close(200, "dead letters restored".into())
            .await;
        Ok(())
    }
}

impl DeadLetters {
    /// The dead letters of `queue` on the broker at `url`. Each operation
    /// holds every message of the dead-letter queue in memory while it
    /// works: meant for the hundreds an incident leaves, not millions. Fails with
    /// [`DeadLetterError::UnknownQueue`] when the queue or `<queue>.dlq` does
    /// not exist (checked passively: nothing is declared).
    pub async fn open(url: &str, queue: &str) -> Result<DeadLetters, DeadLetterError> {
        let dead_letters = DeadLetters {
            broker: Broker::new(url, "civicgrid-dlq"),
            url: url.to_owned(),
            queue: queue.to_owned(),
        };
        let channel = dead_letters.channel().await?;
        for name in [queue.to_owned(), Topology::dead_letter_queue(queue)] {
            // A failed passive declare closes the channel, so a missing queue
            // ends the check; nothing else happened on it.
            let declared = channel
                .queue_declare(
                    name.as_str().into(),
                    QueueDeclareOptions {
                        passive: true,
                        ..QueueDeclareOptions::default()
                    },
                    FieldTable::default(),
                )
                .await;
            if let Err(error) = declared {
                return Err(if is_not_found(&error) {
                    DeadLetterError::UnknownQueue {
                        queue: queue.to_owned(),
                    }
                } else {
                    error.into()
                });
            }
        }
        let _ = channel.close(200, "checked".into()).await;
        Ok(dead_letters)
    }

    /// The queue whose dead letters these are.
    pub fn queue(&self) -> &str {
        &self.queue
    }

    /// Every dead letter, oldest first. Leaves the queue as it was.
    pub async fn list(&self) -> Result<Vec<DeadLetter>, DeadLetterError> {
        let taken = self.take_all().await?;
        let letters = taken.letters.iter().map(|(_, l)| l.clone()).collect();
        taken.restore().await?;
        Ok(letters)
    }

    /// The (first) dead letter with `event_id`. Leaves the queue as it was.
    pub async fn show(&self, event_id: Uuid) -> Result<DeadLetter, DeadLetterError> {
        let taken = self.take_all().await?;
        let found = taken
            .letters
            .iter()
            .map(|(_, letter)| letter)
            .find(|letter| letter.event_id == Some(event_id))
            .cloned();
        taken.restore().await?;
        found.ok_or_else(|| DeadLetterError::UnknownEvent {
            queue: self.queue.clone(),
            event_id,
        })
    }

    /// Republishes the selected dead letters, oldest first, to the queue
    /// each died in (from `x-death`; this queue when it has none), keeping
    /// message id, type, headers and body, and takes each off the
    /// dead-letter queue only after the broker confirmed its copy. Routing
    /// goes through the default exchange with a `BCC` header naming the
    /// queue, so only that queue gets it and it still arrives under its
    /// original routing key, which is what the consumer dispatches on. The
    /// consumer's inbox applies an event once however often it is replayed.
    /// Returns how many messages were replayed; on a failure the ones not
    /// yet confirmed stay dead-lettered, in order.
    pub async fn replay(&self, selection: Selection) -> Result<usize, DeadLetterError> {
        let mut taken = self.take_all().await?;
        let replayed = self.replay_taken(&mut taken, selection).await;
        // Whatever happened, the unsettled messages go back in order.
        let restored = taken.restore().await;
        let replayed = replayed?;
        restored?;
        Ok(replayed)
    }

    async fn replay_taken(
        &self,
        taken: &mut Taken,
        selection: Selection,
    ) -> Result<usize, DeadLetterError> {
        let chosen = self.chosen(taken, selection)?;
        self.check_targets(taken, &chosen).await?;
        taken
            .channel
            .confirm_select(ConfirmSelectOptions::default())
            .await?;
        for index in &chosen {
            let (delivery, letter) = &taken.letters[*index];
            let target = letter
                .original_queue
                .clone()
                .unwrap_or_else(|| self.queue.clone());
            if let Err(reason) = self.republish(&taken.channel, letter, &target).await {
                return Err(DeadLetterError::ReplayFailed {
                    event_id: letter.message_id.clone().unwrap_or_default(),
                    queue: target,
                    reason,
                });
            }
            delivery.acker.ack(BasicAckOptions::default()).await?;
            taken.settled.insert(*index);
        }
        Ok(chosen.len())
    }

    /// Removes the selected dead letters for good. Returns how many.
    pub async fn discard(&self, selection: Selection) -> Result<usize, DeadLetterError> {
        let mut taken = self.take_all().await?;
        let discarded = self.discard_taken(&mut taken, selection).await;
        let restored = taken.restore().await;
        let discarded = discarded?;
        restored?;
        Ok(discarded)
    }

    async fn discard_taken(
        &self,
        taken: &mut Taken,
        selection: Selection,
    ) -> Result<usize, DeadLetterError> {
        let chosen = self.chosen(taken, selection)?;
        for index in &chosen {
            taken.letters[*index]
                .0
                .acker
                .ack(BasicAckOptions::default())
                .await?;
            taken.settled.insert(*index);
        }
        Ok(chosen.len())
    }

    /// Indexes of the selected letters, in queue order; an event id that
    /// matched nothing is an error.
    fn chosen(&self, taken: &Taken, selection: Selection) -> Result<Vec<usize>, DeadLetterError> {
        let chosen: Vec<usize> = taken
            .letters
            .iter()
            .enumerate()
            .filter(|(_, (_, letter))| match selection {
                Selection::All => true,
                Selection::Event(id) => letter.event_id == Some(id),
            })
            .map(|(index, _)| index)
            .collect();
        match selection {
            Selection::Event(event_id) if chosen.is_empty() => Err(DeadLetterError::UnknownEvent {
                queue: self.queue.clone(),
                event_id,
            }),
            _ => Ok(chosen),
        }
    }

    /// Fails when a replay target other than this queue is gone, before
    /// anything is published. The passive declares run on their own channel:
    /// a failed one closes its channel, which would hand back the taken
    /// messages out of order.
    async fn check_targets(&self, taken: &Taken, chosen: &[usize]) -> Result<(), DeadLetterError> {
        let targets: HashSet<&str> = chosen
            .iter()
            .filter_map(|index| taken.letters[*index].1.original_queue.as_deref())
            .filter(|target| *target != self.queue)
            .collect();
        for target in targets {
            let channel = self.channel().await?;
            let declared = channel
                .queue_declare(
                    target.into(),
                    QueueDeclareOptions {
                        passive: true,
                        ..QueueDeclareOptions::default()
                    },
                    FieldTable::default(),
                )
                .await;
            match declared {
                Ok(_) => {
                    let _ = channel.close(200, "checked".into()).await;
                }
                Err(error) if is_not_found(&error) => {
                    return Err(DeadLetterError::UnknownQueue {
                        queue: target.to_owned(),
                    });
                }
                Err(error) => return Err(error.into()),
            }
        }
        Ok(())
    }

    async fn republish(
        &self,
        channel: &Channel,
        letter: &DeadLetter,
        target: &str,
    ) -> Result<(), String> {
        let mut headers: BTreeMap<ShortString, AMQPValue> = letter
            .properties
            .headers()
            .as_ref()
            .map(|h| h.inner().clone())
            .unwrap_or_default();
        // The dead-letter queue's own count of looks. RabbitMQ 3.10 overwrites
        // it on delivery from the target queue (seen in the tests); dropping
        // it keeps the copy as the producer sent it whatever the broker does,
        // since the consumer reads it as earlier failed attempts.
        headers.remove("x-delivery-count");
        // Sender-selected distribution: the default exchange routes to the
        // queue named in BCC (and to a queue named like the routing key, if
        // one existed); the broker strips BCC before delivery.
        headers.insert(
            "BCC".into(),
            AMQPValue::FieldArray(FieldArray::from(vec![AMQPValue::LongString(target.into())])),
        );
        let properties = letter
            .properties
            .clone()
            .with_headers(FieldTable::from(headers));
        let confirm = channel
            .basic_publish(
                "".into(),
                letter.routing_key.as_str().into(),
                // mandatory: a queue deleted meanwhile comes back as a return.
                BasicPublishOptions {
                    mandatory: true,
                    immediate: false,
                },
                &letter.payload,
                properties,
            )
            .await
            .map_err(|e| e.to_string())?;
        match tokio::time::timeout(CONFIRM_TIMEOUT, confirm).await {
            Ok(Ok(Confirmation::Ack(None))) => Ok(()),
            Ok(Ok(Confirmation::Ack(Some(returned)))) => Err(format!(
                "no queue took it ({})",
                returned.reply_text.as_str()
            )),
            Ok(Ok(Confirmation::Nack(_))) => Err("the broker refused it".to_owned()),
            Ok(Ok(Confirmation::NotRequested)) => {
                Err("the channel is not in confirm mode".to_owned())
            }
            Ok(Err(error)) => Err(error.to_string()),
            Err(_) => Err("no confirm within 10 s".to_owned()),
        }
    }

    /// Takes every message off the dead-letter queue, unacked.
    async fn take_all(&self) -> Result<Taken, DeadLetterError> {
        let channel = self.channel().await?;
        let dlq = Topology::dead_letter_queue(&self.queue);
        let mut taken = Taken {
            channel,
            letters: Vec::new(),
            settled: HashSet::new(),
        };
        loop {
            let got = taken
                .channel
                .basic_get(dlq.as_str().into(), BasicGetOptions { no_ack: false })
                .await;
            match got {
                Ok(Some(message)) => {
                    let letter = DeadLetter::of(&message.delivery);
                    taken.letters.push((message.delivery, letter));
                }
                Ok(None) => return Ok(taken),
                Err(error) => {
                    let _ = taken.restore().await;
                    return Err(if is_not_found(&error) {
                        DeadLetterError::UnknownQueue {
                            queue: self.queue.clone(),
                        }
                    } else {
                        error.into()
                    });
                }
            }
        }
    }

    async fn channel(&self) -> Result<Channel, DeadLetterError> {
        self.broker.channel().await.map_err(|error| match error {
            BrokerError::Unreachable(reason) => DeadLetterError::Unreachable {
                url: redact_url(&self.url),
                reason,
            },
            BrokerError::Timeout(what) => DeadLetterError::Unreachable {
                url: redact_url(&self.url),
                reason: format!("no answer during {what}"),
            },
            other => DeadLetterError::Broker(other),
        })
    }
}

fn is_not_found(error: &lapin::Error) -> bool {
    matches!(error.kind(), lapin::ErrorKind::ProtocolError(e) if e.get_id() == 404)
}

impl DeadLetter {
    fn of(delivery: &Delivery) -> DeadLetter {
        let properties = &delivery.properties;
        let table = properties.headers().as_ref();
        let header = |name: &str| table.and_then(|t| t.inner().get(name));
        // x-death: one entry per (queue, reason), most recent first.
        let deaths: Vec<&FieldTable> = match header("x-death") {
            Some(AMQPValue::FieldArray(entries)) => entries
                .as_slice()
                .iter()
                .filter_map(|entry| match entry {
                    AMQPValue::FieldTable(table) => Some(table),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        let latest = deaths.first().copied();
        let routing_key = latest
            .and_then(|death| match death.inner().get("routing-keys") {
                Some(AMQPValue::FieldArray(keys)) => keys.as_slice().first().and_then(text),
                _ => None,
            })
            .unwrap_or_else(|| delivery.routing_key.as_str().to_owned());
        let original_queue = header("x-first-death-queue")
            .and_then(text)
            .or_else(|| latest.and_then(|d| d.inner().get("queue")).and_then(text));
        let first_death_reason = header("x-first-death-reason").and_then(text).or_else(|| {
            deaths
                .last()
                .and_then(|d| d.inner().get("reason"))
                .and_then(text)
        });
        let death_count = deaths
            .iter()
            .filter_map(|d| d.inner().get("count").and_then(unsigned))
            .sum();
        let died_at = latest
            .and_then(|d| match d.inner().get("time") {
                Some(AMQPValue::Timestamp(seconds)) => Some(*seconds),
                _ => None,
            })
            .and_then(timestamp);
        let message_id = properties.message_id().as_ref().map(|id| id.to_string());
        let mut headers = BTreeMap::new();
        if let Some(table) = table {
            for (key, value) in table {
                if let Some(value) = text(value) {
                    headers.insert(key.as_str().to_owned(), value);
                }
            }
        }
        DeadLetter {
            event_id: message_id
                .as_deref()
                .and_then(|id| Uuid::parse_str(id).ok()),
            message_id,
            routing_key,
            message_type: properties.kind().as_ref().map(|t| t.to_string()),
            producer: properties.app_id().as_ref().map(|a| a.to_string()),
            original_queue,
            first_death_reason,
            death_count,
            died_at,
            published_at: properties.timestamp().and_then(timestamp),
            headers,
            payload_len: delivery.data.len(),
            payload: delivery.data.clone(),
            properties: properties.clone(),
        }
    }

    /// The payload decoded by its message type; see [`decode_payload`].
    pub fn decoded(&self) -> DecodedPayload {
        decode_payload(self.message_type.as_deref(), &self.payload)
    }
}

fn text(value: &AMQPValue) -> Option<String> {
    match value {
        AMQPValue::LongString(s) => Some(s.to_string()),
        AMQPValue::ShortString(s) => Some(s.as_str().to_owned()),
        _ => None,
    }
}

fn unsigned(value: &AMQPValue) -> Option<u64> {
    match value {
        AMQPValue::LongLongInt(n) => u64::try_from(*n).ok(),
        AMQPValue::LongInt(n) => u64::try_from(*n).ok(),
        AMQPValue::LongUInt(n) => Some(u64::from(*n)),
        AMQPValue::ShortInt(n) => u64::try_from(*n).ok(),
        AMQPValue::ShortUInt(n) => Some(u64::from(*n)),
        AMQPValue::ShortShortInt(n) => u64::try_from(*n).ok(),
        AMQPValue::ShortShortUInt(n) => Some(u64::from(*n)),
        _ => None,
    }
}

fn timestamp(seconds: u64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(i64::try_from(seconds).ok()?, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_in_the_broker_url_is_masked() {
        assert_eq!(
            redact_url("amqp://guest:secret@127.0.0.1:5672/%2f"),
            "amqp://guest:***@127.0.0.1:5672/%2f"
        );
        assert_eq!(redact_url("amqp://127.0.0.1:5672"), "amqp://127.0.0.1:5672");
    }

    #[test]
    fn an_unknown_message_type_falls_back_to_hex_with_a_note() {
        let decoded = decode_payload(Some("civicgrid.nope.v1.Nothing"), &[0x0a, 0x01, 0xff]);
        assert_eq!(
            decoded,
            DecodedPayload::Hex {
                hex: "0a01ff".to_owned(),
                note: "unknown message type civicgrid.nope.v1.Nothing; payload shown as hex"
                    .to_owned(),
            }
        );
    }

    #[test]
    fn a_known_message_type_decodes_into_protobuf_json() {
        use prost::Message;
        let created = civicgrid_proto::grid::v1::CellCreated {
            cell: Some(civicgrid_proto::grid::v1::Cell {
                name: "cells/st01".to_owned(),
                display_name: "Qingshan Street".to_owned(),
                ..Default::default()
            }),
            ..Default::default()
        };
        let decoded = decode_payload(
            Some("civicgrid.grid.v1.CellCreated"),
            &created.encode_to_vec(),
        );
        let DecodedPayload::Json(json) = decoded else {
            panic!("not decoded: {decoded:?}");
        };
        assert_eq!(json["cell"]["displayName"], "Qingshan Street");
        assert_eq!(json["cell"]["name"], "cells/st01");
    }
}
