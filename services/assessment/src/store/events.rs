//! The service's own store of the grid events it applied.

use chrono::{DateTime, Utc};
use civicgrid_proto::grid::v1 as grid;
use prost::Message;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::facts::{TaskEvent, TaskEventBody};

/// A grid event as received, to be stored.
#[derive(Debug, Clone)]
pub struct StoredEvent {
    /// The producer's event id.
    pub event_id: Uuid,
    /// e.g. `grid.task.accepted`.
    pub routing_key: String,
    /// "tasks/{id}".
    pub aggregate_id: String,
    /// The task's version the event carries.
    pub aggregate_version: i64,
    /// When the change committed in the grid.
    pub occurred_at: DateTime<Utc>,
    /// The producer's log position, when known.
    pub position: Option<i64>,
    /// The encoded protobuf message.
    pub payload: Vec<u8>,
}

/// Serialises the work on one task's events across consumers (task and
/// supervision events arrive on two queues), so each recomputation sees
/// every event committed before it.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn lock_aggregate(conn: &mut PgConnection, aggregate_id: &str) -> sqlx::Result<()> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 7311))")
        .bind(aggregate_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// [`lock_aggregate`] for several tasks at once, taken in one order
/// (bytewise, as `tasks` must be sorted) so two batches never deadlock.
#[tracing::instrument(level = "debug", skip_all, fields(tasks = tasks.len()))]
pub async fn lock_aggregates(conn: &mut PgConnection, tasks: &[&str]) -> sqlx::Result<()> {
    sqlx::query(
        "SELECT pg_advisory_xact_lock(hashtextextended(t, 7311)) \
         FROM UNNEST($1::text[]) WITH ORDINALITY AS a(t, n) ORDER BY n",
    )
    .bind(tasks)
    .execute(conn)
    .await?;
    Ok(())
}

/// Stores `events` in one statement; returns the ids of those stored now
/// (events stored before are skipped).
#[tracing::instrument(level = "debug", skip_all, fields(events = events.len()))]
pub async fn insert_many(
    conn: &mut PgConnection,
    events: &[StoredEvent],
) -> sqlx::Result<std::collections::HashSet<Uuid>> {
    let ids: Vec<Uuid> = events.iter().map(|e| e.event_id).collect();
    let keys: Vec<&str> = events.iter().map(|e| e.routing_key.as_str()).collect();
    let tasks: Vec<&str> = events.iter().map(|e| e.aggregate_id.as_str()).collect();
    let versions: Vec<i64> = events.iter().map(|e| e.aggregate_version).collect();
    let times: Vec<DateTime<Utc>> = events.iter().map(|e| e.occurred_at).collect();
    let positions: Vec<Option<i64>> = events.iter().map(|e| e.position).collect();
    let payloads: Vec<&[u8]> = events.iter().map(|e| e.payload.as_slice()).collect();
    sqlx::query_scalar(
        "INSERT INTO grid_events (event_id, routing_key, aggregate_id, aggregate_version, \
         occurred_at, position, payload) \
         SELECT * FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::bigint[], \
                              $5::timestamptz[], $6::bigint[], $7::bytea[]) \
         ON CONFLICT (event_id) DO NOTHING RETURNING event_id",
    )
    .bind(&ids)
    .bind(&keys)
    .bind(&tasks)
    .bind(&versions)
    .bind(&times)
    .bind(&positions)
    .bind(&payloads)
    .fetch_all(conn)
    .await
    .map(|ids| ids.into_iter().collect())
}

/// Stores `event`; false when it was stored before (a duplicate).
#[tracing::instrument(level = "debug", skip_all, fields(event_id = %event.event_id))]
pub async fn insert(conn: &mut PgConnection, event: &StoredEvent) -> sqlx::Result<bool> {
    let inserted = sqlx::query(
        "INSERT INTO grid_events (event_id, routing_key, aggregate_id, aggregate_version, \
         occurred_at, position, payload) VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (event_id) DO NOTHING",
    )
    .bind(event.event_id)
    .bind(&event.routing_key)
    .bind(&event.aggregate_id)
    .bind(event.aggregate_version)
    .bind(event.occurred_at)
    .bind(event.position)
    .bind(&event.payload)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(inserted > 0)
}

/// Every stored event of one task, decoded.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn of_task(conn: &mut PgConnection, aggregate_id: &str) -> sqlx::Result<Vec<TaskEvent>> {
    let rows: Vec<(Uuid, String, i64, Vec<u8>)> = sqlx::query_as(
        "SELECT event_id, routing_key, aggregate_version, payload FROM grid_events \
         WHERE aggregate_id = $1 ORDER BY aggregate_version, event_id",
    )
    .bind(aggregate_id)
    .fetch_all(conn)
    .await?;
    rows.into_iter()
        .map(|(event_id, key, version, payload)| decode(event_id, &key, version, &payload))
        .collect()
}

