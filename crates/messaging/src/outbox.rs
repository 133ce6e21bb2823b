//! The transactional outbox and its relay.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use civicgrid_runtime::shutdown::pause;
use lapin::Confirmation;
use lapin::options::{BasicPublishOptions, ConfirmSelectOptions};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{BasicProperties, Channel};
use sqlx::postgres::PgListener;
use sqlx::{PgConnection, PgPool, Row};
use tokio::sync::{Mutex, Notify};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::backoff::Backoff;
use crate::broker::{Broker, BrokerError};
use crate::event::NewEvent;
use crate::topology::Topology;

/// The NOTIFY channel that wakes the relay when a row is written (the
/// outbox's trigger, migration `20261128000000`, names it too).
pub const NOTIFY_CHANNEL: &str = "civicgrid_outbox";

/// The advisory lock key the relays of one database take turns with
/// ("civicgrd" in ASCII).
const RELAY_LOCK: i64 = 0x6369_7669_6367_7264;

/// How long one batch of publishes may wait for the broker's confirms. A
/// confirm in flight when the connection drops never resolves by itself.
const CONFIRM_TIMEOUT: Duration = Duration::from_secs(10);

/// Wakes the relay even without a notification: notifications sent while
/// the listener was reconnecting are lost, the rows are not.
const POLL_INTERVAL: Duration = Duration::from_secs(1);

/// How long the relay lets notifications gather before a pass.
const COALESCE: Duration = Duration::from_millis(20);

/// How often the idle relay refreshes the `outbox_backlog` gauge.
const GAUGE_INTERVAL: Duration = Duration::from_secs(1);

/// Rows published between the relay's own vacuums of the outbox. Stamping
/// a row published leaves its old version behind, and the claim query's
/// partial index keeps an entry for each: where autovacuum is off (as on
/// the county's CI machine) a million-task load left millions of them for
/// every claim to step over. Where autovacuum runs this finds little to do.
const VACUUM_AFTER: usize = 100_000;

/// The AMQP header carrying an event's position in its producer's log, so
/// a catch-up consumer can checkpoint live events too.
pub const POSITION_HEADER: &str = "x-civicgrid-position";

/// The advisory lock key relays take turns with, for readers of the event
/// log that must wait for a relay pass in flight (see `event_log`).
pub(crate) const fn relay_lock_key() -> i64 {
    RELAY_LOCK
}

/// Writes `event` into the outbox inside the caller's transaction, with the
/// current trace context, and wakes the relay when that transaction commits.
pub async fn enqueue(conn: &mut PgConnection, event: &NewEvent) -> sqlx::Result<()> {
    enqueue_all(conn, std::slice::from_ref(event)).await
}

/// Writes `events` into the outbox inside the caller's transaction, in
/// order, with one INSERT however many there are: a bulk change of
/// thousands of rows costs one round trip, not thousands. The outbox's
/// statement trigger wakes the relay when the transaction commits.
pub async fn enqueue_all(conn: &mut PgConnection, events: &[NewEvent]) -> sqlx::Result<()> {
    if events.is_empty() {
        return Ok(());
    }
    static SQL: LazyLock<String> =
        LazyLock::new(|| format!("WITH {} SELECT 1", OutboxRows::insert_cte(1, None)));
    OutboxRows::of(events)
        .bind(sqlx::query(sqlx::AssertSqlSafe(SQL.as_str())))
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Events as the bindable columns of an outbox insert, for a command that
/// writes its own rows and their events in one statement: one round trip,
/// and atomic without BEGIN and COMMIT, since a statement is its own
/// transaction.
pub struct OutboxRows<'a> {
    event_ids: Vec<Uuid>,
    routing_keys: Vec<&'a str>,
    message_types: Vec<&'a str>,
    payloads: Vec<&'a [u8]>,
    headers: Vec<serde_json::Value>,
}

impl<'a> OutboxRows<'a> {
    /// How many parameters [`OutboxRows::bind`] adds.
    pub const PARAMETERS: usize = 5;

