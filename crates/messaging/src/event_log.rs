//! The producer side of event history: `civicgrid.events.v1.EventLogService`
//! over the service's outbox, kept as an append-only log.
//!
//! Positions are drawn by the relay in commit order (see `outbox`), so a
//! read of `position > after` never misses a row that commits later. Before
//! it fixes the head, a read waits for any relay pass in flight: an event
//! that reached the broker before a consumer's queue was bound is then in
//! the log the consumer reads right after binding.

use std::collections::HashMap;

use civicgrid_proto::events::v1 as pb;
use civicgrid_proto::events::v1::event_log_service_server::EventLogService;
use civicgrid_runtime::auth::{Caller, Role};
use civicgrid_runtime::status::{self, FieldViolations};
use sqlx::{PgPool, Row};
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::outbox::relay_lock_key;

/// The roles that may read an event log (with scope `*`): another
/// service's identity, an integrating system, a county administrator.
pub const READER_ROLES: [Role; 3] = [Role::Service, Role::IntegrationClient, Role::CountyAdmin];

/// Rows fetched per page; a page is one streamed message.
const PAGE_ROWS: i64 = 256;

/// A page ends early once its payloads pass this size, well below the 4 MiB
/// message limit whatever the events weigh.
const PAGE_BYTES: usize = 1024 * 1024;

/// Longest accepted routing-key pattern (AMQP's short-string limit).
const MAX_PATTERN_BYTES: usize = 255;

/// Whether `routing_key` matches the AMQP topic `pattern`: words separated
/// by dots, `*` standing for exactly one word and `#` for zero or more.
pub fn topic_matches(pattern: &str, routing_key: &str) -> bool {
    fn matches(pattern: &[&str], key: &[&str]) -> bool {
        match pattern.split_first() {
            None => key.is_empty(),
            Some((&"#", rest)) => (0..=key.len()).any(|skip| matches(rest, &key[skip..])),
            Some((&"*", rest)) => !key.is_empty() && matches(rest, &key[1..]),
            Some((word, rest)) => key.first() == Some(word) && matches(rest, &key[1..]),
        }
    }
    let pattern: Vec<&str> = pattern.split('.').collect();
    let key: Vec<&str> = routing_key.split('.').collect();
    matches(&pattern, &key)
}

/// Why `pattern` is not a topic pattern, if it is not one: non-empty words
/// of ASCII letters, digits, `-` and `_`, or a lone `*` or `#`.
pub fn pattern_problem(pattern: &str) -> Option<&'static str> {
    if pattern.is_empty() {
        return Some("must not be empty");
    }
    if pattern.len() > MAX_PATTERN_BYTES {
        return Some("must be at most 255 bytes");
    }
    for word in pattern.split('.') {
        if word.is_empty() {
            return Some("has an empty word (two dots, or a dot at an end)");
        }
        if word == "*" || word == "#" {
            continue;
        }
        if word.contains(['*', '#']) {
            return Some("`*` and `#` must stand alone between dots");
        }
        if !word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Some("words may hold only ASCII letters, digits, `-` and `_`");
        }
    }
    None
}

/// Refuses callers who may not read event logs.
pub fn authorize_reader(caller: &Caller) -> Result<(), Status> {
    if caller.has_any_role(&READER_ROLES) && caller.sees_everything() {
        Ok(())
    } else {
        Err(Status::permission_denied(
            "reading the event log needs scope `*` and the role service, integration_client or county_admin",
        ))
    }
}

/// A validated `ReadEventsRequest`.
struct Read {
    after: i64,
    patterns: Vec<String>,
    max_events: Option<usize>,
}

fn validate(request: pb::ReadEventsRequest) -> Result<Read, Status> {
    let mut violations = FieldViolations::new();
    if request.after_position < 0 {
        violations.add("after_position", "must not be negative");
    }
    if request.max_events < 0 {
        violations.add(
            "max_events",
            "must not be negative (0 reads up to the head)",
        );
    }
    for (i, pattern) in request.routing_key_patterns.iter().enumerate() {
        if let Some(problem) = pattern_problem(pattern) {
            violations.add(format!("routing_key_patterns[{i}]"), problem);
        }
    }
    violations.check(Read {
        after: request.after_position,
        patterns: request.routing_key_patterns,
        max_events: usize::try_from(request.max_events).ok().filter(|n| *n > 0),
    })
}

/// `EventLogService` over one service's outbox.
#[derive(Clone)]
pub struct EventLogApi {
    pool: PgPool,
}

impl EventLogApi {
    /// The log in `pool`'s `outbox` table.
    pub fn new(pool: PgPool) -> EventLogApi {
        EventLogApi { pool }
    }
}

/// The log's head once every relay pass in flight has ended: the shared
/// lock waits for the relay's exclusive one and is released at once.
async fn head(pool: &PgPool) -> sqlx::Result<i64> {
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock_shared($1)")
        .bind(relay_lock_key())
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    // A statement of its own, after the wait: its snapshot sees the pass
    // that held the lock.
    sqlx::query_scalar("SELECT coalesce(max(position), 0) FROM outbox")
        .fetch_one(pool)
        .await
}

async fn pruned_up_to(pool: &PgPool) -> sqlx::Result<i64> {
    Ok(
        sqlx::query_scalar::<_, i64>("SELECT up_to_position FROM outbox_pruned")
            .fetch_optional(pool)
            .await?
            .unwrap_or(0),
    )
}

