//! The centres service assembled: its API, the outbox relay and the grid
//! replica consumers (cells and compounds, caught up from the grid's log).

use std::net::SocketAddr;

use civicgrid_host::{Apis, Host, Service, Workers};
use civicgrid_messaging::{Consumer, Relay};
use civicgrid_proto::centres::v1::centres_service_server::CentresServiceServer;
use civicgrid_runtime::transaction::transact;
use civicgrid_runtime::{CancellationToken, NoSection, Settings};
use sqlx::PgPool;

use crate::api::CentresApi;
use crate::commands::seed_standards::seed_standards;
use crate::events::subscriptions;

/// The centres' own migrations, embedded in the binary; the shared ones
/// are in [`Service::MIGRATIONS`].
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// The running centres service.
pub struct Application {
    host: Host,
}

impl Application {
    /// The address gRPC listens on.
    pub fn grpc_addr(&self) -> SocketAddr {
        self.host.grpc_addr()
    }

    /// The service's database.
    pub fn pool(&self) -> &PgPool {
        &self.host.pool
    }

    /// One consumer per subscription (cells, then compounds), for tests
    /// that drive delivery themselves.
    pub fn consumers(&self) -> Vec<Consumer> {
        self.host.consumers(subscriptions(&self.host.topology))
    }

    /// A relay over the outbox, for tests that drive delivery themselves.
    pub fn relay(&self) -> Relay {
        self.host.relay()
    }
}

impl Service for Application {
    const NAME: &'static str = "centres";
    type Config = NoSection;
    // Messaging (outbox, inbox), the replicated cells and compounds, then
    // the centres' own tables.
    const MIGRATIONS: &'static [&'static sqlx::migrate::Migrator] = &[
        &civicgrid_messaging::MIGRATOR,
        &civicgrid_cell_tree::MIGRATOR,
        &MIGRATOR,
    ];

    async fn build(settings: Settings, _: NoSection) -> anyhow::Result<Self> {
        let host = Host::build(settings, Self::MIGRATIONS).await?;
        let seeded = transact(&host.pool, &(), |tx, ()| Box::pin(seed_standards(tx))).await?;
        if seeded > 0 {
            tracing::info!(seeded, "shipped standards put in force");
        }
        Ok(Application { host })
    }

    async fn run(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let api = CentresServiceServer::new(CentresApi::new(self.host.pool.clone()));
        let workers = Workers {
            relay: true,
            subscriptions: subscriptions(&self.host.topology),
            ..Default::default()
        };
        let apis = Apis::new(&self.host.authenticator).with(api);
        self.host.serve(apis, workers, shutdown).await
    }
}
