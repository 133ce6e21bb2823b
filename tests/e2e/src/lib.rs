//! The four services in one test process, each with its own database, all
//! on one set of broker names: a county in miniature.

#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;

use civicgrid_centres::config::CentresSettings;
use civicgrid_grid::config::GridSettings;
use civicgrid_grid::domain::supervision::Ladder;
use civicgrid_host::Service;
use civicgrid_messaging::{Consumer, Relay};
use civicgrid_proto::centres::v1 as centres;
use civicgrid_proto::centres::v1::centres_service_client::CentresServiceClient;
use civicgrid_runtime::CancellationToken;
use civicgrid_testkit::{TestBroker, TestDatabase, TestKeys, test_settings};
use sqlx::PgPool;

/// One running service.
pub struct Running {
    /// Its short name.
    pub name: &'static str,
    /// Where its gRPC listens.
    pub addr: SocketAddr,
    /// Its database.
    pub pool: PgPool,
    /// Its consumers (replica services), for driven delivery.
    pub consumers: Vec<Consumer>,
    _db: TestDatabase,
}

impl Running {
    /// Its database's URL, for a test's own connection: an observer that
    /// borrows the service's pool competes with the service for it.
    pub fn database_url(&self) -> &str {
        &self._db.url
    }

    /// Its consumer of the grid's cell events (queue purpose `grid-cells`).
    pub fn cell_consumer(&self) -> &Consumer {
        let mut cells = self
            .consumers
            .iter()
            .filter(|consumer| consumer.queue_name().ends_with(".grid-cells"));
        match (cells.next(), cells.next()) {
            (Some(consumer), None) => consumer,
            _ => panic!("{} has not exactly one grid-cells consumer", self.name),
        }
    }
}

/// All four services.
pub struct County {
    /// The grid service.
    pub grid: Running,
    /// The grid's outbox relay, for driven delivery.
    pub grid_relay: Relay,
    /// The grid's supervision ladder, for tests that run its sweep themselves.
    pub grid_ladder: Ladder,
    /// membership, centres and assessment, in that order.
    pub replicas: Vec<Running>,
    /// The broker names they share.
    pub broker: TestBroker,
    shutdown: CancellationToken,
}

/// How the county runs its background work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Workers {
    /// The test drives relay and consumers one step at a time.
    Driven,
    /// Relay and consumers run by themselves, as in production.
    Background,
}

impl County {
    /// Starts all four services.
    pub async fn start(workers: Workers) -> County {
        Self::start_with(workers, |_| {}).await
    }

    /// Starts all four, letting `adjust` change each service's settings.
    pub async fn start_with(
        workers: Workers,
        adjust: impl Fn(&mut civicgrid_runtime::Settings),
    ) -> County {
        Self::start_configured(workers, adjust, |_| {}).await
    }

    /// Starts all four, letting `adjust` change each service's settings
    /// and `adjust_grid` the grid's own (its supervision ladder and sweep).
    pub async fn start_configured(
        workers: Workers,
        adjust: impl Fn(&mut civicgrid_runtime::Settings),
        adjust_grid: impl FnOnce(&mut GridSettings),
    ) -> County {
        Self::start_county(workers, adjust, adjust_grid, |_| {}).await
    }

    /// [`County::start_configured`], letting `adjust_centres` change the
    /// centres' own settings too (which residents' requests become
    /// demands).
    pub async fn start_county(
        workers: Workers,
        adjust: impl Fn(&mut civicgrid_runtime::Settings),
        adjust_grid: impl FnOnce(&mut GridSettings),
        adjust_centres: impl FnOnce(&mut CentresSettings),
    ) -> County {
        civicgrid_runtime::telemetry::init_for_tests();
        let broker = TestBroker::new();
        let shutdown = CancellationToken::new();
        // Each service's port is chosen before any starts, so every one can
        // be told where all the event logs are (membership and centres read
        // each other's: neither could start first otherwise).
        let addrs: std::collections::BTreeMap<&str, SocketAddr> =
            ["grid", "membership", "centres", "assessment"]
                .into_iter()
                .map(|name| (name, free_addr()))
                .collect();
        let event_sources: std::collections::BTreeMap<String, String> = addrs
            .iter()
            .map(|(name, addr)| ((*name).to_owned(), format!("http://{addr}")))
            .collect();
        let settings = |name: &str, db: &TestDatabase| {
            let mut settings = test_settings(name, db, &broker);
            settings.background_workers = workers == Workers::Background;
            settings.grpc_addr = addrs[name];
            settings.event_sources = event_sources.clone();
            adjust(&mut settings);
            settings
        };

        let db = TestDatabase::create_empty().await.unwrap();
        let mut grid_config = GridSettings {
            data_key_path: TestKeys::get().data_key_path.clone(),
            ..Default::default()
        };
        adjust_grid(&mut grid_config);
        let grid = civicgrid_grid::Application::build(settings("grid", &db), grid_config)
            .await
            .unwrap();
        let grid_relay = grid.relay();
        let grid_ladder = grid.ladder();
        let grid_running = Running {
            name: "grid",
            addr: grid.grpc_addr(),
            pool: grid.pool().clone(),
            consumers: Vec::new(),
            _db: db,
        };
        tokio::spawn(grid.run(shutdown.clone()));

        let mut replicas = Vec::new();
        macro_rules! replica {
            ($name:literal, $app:ty) => {
                replica!($name, $app, Default::default())
            };
            ($name:literal, $app:ty, $config:expr) => {{
                let db = TestDatabase::create_empty().await.unwrap();
                let replica_settings = settings($name, &db);
                let app = <$app>::build(replica_settings, $config).await.unwrap();
                let consumers = app.consumers();
                for consumer in &consumers {
                    broker.track_queue(consumer.queue_name());
                    consumer.declare().await.unwrap();
                }
                replicas.push(Running {
                    name: $name,
                    addr: app.grpc_addr(),
                    pool: app.pool().clone(),
                    consumers,
                    _db: db,
                });
                tokio::spawn(app.run(shutdown.clone()));
            }};
        }
        // Membership seals members' personal data with its own key.
        replica!(
            "membership",
            civicgrid_membership::Application,
            civicgrid_membership::config::MembershipSettings {
                membership_data_key_path: TestKeys::get().data_key_path.clone(),
                ..Default::default()
            }
        );
        let mut centres_config = CentresSettings::default();
        adjust_centres(&mut centres_config);
        replica!("centres", civicgrid_centres::Application, centres_config);
        replica!("assessment", civicgrid_assessment::Application);

        County {
            grid: grid_running,
            grid_relay,
            grid_ladder,
            replicas,
            broker,
            shutdown,
        }
    }

