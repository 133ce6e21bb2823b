//! The private PostgreSQL instance: its own port, restartable, and gone
//! after the test whatever the test's outcome.

#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use civicgrid_testkit::PrivatePostgres;
use sqlx::{Connection, PgConnection};

async fn answers(url: &str) -> bool {
    match PgConnection::connect(&format!("{url}/postgres")).await {
        Ok(mut conn) => sqlx::query("SELECT 1").execute(&mut conn).await.is_ok(),
        Err(_) => false,
    }
}

#[tokio::test]
async fn a_restart_ends_every_session_and_serves_again_on_the_same_port() {
    let instance = PrivatePostgres::start().await.unwrap();
    assert_ne!(instance.port(), 5432, "never the shared server");
    let database = instance.create_database().await.unwrap();
    sqlx::query("CREATE TABLE kept (id int)")
        .execute(&database.pool)
        .await
        .unwrap();
    let mut session = PgConnection::connect(&database.url).await.unwrap();
    let port = instance.port();

    instance.stop().await.unwrap();
    assert!(!answers(&instance.url()).await, "stopped means refused");
    instance.start_again().await.unwrap();

    assert_eq!(instance.port(), port);
    let error = sqlx::query("SELECT 1")
        .execute(&mut session)
        .await
        .unwrap_err();
    assert_eq!(
        civicgrid_runtime::status::classify(&error),
        civicgrid_runtime::status::DatabaseFailure::Unavailable,
        "{error}"
    );
    instance.restart().await.unwrap();
    let mut fresh = PgConnection::connect(&database.url).await.unwrap();
    let kept: i64 = sqlx::query_scalar("SELECT count(*) FROM kept")
        .fetch_one(&mut fresh)
        .await
        .unwrap();
    assert_eq!(kept, 0, "the data survives a restart");
}

#[tokio::test]
async fn an_instance_is_stopped_and_removed_even_when_its_test_panics() {
    let (taken, found) = tokio::sync::oneshot::channel::<(String, PathBuf)>();
    let test = tokio::spawn(async move {
        let instance = PrivatePostgres::start().await.unwrap();
        assert!(answers(&instance.url()).await);
        taken
            .send((instance.url(), instance.dir().to_owned()))
            .unwrap();
        panic!("the test fails while its instance runs");
    });
    let outcome = test.await;
    assert!(outcome.unwrap_err().is_panic());
    let (url, dir) = found.await.unwrap();
    assert!(!answers(&url).await, "the server is stopped");
    assert!(!dir.exists(), "{} is removed", dir.display());
}
