//! Table upkeep against a real PostgreSQL: a table that changed gets its
//! statistics, one full of dead rows is vacuumed, and a quiet one is left
//! alone. Runs on a database of its own, whatever the server's autovacuum
//! setting (the pass itself does not ask).

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use civicgrid_runtime::upkeep::{self, Chore};
use civicgrid_testkit::{TestDatabase, eventually};

const TABLE: &str = "public.readings";

/// The server's statistics reach `pg_stat_user_tables` a moment after the
/// writing session goes idle, so the pass is retried until it sees them.
async fn pass_until_done(database: &TestDatabase, chore: Chore) {
    eventually(Duration::from_secs(30), "the table's upkeep", || async {
        let done = upkeep::pass(&database.pool).await.unwrap();
        done.contains(&(TABLE.to_owned(), chore)).then_some(())
    })
    .await;
}

async fn reltuples(database: &TestDatabase) -> f32 {
    sqlx::query_scalar("SELECT reltuples FROM pg_class WHERE oid = 'public.readings'::regclass")
        .fetch_one(&database.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_changed_table_is_analysed_and_a_dead_one_vacuumed() {
    let database = TestDatabase::create_empty().await.unwrap();
    sqlx::raw_sql(
        "CREATE TABLE readings (id int PRIMARY KEY, value int); \
         INSERT INTO readings SELECT n, n FROM generate_series(1, 1000) AS n",
    )
    .execute(&database.pool)
    .await
    .unwrap();
    // Never analysed nor vacuumed: the planner has no row count at all.
    assert_eq!(reltuples(&database).await, -1.0);

    pass_until_done(&database, Chore::Analyze).await;
    assert_eq!(reltuples(&database).await, 1000.0);
    let again = upkeep::pass(&database.pool).await.unwrap();
    assert!(
        !again.iter().any(|(table, _)| table == TABLE),
        "a table analysed and unchanged since is left alone: {again:?}"
    );

    sqlx::query("DELETE FROM readings WHERE id > 100")
        .execute(&database.pool)
        .await
        .unwrap();
    pass_until_done(&database, Chore::VacuumAnalyze).await;
    assert_eq!(reltuples(&database).await, 100.0);
    eventually(Duration::from_secs(10), "no dead rows left", || async {
        let dead: i64 = sqlx::query_scalar(
            "SELECT n_dead_tup FROM pg_stat_user_tables WHERE relname = 'readings'",
        )
        .fetch_one(&database.pool)
        .await
        .unwrap();
        (dead == 0).then_some(())
    })
    .await;
}

#[tokio::test]
async fn another_sessions_temporary_table_is_left_to_that_session() {
    use sqlx::Connection;
    let database = TestDatabase::create_empty().await.unwrap();
    let mut other = sqlx::PgConnection::connect(&database.url).await.unwrap();
    sqlx::raw_sql(
        "CREATE TEMPORARY TABLE scratch (id int); \
         INSERT INTO scratch SELECT n FROM generate_series(1, 1000) AS n",
    )
    .execute(&mut other)
    .await
    .unwrap();
    // Listed with its changes once that session's statistics arrive.
    eventually(
        Duration::from_secs(30),
        "the temporary table's counters",
        || async {
            let modified: Option<i64> = sqlx::query_scalar(
                "SELECT n_mod_since_analyze FROM pg_stat_user_tables WHERE relname = 'scratch'",
            )
            .fetch_optional(&database.pool)
            .await
            .unwrap();
            (modified >= Some(1000)).then_some(())
        },
    )
    .await;
    let done = upkeep::pass(&database.pool).await.unwrap();
    assert!(
        !done.iter().any(|(table, _)| table.contains("scratch")),
        "only its own session may analyse it: {done:?}"
    );
    other.close().await.unwrap();
}