    /// The columns of `events`, in order.
    pub fn of(events: impl IntoIterator<Item = &'a NewEvent>) -> OutboxRows<'a> {
        let mut rows = OutboxRows {
            event_ids: Vec::new(),
            routing_keys: Vec::new(),
            message_types: Vec::new(),
            payloads: Vec::new(),
            headers: Vec::new(),
        };
        for event in events {
            rows.event_ids.push(event.event_id);
            rows.routing_keys.push(event.routing_key.as_str());
            rows.message_types.push(event.message_type.as_str());
            rows.payloads.push(event.payload.as_slice());
            // A map of strings always converts; the default is never used.
            rows.headers
                .push(serde_json::to_value(&event.trace_headers).unwrap_or_default());
        }
        rows
    }

    /// A data-modifying CTE, `outbox_rows`, inserting the events bound at
    /// parameters `$first` .. `$first + 4`. `keep`, when given, is a
    /// condition on `e.position` (the event's 1-based index) that the
    /// statement's other CTEs decide, e.g. keeping only the events of rows
    /// that were in fact inserted. WITH ORDINALITY keeps the ids (and so
    /// the relay's publish order) in the order given.
    pub fn insert_cte(first: usize, keep: Option<&str>) -> String {
        let p = |offset: usize| first + offset;
        format!(
            "outbox_rows AS ( \
               INSERT INTO outbox (event_id, routing_key, message_type, payload, headers) \
               SELECT e.event_id, e.routing_key, e.message_type, e.payload, e.headers \
               FROM UNNEST(${}::uuid[], ${}::text[], ${}::text[], ${}::bytea[], ${}::jsonb[]) \
                 WITH ORDINALITY AS e(event_id, routing_key, message_type, payload, headers, position) \
               WHERE {} \
               ORDER BY e.position \
               RETURNING 1)",
            p(0),
            p(1),
            p(2),
            p(3),
            p(4),
            keep.unwrap_or("true"),
        )
    }

    /// Binds the five columns, in the order of [`OutboxRows::insert_cte`].
    pub fn bind<'q>(
        self,
        query: sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>,
    ) -> sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>
    where
        'a: 'q,
    {
        query
            .bind(self.event_ids)
            .bind(self.routing_keys)
            .bind(self.message_types)
            .bind(self.payloads)
            .bind(self.headers)
    }
}

/// Rows not yet confirmed by the broker.
pub async fn backlog(pool: &PgPool) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT count(*) FROM outbox WHERE published_at IS NULL")
        .fetch_one(pool)
        .await
}

