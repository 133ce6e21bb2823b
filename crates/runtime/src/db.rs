//! The service's PostgreSQL pool and its embedded migrations.

use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgPool};

use crate::config::Settings;

/// A connection idle for longer than this is pinged before it is handed
/// out. sqlx's default pings on every acquire: a whole extra round trip on
/// each request's transaction. A connection in steady use proves itself
/// alive by its last query; one that has rested may have been cut (a
/// database restart, a proxy's idle timeout) and is tested first.
const PING_AFTER_IDLE: Duration = Duration::from_secs(1);

/// A pool that connects lazily, so a service can start (and report
/// NOT_SERVING) while its database is still coming up. A short acquire
/// timeout turns an outage into a quick UNAVAILABLE instead of a 30 s hang.
///
/// JIT compilation is off: the services' queries are short, and a plan the
/// planner misjudges (tables never analysed, as where autovacuum is off)
/// spent 200 ms compiling a statement that runs in 5.
pub fn pool(settings: &Settings) -> anyhow::Result<PgPool> {
    let options: PgConnectOptions = settings
        .database_url
        .parse()
        .map_err(|e| anyhow::anyhow!("database_url is not usable: {e}"))?;
    let options = options.options([("jit", "off")]);
    let pool = PgPoolOptions::new()
        .max_connections(settings.database_max_connections)
        .acquire_timeout(settings.database_acquire_timeout())
        .test_before_acquire(false)
        .before_acquire(|connection, meta| {
            Box::pin(async move {
                if meta.idle_for > PING_AFTER_IDLE {
                    connection.ping().await?;
                }
                Ok(true)
            })
        })
        .connect_lazy_with(options);
    Ok(pool)
}

/// Applies `migrator`, retrying while the database is unreachable for up to
/// `patience`. sqlx holds a PostgreSQL advisory lock (keyed on the database
/// name) around the whole run, so replicas starting together apply each
/// migration exactly once and the others wait, then find nothing to do.
pub async fn migrate(pool: &PgPool, migrator: &Migrator, patience: Duration) -> anyhow::Result<()> {
    let started = tokio::time::Instant::now();
    let mut delay = Duration::from_millis(200);
    loop {
        match migrator.run(pool).await {
            Ok(()) => return Ok(()),
            Err(error) if is_unreachable(&error) && started.elapsed() < patience => {
                tracing::warn!(%error, retry_in_ms = delay.as_millis() as u64, "database not reachable for migrations");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
            }
            Err(error) => return Err(anyhow::anyhow!("migrations failed: {error}")),
        }
    }
}

fn is_unreachable(error: &sqlx::migrate::MigrateError) -> bool {
    matches!(
        error,
        sqlx::migrate::MigrateError::Execute(
            sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::Tls(_)
        )
    )
}
