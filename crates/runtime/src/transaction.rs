//! Running a unit of work in its own transaction, retried when PostgreSQL
//! refuses it for a conflict with another transaction.
//!
//! Use cases take a `&mut PgConnection` and never commit, so that a gRPC
//! handler and an event handler (inside the consumer's inbox transaction)
//! run the same function. The gRPC side wraps the call in [`transact`],
//! which owns the transaction: begin, run, commit.

use std::time::Duration;

use futures::future::BoxFuture;
use rand_core::{OsRng, RngCore};
use sqlx::{PgConnection, PgPool};

/// Attempts of one unit of work before its conflict is returned.
pub const MAX_ATTEMPTS: u32 = 3;

/// The first wait between attempts; doubled each time, plus up to as much again at random
/// so that two transactions that deadlocked do not collide again in step.
const FIRST_BACKOFF: Duration = Duration::from_millis(5);

/// Errors that may carry a PostgreSQL conflict worth retrying.
pub trait Retryable {
    /// Whether the whole transaction failed for a serialization failure
    /// (40001) or a deadlock (40P01), so running it again may succeed.
    fn is_retryable(&self) -> bool;
}

impl Retryable for sqlx::Error {
    fn is_retryable(&self) -> bool {
        is_conflict(self)
    }
}

/// Whether `error` is a serialization failure (40001) or a deadlock (40P01):
/// the one SQLSTATE classification lives in [`crate::status::classify`].
pub fn is_conflict(error: &sqlx::Error) -> bool {
    crate::status::is_transaction_conflict(error)
}

/// Runs `work` in a fresh transaction on `pool` and commits it. When the
/// attempt (or its commit) fails with a conflict ([`Retryable`]), the
/// transaction is rolled back and the whole attempt runs again, at most
/// [`MAX_ATTEMPTS`] times with a short jittered backoff; then the last
/// error is returned (the status map makes it ABORTED). Any other error is
/// returned at once, the transaction rolled back.
///
/// `work` gets the transaction and `context` (the command's inputs: the
/// caller, the parsed request), both for the one attempt, and may run more
/// than once, so it clones what the command takes by value:
///
/// ```ignore
/// transact(&pool, &(caller, input), |tx, (caller, input)| {
///     Box::pin(create_cell(tx, caller, input.clone()))
/// })
/// ```
///
/// (The context is passed, not captured, so that the future borrows it
/// only as long as the connection: a closure capturing references cannot
/// return a `Send` future for every connection lifetime.)
pub async fn transact<C, T, E, F>(pool: &PgPool, context: &C, mut work: F) -> Result<T, E>
where
    C: Sync + ?Sized,
    F: for<'c> FnMut(&'c mut PgConnection, &'c C) -> BoxFuture<'c, Result<T, E>>,
    E: From<sqlx::Error> + Retryable,
{
    let mut attempt = 1;
    loop {
        let mut tx = pool.begin().await?;
        let error = match work(&mut tx, context).await {
            Ok(value) => match tx.commit().await {
                Ok(()) => return Ok(value),
                Err(error) => E::from(error),
            },
            Err(error) => {
                // A failed rollback leaves nothing behind: the connection
                // is closed and the server discards the transaction.
                let _ = tx.rollback().await;
                error
            }
        };
        if attempt >= MAX_ATTEMPTS || !error.is_retryable() {
            return Err(error);
        }
        tracing::debug!(attempt, "transaction conflicted; retrying");
        tokio::time::sleep(backoff(attempt)).await;
        attempt += 1;
    }
}

/// The wait before attempt `attempt + 1`.
fn backoff(attempt: u32) -> Duration {
    let base = FIRST_BACKOFF * 2u32.saturating_pow(attempt.saturating_sub(1));
    let jitter = u64::from(OsRng.next_u32()) % (base.as_micros() as u64).max(1);
    base + Duration::from_micros(jitter)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backoff_doubles_and_stays_within_twice_its_base() {
        for attempt in 1..MAX_ATTEMPTS {
            let base = FIRST_BACKOFF * 2u32.pow(attempt - 1);
            let wait = backoff(attempt);
            assert!(wait >= base && wait < base * 2, "{wait:?} for {attempt}");
        }
    }

    #[test]
    fn only_serialization_failures_and_deadlocks_are_conflicts() {
        assert!(!is_conflict(&sqlx::Error::RowNotFound));
        assert!(!sqlx::Error::PoolTimedOut.is_retryable());
    }
}
