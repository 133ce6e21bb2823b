//! Test support shared by every crate's tests: each test gets its own
//! database and broker names and removes them, so tests run in parallel and
//! beside a running stack.

#![allow(clippy::unwrap_used)]

pub mod app;
pub mod bench;
pub mod broker;
pub mod database;
pub mod eventually;
pub mod grpc;
pub mod private_postgres;
pub mod proxy;
pub mod replica_checks;
pub mod settings;
pub mod tokens;

pub use app::TestApp;
pub use broker::TestBroker;
pub use database::TestDatabase;
pub use eventually::eventually;
pub use grpc::{endpoint, invalid_fields, with_token};
pub use private_postgres::PrivatePostgres;
pub use proxy::FaultProxy;
pub use settings::test_settings;
pub use tokens::TestKeys;