fn event_of(row: &sqlx::postgres::PgRow) -> sqlx::Result<pb::Event> {
    let event_id: Uuid = row.try_get("event_id")?;
    let headers: serde_json::Value = row.try_get("headers")?;
    let headers: HashMap<String, String> = match headers {
        serde_json::Value::Object(map) => map
            .into_iter()
            .filter_map(|(k, v)| v.as_str().map(|v| (k, v.to_owned())))
            .collect(),
        _ => HashMap::new(),
    };
    let published: Option<chrono::DateTime<chrono::Utc>> = row.try_get("published_at")?;
    Ok(pb::Event {
        position: row.try_get("position")?,
        event_id: event_id.to_string(),
        routing_key: row.try_get("routing_key")?,
        message_type: row.try_get("message_type")?,
        payload: row.try_get("payload")?,
        headers,
        publish_time: published.map(|at| prost_types::Timestamp {
            seconds: at.timestamp(),
            nanos: i32::try_from(at.timestamp_subsec_nanos()).unwrap_or(0),
        }),
    })
}

/// Streams pages of `read` into `tx` until the head (or `max_events`).
async fn stream_log(
    pool: PgPool,
    read: Read,
    head: i64,
    tx: tokio::sync::mpsc::Sender<Result<pb::ReadEventsResponse, Status>>,
) {
    let mut cursor = read.after;
    let mut sent = 0usize;
    loop {
        let rows = sqlx::query(
            "SELECT position, event_id, routing_key, message_type, payload, headers, published_at \
             FROM outbox WHERE position > $1 AND position <= $2 ORDER BY position LIMIT $3",
        )
        .bind(cursor)
        .bind(head)
        .bind(PAGE_ROWS)
        .fetch_all(&pool)
        .await;
        let rows = match rows {
            Ok(rows) => rows,
            Err(error) => {
                let _ = tx.send(Err(status::database(error))).await;
                return;
            }
        };
        let page_full = rows.len() as i64 == PAGE_ROWS;
        let mut events = Vec::new();
        let mut scanned = cursor;
        let mut limit_reached = false;
        let mut stopped_early = false;
        let mut bytes = 0usize;
        for row in &rows {
            let event = match event_of(row) {
                Ok(event) => event,
                Err(error) => {
                    let _ = tx.send(Err(status::database(error))).await;
                    return;
                }
            };
            scanned = event.position;
            let wanted = read.patterns.is_empty()
                || read
                    .patterns
                    .iter()
                    .any(|pattern| topic_matches(pattern, &event.routing_key));
            if wanted {
                bytes += event.payload.len();
                events.push(event);
                sent += 1;
                if read.max_events.is_some_and(|max| sent >= max) {
                    limit_reached = true;
                    break;
                }
            }
            if bytes >= PAGE_BYTES {
                // The rest comes in the next page.
                stopped_early = true;
                break;
            }
        }
        let more = !limit_reached && (page_full || stopped_early);
        if !more && !limit_reached {
            // Nothing else up to the head: all of it was considered.
            scanned = head;
        }
        let response = pb::ReadEventsResponse {
            events,
            scanned_position: scanned,
            head_position: head,
        };
        if tx.send(Ok(response)).await.is_err() {
            return; // the caller went away
        }
        if !more || scanned >= head {
            return;
        }
        cursor = scanned;
    }
}

#[tonic::async_trait]
impl EventLogService for EventLogApi {
    type ReadEventsStream = ReceiverStream<Result<pb::ReadEventsResponse, Status>>;

    async fn read_events(
        &self,
        request: Request<pb::ReadEventsRequest>,
    ) -> Result<Response<Self::ReadEventsStream>, Status> {
        authorize_reader(Caller::of(&request)?)?;
        let read = validate(request.into_inner())?;
        let pruned = pruned_up_to(&self.pool).await.map_err(status::database)?;
        if read.after < pruned {
            return Err(Status::failed_precondition(format!(
                "events up to position {pruned} were pruned (setting outbox_retention_days); read after position {pruned} or later"
            )));
        }
        let head = head(&self.pool).await.map_err(status::database)?;
        let (tx, rx) = tokio::sync::mpsc::channel(4);
        tokio::spawn(stream_log(self.pool.clone(), read, head, tx));
        Ok(Response::new(ReceiverStream::new(rx)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_patterns_match_like_rabbitmq() {
        for (pattern, key) in [
            ("grid.cell.created", "grid.cell.created"),
            ("grid.cell.*", "grid.cell.updated"),
            ("grid.#", "grid"),
            ("grid.#", "grid.task.reported"),
            ("#", "anything.at.all"),
            ("*.task.*", "grid.task.closed"),
            ("grid.#.closed", "grid.task.closed"),
            ("grid.#.closed", "grid.closed"),
        ] {
            assert!(topic_matches(pattern, key), "{pattern} should match {key}");
        }
        for (pattern, key) in [
            ("grid.cell.*", "grid.cell"),
            ("grid.cell.*", "grid.cell.a.b"),
            ("grid.*", "grid"),
            ("grid.task.#", "grid.cell.created"),
            ("grid.cell.created", "grid.cell.created.x"),
        ] {
            assert!(
                !topic_matches(pattern, key),
                "{pattern} should not match {key}"
            );
        }
    }

    #[test]
    fn malformed_patterns_are_named() {
        for good in ["grid.cell.*", "#", "grid.#", "a-b.c_d"] {
            assert_eq!(pattern_problem(good), None, "{good}");
        }
        for bad in [
            "",
            "grid..cell",
            ".grid",
            "grid.",
            "grid.ce*",
            "grid.#x",
            "grid.cell!",
            &"a".repeat(256),
        ] {
            assert!(pattern_problem(bad).is_some(), "{bad:?}");
        }
    }
}