    /// Every service, grid first.
    pub fn all(&self) -> impl Iterator<Item = &Running> {
        std::iter::once(&self.grid).chain(self.replicas.iter())
    }
}

impl Drop for County {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// A free local port (bound and released: another process could take it
/// in between, which these tests accept).
fn free_addr() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .unwrap()
}

/// How many times the replica in `pool` holds cell `id` (0 or 1), and its version.
pub async fn replica_copies(pool: &PgPool, id: &str) -> (i64, Option<i64>) {
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM cells WHERE id = $1")
        .bind(id)
        .fetch_one(pool)
        .await
        .unwrap();
    let version: Option<i64> = sqlx::query_scalar("SELECT version FROM cells WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await
        .unwrap();
    (count, version)
}

/// How long a cross-service effect may take to arrive on a loaded machine.
pub const PATIENCE: std::time::Duration = std::time::Duration::from_secs(60);

/// Retries `call` while the service does not know a cell yet (its replica
/// is catching up with the grid): FAILED_PRECONDITION, NOT_FOUND, or the
/// INVALID_ARGUMENT membership gives a placement in a cell or compound it
/// has not replicated yet (a parent cell may arrive before its child).
pub async fn once_replicated<T, F, Fut>(what: &str, mut call: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, tonic::Status>>,
{
    civicgrid_testkit::eventually(PATIENCE, what, || {
        let attempt = call();
        async move {
            match attempt.await {
                Ok(value) => Some(value),
                Err(status)
                    if matches!(
                        status.code(),
                        tonic::Code::FailedPrecondition | tonic::Code::NotFound
                    ) || not_replicated_yet(&status) =>
                {
                    None
                }
                Err(status) => panic!("{what}: {status:?}"),
            }
        }
    })
    .await
}

/// A placement the service refused only because its replica lacks the cell
/// or compound so far; any other INVALID_ARGUMENT is the test's own mistake.
fn not_replicated_yet(status: &tonic::Status) -> bool {
    status.code() == tonic::Code::InvalidArgument
        && format!("{status:?}").contains("this service knows")
}

/// A valid resident ID number (GB 11643-1999) with sequence `n`.
pub fn id_number(n: u32) -> String {
    let body = format!("110105198001{:02}{:03}", 1 + n % 28, n % 1000);
    let check = civicgrid_membership::domain::id_number::check_character(body.as_bytes());
    format!("{body}{}", char::from(check))
}

/// The community centre `m1-centre` of `organisations/m1-pc` at `cells/m1`,
/// open round the clock every day (so any activity time fits), created as
/// soon as centres has replicated m1.
pub async fn m1_centre(
    client: &CentresServiceClient<tonic::transport::Channel>,
    token: &str,
    display_name: &str,
) -> centres::Centre {
    let hours: Vec<centres::OpeningPeriod> = (1..=7)
        .map(|weekday| centres::OpeningPeriod {
            weekday,
            opens: "00:00".into(),
            closes: "23:59".into(),
            kind: centres::OpeningKind::Regular as i32,
        })
        .collect();
    once_replicated("a centre in a replicated community", || {
        let mut client = client.clone();
        let request = civicgrid_testkit::with_token(
            centres::CreateCentreRequest {
                centre_id: "m1-centre".into(),
                centre: Some(centres::Centre {
                    display_name: display_name.into(),
                    category: centres::CentreCategory::Community as i32,
                    owner_organisation: "organisations/m1-pc".into(),
                    cell: "cells/m1".into(),
                    floor_area_square_metres: 400,
                    opening_hours: hours.clone(),
                    ..Default::default()
                }),
                ..Default::default()
            },
            token,
        );
        async move { client.create_centre(request).await }
    })
    .await
    .into_inner()
    .centre
    .unwrap_or_default()
}

/// `hour`:00 on `day` in Shanghai (UTC+8, no daylight saving).
pub fn shanghai_hour(day: chrono::NaiveDate, hour: u32) -> prost_types::Timestamp {
    let utc = day
        .and_hms_opt(hour, 0, 0)
        .map(|local| local.and_utc().timestamp() - 8 * 3600)
        .unwrap_or_default();
    prost_types::Timestamp {
        seconds: utc,
        nanos: 0,
    }
}
