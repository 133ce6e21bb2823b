//! `transact` against a real PostgreSQL: a conflict between two
//! transactions is retried, a lasting one is returned, and other errors are
//! not retried.

use std::sync::atomic::{AtomicU32, Ordering};

use civicgrid_runtime::transaction::{MAX_ATTEMPTS, transact};
use civicgrid_testkit::TestDatabase;
use sqlx::{PgConnection, PgPool};
use tokio::sync::Barrier;

/// A database with `counters` rows 1 and 2 at 0.
async fn counters() -> TestDatabase {
    let database = TestDatabase::create_empty().await.expect("database");
    sqlx::query("CREATE TABLE counters (id int PRIMARY KEY, n int NOT NULL)")
        .execute(&database.pool)
        .await
        .expect("table");
    sqlx::query("INSERT INTO counters VALUES (1, 0), (2, 0)")
        .execute(&database.pool)
        .await
        .expect("rows");
    database
}

async fn count(pool: &PgPool, id: i32) -> i32 {
    sqlx::query_scalar("SELECT n FROM counters WHERE id = $1")
        .bind(id)
        .fetch_one(pool)
        .await
        .expect("count")
}

fn sqlstate(error: &sqlx::Error) -> Option<String> {
    match error {
        sqlx::Error::Database(e) => e.code().map(|c| c.into_owned()),
        _ => None,
    }
}

/// A unit of work that increments counter 1 in a SERIALIZABLE transaction,
/// while in its first `conflicts` attempts another SERIALIZABLE transaction
/// adds 100 to the same counter after this one has read it.
struct Contended {
    pool: PgPool,
    conflicts: u32,
    attempts: AtomicU32,
}

impl Contended {
    async fn increment(&self, conn: &mut PgConnection) -> Result<i32, sqlx::Error> {
        let attempt = self.attempts.fetch_add(1, Ordering::SeqCst) + 1;
        sqlx::query("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE")
            .execute(&mut *conn)
            .await?;
        // The read takes this transaction's snapshot.
        let seen: i32 = sqlx::query_scalar("SELECT n FROM counters WHERE id = 1")
            .fetch_one(&mut *conn)
            .await?;
        if attempt <= self.conflicts {
            let mut other = self.pool.begin().await?;
            sqlx::query("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE")
                .execute(&mut *other)
                .await?;
            sqlx::query("UPDATE counters SET n = n + 100 WHERE id = 1")
                .execute(&mut *other)
                .await?;
            other.commit().await?;
        }
        // Fails with 40001 when the other transaction changed the row
        // after this one's snapshot.
        sqlx::query("UPDATE counters SET n = n + 1 WHERE id = 1")
            .execute(&mut *conn)
            .await?;
        Ok(seen)
    }
}

#[tokio::test]
async fn a_serialization_failure_is_retried_and_the_second_attempt_commits() {
    let database = counters().await;
    let work = Contended {
        pool: database.pool.clone(),
        conflicts: 1,
        attempts: AtomicU32::new(0),
    };
    let seen = transact(&database.pool, &work, |tx, work| {
        Box::pin(work.increment(tx))
    })
    .await
    .expect("the retry commits");
    assert_eq!(work.attempts.load(Ordering::SeqCst), 2);
    // The second attempt saw the other transaction's change and added to it.
    assert_eq!(seen, 100);
    assert_eq!(count(&database.pool, 1).await, 101);
}

#[tokio::test]
async fn a_conflict_on_every_attempt_is_returned_after_the_last_with_its_sqlstate() {
    let database = counters().await;
    let work = Contended {
        pool: database.pool.clone(),
        conflicts: u32::MAX,
        attempts: AtomicU32::new(0),
    };
    let error = transact(&database.pool, &work, |tx, work| {
        Box::pin(work.increment(tx))
    })
    .await
    .expect_err("conflicts every time");
    assert_eq!(work.attempts.load(Ordering::SeqCst), MAX_ATTEMPTS);
    assert_eq!(sqlstate(&error).as_deref(), Some("40001"));
    // Only the other transactions committed.
    let others = i32::try_from(MAX_ATTEMPTS).expect("small") * 100;
    assert_eq!(count(&database.pool, 1).await, others);
}

/// Increments `first` then `second`; in the first attempt it waits, holding
/// `first`'s row lock, until its rival holds the other row's.
struct Crossing<'a> {
    first: i32,
    second: i32,
    both_locked: &'a Barrier,
    attempts: AtomicU32,
}

impl Crossing<'_> {
    async fn increment_both(&self, conn: &mut PgConnection) -> Result<(), sqlx::Error> {
        let attempt = self.attempts.fetch_add(1, Ordering::SeqCst) + 1;
        sqlx::query("UPDATE counters SET n = n + 1 WHERE id = $1")
            .bind(self.first)
            .execute(&mut *conn)
            .await?;
        if attempt == 1 {
            self.both_locked.wait().await;
        }
        sqlx::query("UPDATE counters SET n = n + 1 WHERE id = $1")
            .bind(self.second)
            .execute(&mut *conn)
            .await?;
        Ok(())
    }
}

#[tokio::test]
async fn of_two_deadlocked_transactions_the_victim_runs_again_and_both_commit() {
    let database = counters().await;
    let both_locked = Barrier::new(2);
    let one = Crossing {
        first: 1,
        second: 2,
        both_locked: &both_locked,
        attempts: AtomicU32::new(0),
    };
    let two = Crossing {
        first: 2,
        second: 1,
        both_locked: &both_locked,
        attempts: AtomicU32::new(0),
    };
    let (a, b) = tokio::join!(
        transact(&database.pool, &one, |tx, work| Box::pin(
            work.increment_both(tx)
        )),
        transact(&database.pool, &two, |tx, work| Box::pin(
            work.increment_both(tx)
        )),
    );
    a.expect("first commits");
    b.expect("second commits");
    // PostgreSQL aborted exactly one of them (40P01); it ran once more.
    let mut attempts = [
        one.attempts.load(Ordering::SeqCst),
        two.attempts.load(Ordering::SeqCst),
    ];
    attempts.sort_unstable();
    assert_eq!(attempts, [1, 2]);
    assert_eq!(count(&database.pool, 1).await, 2);
    assert_eq!(count(&database.pool, 2).await, 2);
}

#[tokio::test]
async fn an_error_that_is_not_a_conflict_is_returned_at_once_and_rolled_back() {
    let database = counters().await;
    let attempts = AtomicU32::new(0);
    let error = transact(&database.pool, &attempts, |tx, attempts| {
        Box::pin(async move {
            attempts.fetch_add(1, Ordering::SeqCst);
            sqlx::query("UPDATE counters SET n = n + 1 WHERE id = 1")
                .execute(&mut *tx)
                .await?;
            // A unique violation (23505) is the caller's problem, not a race.
            sqlx::query("INSERT INTO counters VALUES (2, 0)")
                .execute(&mut *tx)
                .await?;
            Ok::<_, sqlx::Error>(())
        })
    })
    .await
    .expect_err("duplicate key");
    assert_eq!(attempts.load(Ordering::SeqCst), 1);
    assert_eq!(sqlstate(&error).as_deref(), Some("23505"));
    assert_eq!(count(&database.pool, 1).await, 0);
}
