//! What every civicgrid service shares at run time: layered configuration,
//! telemetry, the gRPC server with health and reflection, readiness probes,
//! Prometheus metrics, the PostgreSQL pool with migrations and table upkeep,
//! bearer-token authentication, precise statuses and pagination.

pub mod auth;
pub mod config;
pub mod crypto;
pub mod db;
pub mod error;
pub mod fields;
pub mod grpc;
pub mod health;
pub mod metrics;
pub mod paging;
pub mod shutdown;
pub mod status;
pub mod telemetry;
pub mod trace_context;
pub mod transaction;
pub mod upkeep;

pub use config::{NoSection, Section, Settings};
pub use tokio_util::sync::CancellationToken;