/// Every stored event of each of `tasks` but those in `except` (the ones
/// the caller holds already), decoded, by task; a task with none is absent.
#[tracing::instrument(level = "debug", skip_all, fields(tasks = tasks.len()))]
pub async fn of_tasks_except(
    conn: &mut PgConnection,
    tasks: &[String],
    except: &[Uuid],
) -> sqlx::Result<std::collections::BTreeMap<String, Vec<TaskEvent>>> {
    let rows: Vec<(String, Uuid, String, i64, Vec<u8>)> = sqlx::query_as(
        "SELECT aggregate_id, event_id, routing_key, aggregate_version, payload FROM grid_events \
         WHERE aggregate_id = ANY($1) AND event_id <> ALL($2) \
         ORDER BY aggregate_id, aggregate_version, event_id",
    )
    .bind(tasks)
    .bind(except)
    .fetch_all(conn)
    .await?;
    let mut out: std::collections::BTreeMap<String, Vec<TaskEvent>> = Default::default();
    for (task, event_id, key, version, payload) in rows {
        let event = decode(event_id, &key, version, &payload)?;
        out.entry(task).or_default().push(event);
    }
    Ok(out)
}

/// `event` decoded as [`of_tasks_except`] reads it back.
pub fn decoded(event: &StoredEvent) -> sqlx::Result<TaskEvent> {
    decode(
        event.event_id,
        &event.routing_key,
        event.aggregate_version,
        &event.payload,
    )
}

/// Every task with stored events, in name order.
pub async fn tasks(conn: &mut PgConnection) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar("SELECT DISTINCT aggregate_id FROM grid_events ORDER BY aggregate_id")
        .fetch_all(conn)
        .await
}

/// How many events are stored.
pub async fn count(conn: &mut PgConnection) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT count(*) FROM grid_events")
        .fetch_one(conn)
        .await
}

/// A stored payload back into its event; one that no longer decodes is a
/// loud error (the store only holds what was decoded on the way in).
fn decode(event_id: Uuid, key: &str, version: i64, payload: &[u8]) -> sqlx::Result<TaskEvent> {
    let bad = |what: String| {
        sqlx::Error::Decode(format!("grid_events.payload of {event_id}: {what}").into())
    };
    let body = if let Some(action) = key.strip_prefix("grid.task.") {
        TaskEventBody::Changed {
            action: action.to_owned(),
            event: Box::new(grid::TaskChanged::decode(payload).map_err(|e| bad(e.to_string()))?),
        }
    } else if let Some(change) = key.strip_prefix("grid.supervision.") {
        TaskEventBody::Supervision {
            change: change.to_owned(),
            event: Box::new(
                grid::SupervisionChanged::decode(payload).map_err(|e| bad(e.to_string()))?,
            ),
        }
    } else {
        return Err(bad(format!("unexpected routing key {key}")));
    };
    Ok(TaskEvent {
        event_id,
        version,
        body,
    })
}

/// The stored events of the next `limit` tasks after `after` (by name),
/// each task's in version order: a rebuild reads the store in such pages.
pub async fn page_of_tasks(
    conn: &mut PgConnection,
    after: &str,
    limit: i64,
) -> sqlx::Result<Vec<(String, TaskEvent)>> {
    let rows: Vec<(String, Uuid, String, i64, Vec<u8>)> = sqlx::query_as(
        "SELECT aggregate_id, event_id, routing_key, aggregate_version, payload FROM grid_events \
         WHERE aggregate_id IN (SELECT DISTINCT aggregate_id FROM grid_events WHERE aggregate_id > $1 \
                                ORDER BY aggregate_id LIMIT $2) \
         ORDER BY aggregate_id, aggregate_version, event_id",
    )
    .bind(after)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.into_iter()
        .map(|(task, event_id, key, version, payload)| {
            Ok((task, decode(event_id, &key, version, &payload)?))
        })
        .collect()
}
