//! How the services' pool takes connections back (the vendored sqlx-core's
//! settled release, vendor/README.md): a connection whose statement or
//! transaction completed goes straight back to the idle queue, with no
//! ping; one left mid-statement, with a rollback queued or after an error is
//! still pinged first, so a broken connection is closed instead of reused.
//!
//! The tests run on tokio's single-threaded test runtime, where the task
//! that pings a released connection cannot run before the test next waits:
//! a connection idle right after its statement returned was released
//! without the ping.

use std::time::Duration;

use civicgrid_runtime::config::Settings;
use civicgrid_runtime::db;
use civicgrid_testkit::{TestDatabase, eventually};
use sqlx::PgPool;

/// The services' pool on `database`, with one connection, so every
/// statement reuses the connection the last one left.
fn one_connection_pool(database: &TestDatabase) -> PgPool {
    let mut settings = Settings::defaults("pool-release", 0, 0);
    settings.database_url = database.url.clone();
    settings.database_max_connections = 1;
    db::pool(&settings).expect("pool")
}

/// The one value `sql` selects.
async fn scalar<T>(pool: &PgPool, sql: &'static str) -> T
where
    T: for<'r> sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres> + Send + Unpin,
{
    sqlx::query_scalar(sql)
        .fetch_one(pool)
        .await
        .unwrap_or_else(|error| panic!("{sql}: {error}"))
}

async fn idle_soon(pool: &PgPool) {
    eventually(
        Duration::from_secs(10),
        "the connection went back to the pool",
        || async { (pool.num_idle() == 1).then_some(()) },
    )
    .await;
}

#[tokio::test]
async fn a_completed_statement_or_transaction_returns_its_connection_without_a_ping() {
    let database = TestDatabase::create_empty().await.expect("database");
    let pool = one_connection_pool(&database);

    assert_eq!(scalar::<i32>(&pool, "SELECT 1").await, 1);
    assert_eq!(pool.num_idle(), 1, "a completed statement is idle at once");

    sqlx::query("CREATE TABLE marks (n int)")
        .execute(&pool)
        .await
        .expect("create");
    assert_eq!(pool.num_idle(), 1, "so is a completed execute");

    let mut transaction = pool.begin().await.expect("begin");
    sqlx::query("INSERT INTO marks VALUES (1)")
        .execute(&mut *transaction)
        .await
        .expect("insert");
    transaction.commit().await.expect("commit");
    assert_eq!(pool.num_idle(), 1, "and a committed transaction's");

    pool.close().await;
}

#[tokio::test]
async fn a_failed_statement_is_pinged_before_its_connection_is_reused() {
    let database = TestDatabase::create_empty().await.expect("database");
    let pool = one_connection_pool(&database);
    sqlx::query("SELECT 1").execute(&pool).await.expect("warm");

    let error = sqlx::query("SELECT 1 / 0")
        .execute(&pool)
        .await
        .expect_err("division by zero");
    assert!(matches!(error, sqlx::Error::Database(_)), "{error}");
    assert_eq!(
        pool.num_idle(),
        0,
        "after an error the connection waits for its release ping"
    );
    idle_soon(&pool).await;
    assert_eq!(
        scalar::<i32>(&pool, "SELECT 2").await,
        2,
        "the next statement"
    );

    pool.close().await;
}

#[tokio::test]
async fn a_statement_abandoned_mid_flight_leaves_nothing_for_the_next_caller() {
    let database = TestDatabase::create_empty().await.expect("database");
    let pool = one_connection_pool(&database);
    sqlx::query("CREATE TABLE marks (n int)")
        .execute(&pool)
        .await
        .expect("create");

    // A caller gives up on a slow statement: its response is still coming.
    let abandoned = tokio::time::timeout(
        Duration::from_millis(100),
        sqlx::query_scalar::<_, i32>("SELECT 1 FROM pg_sleep(0.5)").fetch_one(&pool),
    )
    .await;
    assert!(abandoned.is_err(), "the statement outlived its caller");
    // A transaction dropped unfinished: its rollback is queued on the
    // connection, not yet sent.
    let mut transaction = pool.begin().await.expect("begin");
    sqlx::query("INSERT INTO marks VALUES (1)")
        .execute(&mut *transaction)
        .await
        .expect("insert");
    drop(transaction);
    assert_eq!(pool.num_idle(), 0, "a queued rollback is sent before reuse");
    idle_soon(&pool).await;

    assert_eq!(scalar::<i32>(&pool, "SELECT 2").await, 2, "its own answer");
    // Were the transaction still open, this would be inside it and see its row.
    assert_eq!(scalar::<i64>(&pool, "SELECT count(*) FROM marks").await, 0);

    pool.close().await;
}

#[tokio::test]
async fn a_connection_whose_server_side_ended_is_replaced_after_one_failure() {
    let database = TestDatabase::create_empty().await.expect("database");
    let pool = one_connection_pool(&database);
    let first: i32 = scalar(&pool, "SELECT pg_backend_pid()").await;
    // Settled, so back without a ping; now its backend goes away.
    let ended: bool = sqlx::query_scalar("SELECT pg_terminate_backend($1)")
        .bind(first)
        .fetch_one(&database.pool)
        .await
        .expect("terminate");
    assert!(ended);

    // Within the pool's one second before an idle connection is pinged on
    // acquire, the broken connection may fail one statement; that failure
    // is not settled, so its release ping finds it broken and closes it.
    let mut failures = 0;
    let second = loop {
        match sqlx::query_scalar::<_, i32>("SELECT pg_backend_pid()")
            .fetch_one(&pool)
            .await
        {
            Ok(pid) => break pid,
            Err(_) if failures == 0 => failures += 1,
            Err(error) => panic!("the broken connection was reused: {error}"),
        }
    };
    assert_ne!(second, first, "a new backend serves the pool");

    pool.close().await;
}
