//! The grid service assembled: gRPC APIs (cells, directory), outbox relay,
//! no consumers yet.

use std::sync::Arc;
use std::time::Duration;

use civicgrid_host::{Apis, Host, Job, Service, Workers};
use civicgrid_messaging::Relay;
use civicgrid_proto::grid::v1::directory_service_server::DirectoryServiceServer;
use civicgrid_proto::grid::v1::grid_service_server::GridServiceServer;
use civicgrid_proto::grid::v1::task_service_server::TaskServiceServer;
use civicgrid_runtime::crypto::DataKey;
use civicgrid_runtime::shutdown::pause;
use civicgrid_runtime::{CancellationToken, Settings};
use sqlx::PgPool;

use crate::api::directory::DirectoryApi;
use crate::api::grid::GridApi;
use crate::api::tasks::TaskApi;
use crate::commands::sweep_supervision::sweep_once;
use crate::config::GridSettings;
use crate::domain::supervision::Ladder;
use crate::store::lookups::Lookups;
use crate::store::tallies;

/// The grid's own migrations, embedded in the binary; the shared ones are
/// in [`Service::MIGRATIONS`].
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// The running grid service.
pub struct Application {
    host: Host,
    key: DataKey,
    config: GridSettings,
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

    /// The supervision ladder from the settings.
    pub fn ladder(&self) -> Ladder {
        self.config.ladder()
    }

    /// A relay over the outbox, for tests that drive delivery themselves.
    pub fn relay(&self) -> Relay {
        self.host.relay()
    }
}

impl Service for Application {
    const NAME: &'static str = "grid";
    type Config = GridSettings;
    // The grid's cells table starts as the shared one; its own migrations constrain it.
    const MIGRATIONS: &'static [&'static sqlx::migrate::Migrator] = &[
        &civicgrid_messaging::MIGRATOR,
        &civicgrid_cell_tree::MIGRATOR,
        &MIGRATOR,
    ];

    async fn build(settings: Settings, config: GridSettings) -> anyhow::Result<Self> {
        let key = DataKey::load(&config.data_key_path)
            .map_err(|e| anyhow::anyhow!("configuration error: key `data_key_path`: {e}"))?;
        Ok(Application {
            host: Host::build(settings, Self::MIGRATIONS).await?,
            key,
            config,
        })
    }

    async fn run(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let api = GridServiceServer::new(GridApi::new(self.host.pool.clone()));
        // One cache of directory lookups for both APIs, so a directory change
        // made here is seen by the next task at once.
        let lookups = Arc::new(Lookups::new());
        let tasks = TaskServiceServer::new(TaskApi::new(
            self.host.pool.clone(),
            lookups.clone(),
            self.key.clone(),
        ));
        let sweeper: Job = {
            let pool = self.host.pool.clone();
            let ladder = self.ladder();
            let interval = self.config.sweep_interval();
            Box::new(move |stop| Box::pin(sweep_forever(pool, ladder, interval, stop)))
        };
        let folder: Job = {
            let pool = self.host.pool.clone();
            let interval = self.config.fold_interval();
            Box::new(move |stop| Box::pin(fold_forever(pool, interval, stop)))
        };
        let directory_api =
            DirectoryServiceServer::new(DirectoryApi::new(self.host.pool.clone(), lookups.clone()));
        let workers = Workers {
            relay: true,
            jobs: vec![sweeper, folder],
            ..Default::default()
        };
        let apis = Apis::new(&self.host.authenticator)
            .with(api)
            .with(directory_api)
            .with(tasks);
        self.host.serve(apis, workers, shutdown).await
    }
}

/// Folds the statistics' deltas on an interval until stopped.
async fn fold_forever(pool: PgPool, interval: Duration, stop: CancellationToken) {
    // The first pass vacuums whatever it folds: a grid stopped mid-load
    // may have left the deltas full of dead rows.
    let mut first = true;
    loop {
        let folded = match tallies::fold(&pool).await {
            Ok(folded) => folded,
            Err(error) => {
                tracing::warn!(%error, "folding the statistics' tallies failed; retrying next interval");
                0
            }
        };
        if (folded > 0 || first)
            && let Err(error) = tallies::vacuum(&pool).await
        {
            tracing::warn!(%error, "vacuuming the statistics' tallies failed; retrying after the next fold");
        }
        first = false;
        if !pause(interval, &stop).await {
            return;
        }
    }
}

/// Sweeps on an interval until stopped. It keeps no state between sweeps:
/// every sweep finds every lapse from the database, so a restart (or a
/// sweeper that was down while deadlines passed) misses nothing.
async fn sweep_forever(pool: PgPool, ladder: Ladder, interval: Duration, stop: CancellationToken) {
    loop {
        match sweep_once(&pool, &ladder, chrono::Utc::now()).await {
            Ok(0) => {}
            Ok(issued) => tracing::info!(issued, "supervision orders issued"),
            Err(error) => {
                tracing::warn!(%error, "supervision sweep failed; retrying next interval")
            }
        }
        if !pause(interval, &stop).await {
            return;
        }
    }
}