/// A relay failure; the relay retries with backoff.
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    /// The database failed.
    #[error("outbox database error: {0}")]
    Database(#[from] sqlx::Error),
    /// The broker failed.
    #[error(transparent)]
    Broker(#[from] BrokerError),
}

/// A relay failure seen by a caller: the broker's side is UNAVAILABLE (see
/// `From<BrokerError>`), the database's follows `status::database`.
impl From<RelayError> for tonic::Status {
    fn from(error: RelayError) -> tonic::Status {
        match error {
            RelayError::Database(error) => civicgrid_runtime::status::database(error),
            RelayError::Broker(error) => error.into(),
        }
    }
}

struct OutboxRow {
    id: i64,
    event_id: Uuid,
    routing_key: String,
    message_type: String,
    payload: Vec<u8>,
    headers: serde_json::Value,
    created_at: chrono::DateTime<chrono::Utc>,
    /// Drawn by this pass; becomes the row's position if the broker confirms it.
    position: i64,
}

/// What one relay pass did.
enum Pass {
    /// Another relay holds the lock.
    Busy,
    /// Published this many rows.
    Published(usize),
}

/// Publishes outbox rows to the events exchange, in commit order per replica.
pub struct Relay {
    pool: PgPool,
    broker: Arc<Broker>,
    topology: Topology,
    producer: String,
    batch_size: i64,
    channel: Mutex<Option<Channel>>,
    unroutable_keys: std::sync::Mutex<HashSet<String>>,
    retention_days: Option<u32>,
}

impl Relay {
    /// A relay for `producer`'s outbox in `pool`.
    pub fn new(pool: PgPool, broker: Arc<Broker>, topology: Topology, producer: &str) -> Relay {
        Relay {
            pool,
            broker,
            topology,
            producer: producer.to_owned(),
            batch_size: 200,
            channel: Mutex::new(None),
            unroutable_keys: std::sync::Mutex::default(),
            retention_days: None,
        }
    }

    /// Prunes published rows older than `days` (setting
    /// `outbox_retention_days`); `None`, the default, keeps the whole log.
    /// Consumers whose checkpoint falls behind the pruned part can no longer
    /// catch up or rebuild from this log.
    pub fn with_retention(mut self, days: Option<u32>) -> Relay {
        self.retention_days = days;
        self
    }

    /// Takes up to one batch of unpublished rows, publishes them with
    /// confirms and marks the confirmed ones published. Returns how many
    /// were published; 0 also when another replica's relay is at work.
    pub async fn relay_once(&self) -> Result<usize, RelayError> {
        match self.pass().await? {
            Pass::Busy => Ok(0),
            Pass::Published(n) => Ok(n),
        }
    }

    async fn pass(&self) -> Result<Pass, RelayError> {
        // The published mark need not wait for the WAL flush: if a crash
        // loses it, the rows are published again and consumers drop the
        // repeats by event id. Waiting would put a second fsync beside
        // every request's own commit.
        let mut tx = self
            .pool
            .begin_with("BEGIN; SET LOCAL synchronous_commit = off")
            .await?;
        // One relay per database publishes at a time, under a transaction
        // advisory lock: the rows go out strictly in id order whichever
        // replica holds it, and no row lock is written per event (locking
        // each row cost a WAL record per event on the hot path). The lock
        // goes with the transaction, so a relay that dies frees it. It is
        // taken in a statement of its own: the claim's snapshot must begin
        // after the lock, or it could miss the marks of the relay that held
        // it just before and publish those rows again.
        let held: bool = sqlx::query_scalar("SELECT pg_try_advisory_xact_lock($1)")
            .bind(RELAY_LOCK)
            .fetch_one(&mut *tx)
            .await?;
        if !held {
            return Ok(Pass::Busy);
        }
        let rows = sqlx::query(
            "SELECT id, event_id, routing_key, message_type, payload, headers, created_at \
             FROM outbox WHERE published_at IS NULL ORDER BY id LIMIT $1",
        )
        .bind(self.batch_size)
        .fetch_all(&mut *tx)
        .await?;
        if rows.is_empty() {
            return Ok(Pass::Published(0));
        }
        // Positions are drawn here, after the rows committed and under the
        // lock, so they follow commit order across passes; within the batch
        // they follow ids. A sequence never hands a number out twice, so a
        // pass that rolls back after publishing leaves a hole, never a
        // position that later names another event (its live messages carry
        // a number lower than any later pass's).
        let mut positions: Vec<i64> =
            sqlx::query_scalar("SELECT nextval('outbox_position_seq') FROM generate_series(1, $1)")
                .bind(rows.len() as i64)
                .fetch_all(&mut *tx)
                .await?;
        positions.sort_unstable();
        let rows = rows
            .into_iter()
            .zip(positions)
            .map(|(row, position)| {
                Ok(OutboxRow {
                    id: row.try_get("id")?,
                    event_id: row.try_get("event_id")?,
                    routing_key: row.try_get("routing_key")?,
                    message_type: row.try_get("message_type")?,
                    payload: row.try_get("payload")?,
                    headers: row.try_get("headers")?,
                    created_at: row.try_get("created_at")?,
                    position,
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()?;

        let confirmed = match self.publish_all(&rows).await {
            Ok(confirmed) => confirmed,
            Err(error) => {
                // Drop the channel: it may be half-dead. The rows stay unpublished.
                *self.channel.lock().await = None;
                return Err(error);
            }
        };
        let (ids, positions): (Vec<i64>, Vec<i64>) = confirmed.iter().copied().unzip();
        sqlx::query(
            "UPDATE outbox o SET published_at = now(), position = c.position \
             FROM UNNEST($1::bigint[], $2::bigint[]) AS c(id, position) WHERE o.id = c.id",
        )
        .bind(&ids)
        .bind(&positions)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        metrics::counter!("outbox_published_total").increment(confirmed.len() as u64);
        if confirmed.len() < rows.len() {
            return Err(BrokerError::Nacked(format!(
                "{} of {} events",
                rows.len() - confirmed.len(),
                rows.len()
            ))
            .into());
        }
        Ok(Pass::Published(confirmed.len()))
    }

    /// Publishes every row, then waits for all confirms; returns the ids the
    /// broker acknowledged, with their positions. A nack or timeout leaves a
    /// row for the next pass.
    async fn publish_all(&self, rows: &[OutboxRow]) -> Result<Vec<(i64, i64)>, RelayError> {
        let channel = self.channel().await?;
        let mut pending = Vec::with_capacity(rows.len());
        for row in rows {
            let confirm = channel
                .basic_publish(
                    self.topology.exchange.as_str().into(),
                    row.routing_key.as_str().into(),
                    // mandatory: the broker tells us when no queue is bound.
                    BasicPublishOptions {
                        mandatory: true,
                        immediate: false,
                    },
                    &row.payload,
                    self.properties(row),
                )
                .await
                .map_err(BrokerError::Amqp)?;
            pending.push((row, confirm));
        }
        let mut confirmed = Vec::with_capacity(rows.len());
        let wait_all = async {
            for (row, confirm) in pending {
                match confirm.await? {
                    Confirmation::Ack(None) | Confirmation::NotRequested => {
                        confirmed.push((row.id, row.position))
                    }
                    Confirmation::Ack(Some(returned)) => {
                        // No queue is bound for this key: nobody consumes it yet.
                        // Retrying cannot help, so it counts as published.
                        self.note_unroutable(&row.routing_key, returned.reply_text.as_str());
                        confirmed.push((row.id, row.position));
                    }
                    Confirmation::Nack(_) => {
                        tracing::warn!(event_id = %row.event_id, "broker nacked event; will retry");
                    }
                }
            }
            Ok::<(), lapin::Error>(())
        };
        match tokio::time::timeout(CONFIRM_TIMEOUT, wait_all).await {
            Ok(Ok(())) => Ok(confirmed),
            Ok(Err(error)) => Err(BrokerError::Amqp(error).into()),
            Err(_) => Err(BrokerError::Timeout("publisher confirms").into()),
        }
    }

    /// Counts an event no queue took. Each routing key is logged once per
    /// relay: a key nobody consumes yet would otherwise log every event.
    fn note_unroutable(&self, routing_key: &str, reply: &str) {
        metrics::counter!("outbox_unroutable_total", "routing_key" => routing_key.to_owned())
            .increment(1);
        let first = self
            .unroutable_keys
            .lock()
            .map(|mut keys| keys.insert(routing_key.to_owned()))
            .unwrap_or(false);
        if first {
            tracing::warn!(
                routing_key,
                reply,
                "events unroutable: no queue is bound for this key; further ones are only counted in outbox_unroutable_total"
            );
        } else {
            tracing::debug!(routing_key, reply, "event unroutable");
        }
    }

    fn properties(&self, row: &OutboxRow) -> BasicProperties {
        let mut headers = FieldTable::default();
        headers.insert(POSITION_HEADER.into(), AMQPValue::LongLongInt(row.position));
        if let serde_json::Value::Object(map) = &row.headers {
            for (key, value) in map {
                if let Some(value) = value.as_str() {
                    headers.insert(key.as_str().into(), AMQPValue::LongString(value.into()));
                }
            }
        }
        BasicProperties::default()
            .with_message_id(row.event_id.to_string().into())
            .with_type(row.message_type.as_str().into())
            .with_content_type("application/x-protobuf".into())
            .with_app_id(self.producer.as_str().into())
            .with_timestamp(u64::try_from(row.created_at.timestamp()).unwrap_or_default())
            // 2 = persistent: written to disk before the confirm.
            .with_delivery_mode(2)
            .with_headers(headers)
    }

    async fn channel(&self) -> Result<Channel, BrokerError> {
        let mut slot = self.channel.lock().await;
        if let Some(channel) = slot.as_ref()
            && channel.status().connected()
        {
            return Ok(channel.clone());
        }
        let channel = self.broker.channel().await?;
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await?;
        self.topology.declare_exchanges(&channel).await?;
        *slot = Some(channel.clone());
        Ok(channel)
    }

    /// Publishes until the outbox is empty; for tests and shutdown. While
    /// another relay (or a log reader waiting for one) holds the lock it
    /// tries again shortly, a bounded number of times.
    pub async fn drain(&self) -> Result<usize, RelayError> {
        let mut total = 0;
        let mut busy = 0;
        loop {
            match self.pass().await? {
                Pass::Published(0) => return Ok(total),
                Pass::Published(published) => total += published,
                Pass::Busy if busy < 200 => {
                    busy += 1;
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                Pass::Busy => return Ok(total),
            }
        }
    }

    /// Runs until `shutdown`: relays whenever a commit notifies, at least
    /// every second, and with backoff while the broker or database is down.
    pub async fn run(self, shutdown: CancellationToken) {
        let wake = Arc::new(Notify::new());
        let stop_listening = shutdown.child_token();
        let listening = tokio::spawn(listen(
            self.pool.clone(),
            wake.clone(),
            stop_listening.clone(),
        ));
        let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(10));
        let mut last_prune = tokio::time::Instant::now();
        let mut last_gauge: Option<tokio::time::Instant> = None;
        let mut since_vacuum = 0;
        loop {
            if shutdown.is_cancelled() {
                break;
            }
            let relayed = self.relay_once().await;
            if let Ok(published) = relayed {
                since_vacuum += published;
                if since_vacuum >= VACUUM_AFTER {
                    self.vacuum().await;
                    since_vacuum = 0;
                }
            }
            match relayed {
                Ok(published) if published as i64 == self.batch_size => continue,
                Ok(_) => {
                    backoff.reset();
                    // A count per pass would be one more query per commit
                    // under load; the gauge is scraped every few seconds.
                    if last_gauge.is_none_or(|at| at.elapsed() >= GAUGE_INTERVAL) {
                        self.record_backlog().await;
                        last_gauge = Some(tokio::time::Instant::now());
                    }
                    if last_prune.elapsed() > Duration::from_secs(3600) {
                        if let Err(error) = self.prune().await {
                            tracing::warn!(%error, "pruning published outbox rows failed");
                        }
                        last_prune = tokio::time::Instant::now();
                    }
                    let woken = tokio::select! {
                        () = shutdown.cancelled() => break,
                        woken = tokio::time::timeout(POLL_INTERVAL, wake.notified()) => woken.is_ok(),
                    };
                    if woken {
                        // Woken by a commit: give concurrent commits a moment to
                        // land, so one pass publishes them together instead of
                        // one pass (five round trips and a confirm) per event.
                        tokio::time::sleep(COALESCE).await;
                    }
                }
                Err(error) => {
                    let delay = backoff.next_delay();
                    tracing::warn!(%error, retry_in_ms = delay.as_millis() as u64, "outbox relay failed");
                    self.record_backlog().await;
                    if !pause(delay, &shutdown).await {
                        break;
                    }
                }
            }
        }
        stop_listening.cancel();
        let _ = listening.await;
        tracing::info!("outbox relay stopped");
    }

    async fn record_backlog(&self) {
        if let Ok(count) = backlog(&self.pool).await {
            metrics::gauge!("outbox_backlog").set(count as f64);
        }
    }

    /// Reclaims the published rows' old versions (VACUUM cannot run in a
    /// transaction, so it goes straight to the pool). A failure is logged:
    /// the relay works on without it.
    async fn vacuum(&self) {
        if let Err(error) = sqlx::raw_sql("VACUUM (ANALYZE) outbox")
            .execute(&self.pool)
            .await
        {
            tracing::warn!(%error, "vacuuming the outbox failed");
        }
    }

    /// Deletes published rows older than the retention, recording the
    /// highest position deleted so readers of older events get an error.
    pub async fn prune(&self) -> sqlx::Result<u64> {
        let Some(days) = self.retention_days else {
            return Ok(0);
        };
        let pruned: i64 = sqlx::query_scalar(
            "WITH gone AS ( \
               DELETE FROM outbox WHERE published_at IS NOT NULL \
                 AND published_at < now() - make_interval(days => $1) RETURNING position), \
             mark AS ( \
               INSERT INTO outbox_pruned (up_to_position) SELECT max(position) FROM gone HAVING count(*) > 0 \
               ON CONFLICT (singleton) DO UPDATE \
                 SET up_to_position = greatest(outbox_pruned.up_to_position, EXCLUDED.up_to_position)) \
             SELECT count(*) FROM gone",
        )
        .bind(i32::try_from(days).unwrap_or(i32::MAX))
        .fetch_one(&self.pool)
        .await?;
        Ok(u64::try_from(pruned).unwrap_or(0))
    }
}

/// Header map of an AMQP field table (string values only).
pub(crate) fn header_map(table: Option<&FieldTable>) -> HashMap<String, String> {
    let mut map = HashMap::new();
    if let Some(table) = table {
        for (key, value) in table {
            let text = match value {
                AMQPValue::LongString(s) => Some(s.to_string()),
                AMQPValue::ShortString(s) => Some(s.as_str().to_owned()),
                _ => None,
            };
            if let Some(text) = text {
                map.insert(key.as_str().to_owned(), text);
            }
        }
    }
    map
}

/// Reads the outbox channel's notifications on a task of its own, for as
/// long as the relay runs, and wakes the relay for each. Reading must never
/// pause: a backend whose notifications go unread blocks writing them from
/// inside a transaction, and that transaction's snapshot holds back vacuum
/// for the whole database. (It did when the relay, busy with a backlog of
/// millions, read them only when idle: dead outbox rows piled up and each
/// pass's scan for unpublished rows slowed to 400 ms.) When the listener's
/// connection is lost it reconnects with backoff; the relay polls meanwhile.
async fn listen(pool: PgPool, wake: Arc<Notify>, shutdown: CancellationToken) {
    let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(10));
    loop {
        let connected = async {
            let mut listener = PgListener::connect_with(&pool).await?;
            listener.listen(NOTIFY_CHANNEL).await?;
            Ok::<_, sqlx::Error>(listener)
        };
        let mut listener = tokio::select! {
            () = shutdown.cancelled() => return,
            connected = connected => match connected {
                Ok(listener) => listener,
                Err(error) => {
                    let delay = backoff.next_delay();
                    tracing::debug!(%error, retry_in_ms = delay.as_millis() as u64, "outbox listener not connected; the relay polls");
                    if pause(delay, &shutdown).await {
                        continue;
                    }
                    return;
                }
            },
        };
        backoff.reset();
        // The relay may have missed commits while this was away.
        wake.notify_one();
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                received = listener.recv() => match received {
                    Ok(_) => wake.notify_one(),
                    Err(error) => {
                        tracing::warn!(%error, "outbox listener lost; the relay polls until it is back");
                        break;
                    }
                },
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use tonic::Code;

    use super::*;

    #[test]
    fn a_relay_failure_reaches_a_caller_as_unavailable_when_broker_or_database_is_away() {
        let broker = RelayError::Broker(BrokerError::Timeout("publisher confirms"));
        assert_eq!(tonic::Status::from(broker).code(), Code::Unavailable);
        let database = RelayError::Database(sqlx::Error::PoolTimedOut);
        assert_eq!(tonic::Status::from(database).code(), Code::Unavailable);
        let bug = RelayError::Database(sqlx::Error::RowNotFound);
        assert_eq!(tonic::Status::from(bug).code(), Code::Internal);
    }
}
