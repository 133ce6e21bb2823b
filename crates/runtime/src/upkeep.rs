//! Table statistics and dead rows kept in check where PostgreSQL's
//! autovacuum is off.
//!
//! A table that is never analysed has no statistics, and the planner then
//! guesses: at a county's size it chose sequential scans for the grid's
//! `task_assignments` (a million tuples read per lookup of a few tasks)
//! and for assessment's `metric_facts` and `metric_values`, which made a
//! large load's consumers three times slower than the same plans with
//! statistics. Some installations run with autovacuum off (this project's
//! development machines do), so each service keeps its own tables the way
//! autovacuum would, with autovacuum's default thresholds, and does
//! nothing where autovacuum is on.

use std::time::Duration;

use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

/// How often the tables are looked at: autovacuum's own default naptime.
pub const INTERVAL: Duration = Duration::from_secs(60);

/// What a table's counters say since its last analyse and vacuum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Activity {
    /// `schema.table`, quoted as an identifier.
    pub table: String,
    /// Rows it holds (as last counted).
    pub live: i64,
    /// Rows inserted, updated or deleted since it was last analysed.
    pub modified_since_analyze: i64,
    /// Row versions left behind by updates and deletes.
    pub dead: i64,
}

/// The upkeep a table is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chore {
    /// New statistics only.
    Analyze,
    /// Dead rows reclaimed, and new statistics with it.
    VacuumAnalyze,
}

impl Chore {
    fn statement(self, table: &str) -> String {
        match self {
            Chore::Analyze => format!("ANALYZE {table}"),
            Chore::VacuumAnalyze => format!("VACUUM (ANALYZE) {table}"),
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Chore::Analyze => "analyze",
            Chore::VacuumAnalyze => "vacuum",
        }
    }
}

/// What `activity` makes due, by autovacuum's default thresholds: analyse
/// once 50 rows plus a tenth of the table changed, vacuum once 50 plus a
/// fifth are dead.
pub fn due(activity: &Activity) -> Option<Chore> {
    let live = activity.live.max(0);
    if activity.dead > 50 + live / 5 {
        Some(Chore::VacuumAnalyze)
    } else if activity.modified_since_analyze > 50 + live / 10 {
        Some(Chore::Analyze)
    } else {
        None
    }
}

/// Whether the server's autovacuum runs (and has the counters it needs).
pub async fn autovacuum_on(pool: &PgPool) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "SELECT current_setting('autovacuum')::bool AND current_setting('track_counts')::bool",
    )
    .fetch_one(pool)
    .await
}

/// The counters of every table of the database's own schemas. Other
/// sessions' temporary tables are listed there too, but only their own
/// session may analyse or vacuum them.
pub async fn activity(pool: &PgPool) -> sqlx::Result<Vec<Activity>> {
    let rows: Vec<(String, i64, i64, i64)> = sqlx::query_as(
        "SELECT quote_ident(schemaname) || '.' || quote_ident(relname), n_live_tup, \
                n_mod_since_analyze, n_dead_tup \
         FROM pg_stat_user_tables \
         WHERE schemaname NOT LIKE 'pg\\_temp\\_%' \
         ORDER BY schemaname, relname",
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(table, live, modified_since_analyze, dead)| Activity {
            table,
            live,
            modified_since_analyze,
            dead,
        })
        .collect())
}

/// One look at every table, doing the upkeep each is due (one table at a
/// time, on one connection); returns what was done. A table that fails is
/// logged and skipped, so one bad table does not hold up the others.
pub async fn pass(pool: &PgPool) -> sqlx::Result<Vec<(String, Chore)>> {
    let mut done = Vec::new();
    for table in activity(pool).await? {
        let Some(chore) = due(&table) else { continue };
        // VACUUM cannot run in a transaction: a simple query, outside one.
        match sqlx::raw_sql(sqlx::AssertSqlSafe(chore.statement(&table.table)))
            .execute(pool)
            .await
        {
            Ok(_) => {
                metrics::counter!("database_upkeep_total", "chore" => chore.as_str()).increment(1);
                done.push((table.table, chore));
            }
            Err(error) => {
                tracing::warn!(table = %table.table, chore = chore.as_str(), %error, "table upkeep failed");
            }
        }
    }
    Ok(done)
}

/// Keeps the tables every `interval` until `stop`, while the server's
/// autovacuum is off (it is asked each time: a server can be reconfigured
/// under a running service).
pub async fn run(pool: PgPool, interval: Duration, stop: CancellationToken) {
    loop {
        if !crate::shutdown::pause(interval, &stop).await {
            return;
        }
        match autovacuum_on(&pool).await {
            Ok(true) => continue,
            Ok(false) => {}
            Err(error) => {
                tracing::debug!(%error, "cannot read the autovacuum setting; trying next interval");
                continue;
            }
        }
        match pass(&pool).await {
            Ok(done) if done.is_empty() => {}
            Ok(done) => {
                let tables: Vec<String> = done
                    .iter()
                    .map(|(table, chore)| format!("{table} ({})", chore.as_str()))
                    .collect();
                tracing::info!(tables = %tables.join(", "), "tables kept (autovacuum is off)");
            }
            Err(error) => tracing::warn!(%error, "table upkeep failed; trying next interval"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(live: i64, modified: i64, dead: i64) -> Activity {
        Activity {
            table: "public.t".to_owned(),
            live,
            modified_since_analyze: modified,
            dead,
        }
    }

    #[test]
    fn a_quiet_table_is_left_alone() {
        assert_eq!(due(&table(0, 0, 0)), None);
        assert_eq!(due(&table(1_000, 150, 250)), None);
    }

    #[test]
    fn a_table_analysed_once_a_tenth_changed() {
        assert_eq!(due(&table(0, 51, 0)), Some(Chore::Analyze));
        assert_eq!(due(&table(1_000_000, 100_050, 0)), None);
        assert_eq!(due(&table(1_000_000, 100_051, 0)), Some(Chore::Analyze));
    }

    #[test]
    fn a_table_vacuumed_once_a_fifth_is_dead() {
        assert_eq!(due(&table(1_000, 0, 251)), Some(Chore::VacuumAnalyze));
        // A vacuum analyses too: it wins over a due analyse.
        assert_eq!(due(&table(1_000, 500, 251)), Some(Chore::VacuumAnalyze));
    }

    #[test]
    fn counters_below_zero_count_as_an_empty_table() {
        assert_eq!(due(&table(-1, 51, 0)), Some(Chore::Analyze));
    }
}
