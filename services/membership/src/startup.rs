//! The membership service assembled: its API, the outbox relay and the
//! grid replica consumers (cells and compounds, which organisations are
//! placed in).

use std::net::SocketAddr;

use civicgrid_host::{Apis, Host, Service, Workers};
use civicgrid_messaging::{Consumer, Relay};
use civicgrid_proto::membership::v1::membership_service_server::MembershipServiceServer;
use civicgrid_runtime::{CancellationToken, Settings};
use sqlx::PgPool;

use crate::api::{CoBuilding, MembershipApi};
use crate::config::MembershipSettings;
use crate::events::subscriptions;
use crate::sealing::PersonalDataKeys;

/// Membership's own migrations, embedded in the binary; the shared ones are
/// in [`Service::MIGRATIONS`].
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// The running membership service.
pub struct Application {
    host: Host,
    keys: PersonalDataKeys,
    co_building: CoBuilding,
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

    /// One consumer per subscription, for tests that drive delivery themselves.
    pub fn consumers(&self) -> Vec<Consumer> {
        self.host.consumers(subscriptions(&self.host.topology))
    }

    /// A relay over the outbox, for tests that drive delivery themselves.
    pub fn relay(&self) -> Relay {
        self.host.relay()
    }
}

impl Service for Application {
    const NAME: &'static str = "membership";
    type Config = MembershipSettings;
    // Publishes and consumes (messaging), keeps the grid's cells and
    // compounds (cell-tree), and its own tables.
    const MIGRATIONS: &'static [&'static sqlx::migrate::Migrator] = &[
        &civicgrid_messaging::MIGRATOR,
        &civicgrid_cell_tree::MIGRATOR,
        &MIGRATOR,
    ];

    async fn build(settings: Settings, config: MembershipSettings) -> anyhow::Result<Self> {
        let keys = PersonalDataKeys::load(&config.membership_data_key_path).map_err(|e| {
            anyhow::anyhow!("configuration error: key `membership_data_key_path`: {e}")
        })?;
        let co_building = CoBuilding {
            threshold: config.agreement_similarity_threshold,
            idle_days: config.agreement_idle_days,
        };
        Ok(Application {
            host: Host::build(settings, Self::MIGRATIONS).await?,
            keys,
            co_building,
        })
    }

    async fn run(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let api = MembershipServiceServer::new(
            MembershipApi::new(self.host.pool.clone(), self.keys.clone())
                .with_co_building(self.co_building),
        );
        let workers = Workers {
            relay: true,
            subscriptions: subscriptions(&self.host.topology),
            ..Default::default()
        };
        let apis = Apis::new(&self.host.authenticator).with(api);
        self.host.serve(apis, workers, shutdown).await
    }
}
