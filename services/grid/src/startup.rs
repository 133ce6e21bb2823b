//! The grid service assembled: gRPC APIs (cells, directory), outbox relay,
//! no consumers yet.

use civicgrid_host::{Apis, Host, Service, Workers};
use civicgrid_messaging::Relay;
use civicgrid_proto::grid::v1::directory_service_server::DirectoryServiceServer;
use civicgrid_proto::grid::v1::grid_service_server::GridServiceServer;
use civicgrid_runtime::grpc::MAX_MESSAGE_BYTES;
use civicgrid_runtime::{CancellationToken, Settings};
use sqlx::PgPool;

use crate::api::GridApi;
use crate::api::directory::DirectoryApi;

/// The grid's migrations, embedded in the binary.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// The running grid service.
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

    /// A relay over the outbox, for tests that drive delivery themselves.
    pub fn relay(&self) -> Relay {
        self.host.relay()
    }
}

impl Service for Application {
    const NAME: &'static str = "grid";
    const GRPC_PORT: u16 = 50052;
    const METRICS_PORT: u16 = 9102;

    async fn build(settings: Settings) -> anyhow::Result<Self> {
        Ok(Application {
            host: Host::build(settings, &MIGRATOR).await?,
        })
    }

    async fn run(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let api = GridServiceServer::new(GridApi::new(self.host.pool.clone()))
            .max_decoding_message_size(MAX_MESSAGE_BYTES)
            .max_encoding_message_size(MAX_MESSAGE_BYTES);
        let directory_api = DirectoryServiceServer::new(DirectoryApi::new(self.host.pool.clone()))
            .max_decoding_message_size(MAX_MESSAGE_BYTES)
            .max_encoding_message_size(MAX_MESSAGE_BYTES);
        let workers = Workers {
            relay: true,
            subscriptions: Vec::new(),
        };
        let apis = Apis::new(&self.host.authenticator)
            .add(api)
            .add(directory_api);
        self.host.serve(apis, workers, shutdown).await
    }
}
