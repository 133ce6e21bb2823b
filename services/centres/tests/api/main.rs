//! The centres service against real PostgreSQL and RabbitMQ: one test
//! binary, a module per area, one [`TestApp`] holding the clients.

#![allow(clippy::unwrap_used)]

mod auth;
mod config;
mod health;
mod replica;

use civicgrid_centres::Application;
use civicgrid_proto::centres::v1::centres_service_client::CentresServiceClient;
use tonic::transport::Channel;

/// The service under test with its API client.
pub type TestApp = civicgrid_testkit::TestApp<CentresServiceClient<Channel>>;

/// The centres service on port 0 with its own database and broker names.
pub async fn spawn_app() -> TestApp {
    TestApp::spawn::<Application>(
        Default::default(),
        |app| (app.grpc_addr(), app.pool().clone(), app.consumers()),
        CentresServiceClient::new,
    )
    .await
}
