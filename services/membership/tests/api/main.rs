//! The membership service against real PostgreSQL and RabbitMQ: one test
//! binary, a module per area, one [`TestApp`] holding the clients.

#![allow(clippy::unwrap_used)]

mod auth;
mod config;
mod health;
mod replica;

use civicgrid_membership::Application;
use civicgrid_proto::membership::v1::membership_service_client::MembershipServiceClient;
use tonic::transport::Channel;

/// The service under test with its API client.
pub type TestApp = civicgrid_testkit::TestApp<MembershipServiceClient<Channel>>;

/// The membership service on port 0 with its own database and broker names.
pub async fn spawn_app() -> TestApp {
    TestApp::spawn::<Application>(
        Default::default(),
        |app| (app.grpc_addr(), app.pool().clone(), app.consumers()),
        MembershipServiceClient::new,
    )
    .await
}
