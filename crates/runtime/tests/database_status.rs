//! The database status map against errors a real PostgreSQL sends. Runs
//! on the shared server's `postgres` database, but touches only what it
//! creates: temporary tables, advisory locks on random keys, and a backend
//! it opened itself.

#![allow(clippy::unwrap_used)]

use civicgrid_runtime::status::{self, DatabaseFailure, classify};
use sqlx::{Connection, PgConnection};
use tonic::Code;

fn server_url() -> String {
    let server = std::env::var("TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_owned());
    format!("{server}/postgres")
}

async fn connect() -> PgConnection {
    PgConnection::connect(&server_url()).await.unwrap()
}

fn sqlstate(error: &sqlx::Error) -> Option<String> {
    error
        .as_database_error()
        .and_then(|e| e.code())
        .map(|code| code.into_owned())
}

#[tokio::test]
async fn a_terminated_session_is_unavailable_not_internal() {
    let mut victim = connect().await;
    let pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
        .fetch_one(&mut victim)
        .await
        .unwrap();
    // What a restart does to every session: 57P01 admin shutdown, then the
    // socket closes.
    let mut admin = connect().await;
    let terminated: bool = sqlx::query_scalar("SELECT pg_terminate_backend($1)")
        .bind(pid)
        .fetch_one(&mut admin)
        .await
        .unwrap();
    assert!(terminated);
    let error = sqlx::query("SELECT 1")
        .execute(&mut victim)
        .await
        .unwrap_err();
    assert_eq!(classify(&error), DatabaseFailure::Unavailable, "{error}");
    assert_eq!(status::database(error).code(), Code::Unavailable);
    // And the connection is gone for good: the next use fails the same way.
    let again = sqlx::query("SELECT 1")
        .execute(&mut victim)
        .await
        .unwrap_err();
    assert_eq!(classify(&again), DatabaseFailure::Unavailable, "{again}");
}

#[tokio::test]
async fn a_statement_timeout_is_deadline_exceeded() {
    let mut conn = connect().await;
    sqlx::query("SET statement_timeout = 50")
        .execute(&mut conn)
        .await
        .unwrap();
    let error = sqlx::query("SELECT pg_sleep(5)")
        .execute(&mut conn)
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&error).as_deref(), Some("57014"));
    assert_eq!(classify(&error), DatabaseFailure::TimedOut);
    assert_eq!(status::database(error).code(), Code::DeadlineExceeded);
}

#[tokio::test]
async fn a_deadlock_is_a_conflict_reported_as_aborted() {
    // Two sessions take two advisory locks in opposite orders; PostgreSQL
    // breaks the cycle after deadlock_timeout by failing one with 40P01.
    let (first, second): (i64, i64) = (rand_key(), rand_key());
    let mut a = connect().await;
    let mut b = connect().await;
    sqlx::query("BEGIN").execute(&mut a).await.unwrap();
    sqlx::query("BEGIN").execute(&mut b).await.unwrap();
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(first)
        .execute(&mut a)
        .await
        .unwrap();
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(second)
        .execute(&mut b)
        .await
        .unwrap();
    let (left, right) = tokio::join!(
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(second)
            .execute(&mut a),
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(first)
            .execute(&mut b),
    );
    let errors: Vec<sqlx::Error> = [left, right].into_iter().filter_map(Result::err).collect();
    assert_eq!(errors.len(), 1, "exactly one side is chosen as the victim");
    assert_eq!(sqlstate(&errors[0]).as_deref(), Some("40P01"));
    assert!(status::is_transaction_conflict(&errors[0]));
    let error = errors.into_iter().next().unwrap();
    assert_eq!(status::database(error).code(), Code::Aborted);
}

#[tokio::test]
async fn a_unique_violation_is_an_opaque_internal_error() {
    let mut conn = connect().await;
    sqlx::query("CREATE TEMPORARY TABLE once (id int PRIMARY KEY)")
        .execute(&mut conn)
        .await
        .unwrap();
    sqlx::query("INSERT INTO once VALUES (1)")
        .execute(&mut conn)
        .await
        .unwrap();
    let error = sqlx::query("INSERT INTO once VALUES (1)")
        .execute(&mut conn)
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&error).as_deref(), Some("23505"));
    assert_eq!(classify(&error), DatabaseFailure::Unexpected);
    let status = status::database(error);
    assert_eq!(status.code(), Code::Internal);
    assert_eq!(status.message(), "internal error");
}

/// An advisory lock key no other test uses.
fn rand_key() -> i64 {
    let bits = uuid::Uuid::new_v4().as_u64_pair().0;
    i64::from_ne_bytes(bits.to_ne_bytes())
}
