//! The assessment service assembled: its API, the outbox relay, the grid
//! replica consumers and the grid-event store consumers.

use civicgrid_host::{Apis, Host, Service, Workers};
use civicgrid_messaging::Consumer;
use civicgrid_proto::assessment::v1::assessment_service_server::AssessmentServiceServer;
use civicgrid_runtime::{CancellationToken, NoSection, Settings};
use sqlx::PgPool;

use crate::api::AssessmentApi;
use crate::events::subscriptions;

/// The service's own migrations; the shared ones are in [`Service::MIGRATIONS`].
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// The running assessment service.
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

    /// One consumer per subscription (cells, compounds, grid tasks, grid
    /// supervision, membership events, centres events, in that order), for tests that drive delivery themselves.
    pub fn consumers(&self) -> Vec<Consumer> {
        self.host.consumers(subscriptions(
            &self.host.topology,
            &self.host.settings.event_sources,
        ))
    }
}

impl Service for Application {
    const NAME: &'static str = "assessment";
    type Config = NoSection;
    const MIGRATIONS: &'static [&'static sqlx::migrate::Migrator] = &[
        &civicgrid_messaging::MIGRATOR,
        &civicgrid_cell_tree::MIGRATOR,
        &MIGRATOR,
    ];

    async fn build(settings: Settings, _: NoSection) -> anyhow::Result<Self> {
        Ok(Application {
            host: Host::build(settings, Self::MIGRATIONS).await?,
        })
    }

    async fn run(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let api = AssessmentApi::new(self.host.pool.clone());
        let apis = Apis::new(&self.host.authenticator).with(AssessmentServiceServer::new(api));
        let workers = Workers {
            relay: true,
            subscriptions: subscriptions(&self.host.topology, &self.host.settings.event_sources),
            ..Default::default()
        };
        self.host.serve(apis, workers, shutdown).await
    }
}
