//! A fresh database per test, dropped afterwards.

use sqlx::migrate::Migrator;
use sqlx::postgres::PgPoolOptions;
use sqlx::{Connection, PgConnection, PgPool};
use uuid::Uuid;

/// The server tests create their databases on (`TEST_POSTGRES_URL`).
pub fn server_url() -> String {
    std::env::var("TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_owned())
}

/// A database that exists for one test.
pub struct TestDatabase {
    /// Its name, `test_<uuid>`.
    pub name: String,
    /// Its URL.
    pub url: String,
    /// A pool on it.
    pub pool: PgPool,
    /// The server it lives on (its URL without a database).
    server: String,
}

impl TestDatabase {
    /// Creates an empty database and applies `migrator`.
    pub async fn create(migrator: &Migrator) -> anyhow::Result<TestDatabase> {
        let database = Self::create_empty().await?;
        migrator.run(&database.pool).await?;
        Ok(database)
    }

    /// Creates an empty database.
    pub async fn create_empty() -> anyhow::Result<TestDatabase> {
        Self::create_empty_on(&server_url()).await
    }

    /// Creates an empty database on `server` (a URL without a database,
    /// such as a [`crate::PrivatePostgres`]'s).
    pub async fn create_empty_on(server: &str) -> anyhow::Result<TestDatabase> {
        let name = format!("test_{}", Uuid::new_v4().simple());
        let mut admin = PgConnection::connect(&format!("{server}/postgres")).await?;
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin)
            .await?;
        admin.close().await?;
        let url = format!("{server}/{name}");
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .connect(&url)
            .await?;
        Ok(TestDatabase {
            name,
            url,
            pool,
            server: server.to_owned(),
        })
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        // Drop runs outside async context: a short-lived runtime on its own
        // thread removes the database (FORCE ends the pool's connections).
        let name = self.name.clone();
        let server = self.server.clone();
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(async move {
                let mut admin = PgConnection::connect(&format!("{server}/postgres")).await?;
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                )))
                .execute(&mut admin)
                .await?;
                anyhow::Ok(())
            })
        })
        .join();
    }
}
