//! The centres service assembled: its API, the outbox relay, the grid
//! replica consumers (cells and compounds, caught up from the grid's log)
//! and the waitlist offer sweeper.

use std::net::SocketAddr;
use std::time::Duration;

use civicgrid_host::{Apis, Host, Job, Service, Workers};
use civicgrid_messaging::{Consumer, Relay};
use civicgrid_proto::centres::v1::centres_service_server::CentresServiceServer;
use civicgrid_runtime::shutdown::pause;
use civicgrid_runtime::transaction::transact;
use civicgrid_runtime::{CancellationToken, Settings};
use sqlx::PgPool;

use crate::api::CentresApi;
use crate::commands::seed_standards::seed_standards;
use crate::commands::sweep_offers::sweep_once;
use crate::config::CentresSettings;
use crate::events::subscriptions;

/// The centres' own migrations, embedded in the binary; the shared ones
/// are in [`Service::MIGRATIONS`].
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// The running centres service.
pub struct Application {
    host: Host,
    config: CentresSettings,
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
        self.host.consumers(subscriptions(
            &self.host.topology,
            self.config.walking_radius(),
            self.config.task_demands(),
        ))
    }

    /// A relay over the outbox, for tests that drive delivery themselves.
    pub fn relay(&self) -> Relay {
        self.host.relay()
    }

    /// How long a freed place is offered to the next in line.
    pub fn offer_ttl(&self) -> chrono::Duration {
        self.config.offer_ttl()
    }
}

impl Service for Application {
    const NAME: &'static str = "centres";
    type Config = CentresSettings;
    // Messaging (outbox, inbox), the replicated cells and compounds, then
    // the centres' own tables.
    const MIGRATIONS: &'static [&'static sqlx::migrate::Migrator] = &[
        &civicgrid_messaging::MIGRATOR,
        &civicgrid_cell_tree::MIGRATOR,
        &MIGRATOR,
    ];

    async fn build(settings: Settings, config: CentresSettings) -> anyhow::Result<Self> {
        let host = Host::build(settings, Self::MIGRATIONS).await?;
        let seeded = transact(&host.pool, &(), |tx, ()| Box::pin(seed_standards(tx))).await?;
        if seeded > 0 {
            tracing::info!(seeded, "shipped standards put in force");
        }
        Ok(Application { host, config })
    }

    async fn run(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let api = CentresServiceServer::new(CentresApi::new(
            self.host.pool.clone(),
            self.config.offer_ttl(),
            self.config.walking_radius(),
        ));
        let sweeper: Job = {
            let pool = self.host.pool.clone();
            let (ttl, interval) = (self.config.offer_ttl(), self.config.sweep_interval());
            Box::new(move |stop| Box::pin(sweep_forever(pool, ttl, interval, stop)))
        };
        let workers = Workers {
            relay: true,
            subscriptions: subscriptions(
                &self.host.topology,
                self.config.walking_radius(),
                self.config.task_demands(),
            ),
            jobs: vec![sweeper],
        };
        let apis = Apis::new(&self.host.authenticator).with(api);
        self.host.serve(apis, workers, shutdown).await
    }
}

/// Sweeps lapsed offers on an interval until stopped. Every sweep finds
/// every lapsed offer from the database, so a restart (or a sweeper that
/// was down while offers lapsed) misses nothing.
async fn sweep_forever(
    pool: PgPool,
    offer_ttl: chrono::Duration,
    interval: Duration,
    stop: CancellationToken,
) {
    loop {
        match sweep_once(&pool, offer_ttl, chrono::Utc::now()).await {
            Ok(0) => {}
            Ok(passed) => tracing::info!(passed, "lapsed waitlist offers passed on"),
            Err(error) => tracing::warn!(%error, "waitlist sweep failed; retrying next interval"),
        }
        if !pause(interval, &stop).await {
            return;
        }
    }
}
