//! The membership service assembled: gRPC API, outbox relay, grid replica consumer.

use civicgrid_host::{Apis, Host, Service, Workers};
use civicgrid_messaging::Consumer;
use civicgrid_proto::membership::v1::membership_service_server::MembershipServiceServer;
use civicgrid_runtime::grpc::MAX_MESSAGE_BYTES;
use civicgrid_runtime::{CancellationToken, Settings};
use sqlx::PgPool;

use crate::api::MembershipApi;
use crate::events::subscriptions;

/// The service's migrations, embedded in the binary.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// The running membership service.
pub struct Application {
    host: Host,
}

impl Application {
    /// The address gRPC listens on.
    pub fn grpc_addr(&self) -> std::net::SocketAddr {
        self.host.grpc_addr()
    }

    /// The service's database.
    pub fn pool(&self) -> &PgPool {
        &self.host.pool
    }

    /// One consumer per subscription, for tests that drive delivery themselves.
    pub fn consumers(&self) -> Vec<Consumer> {
        subscriptions(&self.host.topology)
            .into_iter()
            .map(|s| self.host.consumer(s))
            .collect()
    }
}

impl Service for Application {
    const NAME: &'static str = "membership";
    const GRPC_PORT: u16 = 50051;
    const METRICS_PORT: u16 = 9101;

    async fn build(settings: Settings) -> anyhow::Result<Self> {
        Ok(Application {
            host: Host::build(settings, &MIGRATOR).await?,
        })
    }

    async fn run(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let api = MembershipServiceServer::new(MembershipApi::new(self.host.pool.clone()))
            .max_decoding_message_size(MAX_MESSAGE_BYTES)
            .max_encoding_message_size(MAX_MESSAGE_BYTES);
        let workers = Workers {
            relay: true,
            subscriptions: subscriptions(&self.host.topology),
            ..Default::default()
        };
        let apis = Apis::new(&self.host.authenticator).with(api);
        self.host.serve(apis, workers, shutdown).await
    }
}
