//! Service defaults: everything a civicgrid service runs besides its own
//! domain. A service describes itself with [`Service`] (its name, its own
//! configuration section, the migration sets it needs); `main` is one call
//! to [`main`], and tests call the service's `build` with test settings.
//! Its default ports come from the service list ([`catalog`]).
//!
//! [`Host::build`] loads the verifying key, opens the pool, applies the
//! shared and the service's own migrations as one set (under sqlx's
//! advisory lock), and binds the gRPC port.
//! [`Host::run`] serves gRPC with health and reflection, reports readiness
//! from the database and broker, runs the outbox relay and consumers, and
//! on shutdown reports NOT_SERVING, drains calls and stops the workers.

use std::future::Future;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use civicgrid_messaging::admin::SubscriptionAdminApi;
use civicgrid_messaging::broker::BrokerProbe;
use civicgrid_messaging::event_log::EventLogApi;
use civicgrid_messaging::{
    Broker, Consumer, EventSource, Relay, Subscription, TokenSource, Topology,
};
use civicgrid_proto::MessageLimits;
use civicgrid_proto::events::v1::event_log_service_server::EventLogServiceServer;
use civicgrid_proto::events::v1::subscription_admin_service_server::SubscriptionAdminServiceServer;
use civicgrid_runtime::auth::{Authenticator, Verifier};
use civicgrid_runtime::grpc::MAX_MESSAGE_BYTES;
use civicgrid_runtime::health::{DatabaseProbe, Probe};
use civicgrid_runtime::shutdown::pause;
use civicgrid_runtime::{
    CancellationToken, Section, Settings, db, grpc, metrics, shutdown, telemetry,
};
use sqlx::PgPool;
use sqlx::migrate::Migrator;
use tokio::net::TcpListener;
use tonic::service::Routes;
use tonic::service::interceptor::InterceptedService;

pub mod catalog;

/// How long a starting service waits for its database before giving up.
const MIGRATION_PATIENCE: Duration = Duration::from_secs(60);
/// How often readiness is re-checked.
const READINESS_INTERVAL: Duration = Duration::from_secs(2);

/// A civicgrid service as its `main` sees it.
pub trait Service: Sized + Send + 'static {
    /// Short name: "grid", "membership", ...; its row in `infra/services.tsv`
    /// gives the default ports.
    const NAME: &'static str;
    /// The service's own configuration keys ([`civicgrid_runtime::NoSection`]
    /// when it has none). They sit beside the shared keys in the same file and
    /// `CIVICGRID_*` variables; a key of another service's section is refused.
    type Config: Section;
    /// Every migration set the service's database needs, shared ones first:
    /// `civicgrid_messaging::MIGRATOR` (outbox, processed_events), then
    /// `civicgrid_cell_tree::MIGRATOR` if it stores cells, then its own
    /// `sqlx::migrate!()`. [`Host::build`] applies them as one set.
    const MIGRATIONS: &'static [&'static Migrator];
    /// Builds the service from validated settings and its own section.
    fn build(
        settings: Settings,
        config: Self::Config,
    ) -> impl Future<Output = anyhow::Result<Self>> + Send;
    /// Runs until `shutdown` is cancelled.
    fn run(self, shutdown: CancellationToken) -> impl Future<Output = anyhow::Result<()>> + Send;
}

/// The whole of a service's `main`: settings (a bad value exits with code 2
/// and a message naming the key), telemetry, build, run until SIGTERM/SIGINT.
pub fn main<S: Service>() -> ExitCode {
    let entry = match catalog::service(S::NAME) {
        Ok(entry) => entry,
        Err(error) => {
            eprintln!("civicgrid-{}: {error}", S::NAME);
            return ExitCode::FAILURE;
        }
    };
    let defaults = Settings::defaults(S::NAME, entry.grpc_port, entry.metrics_port);
    let (settings, config) = match Settings::load::<S::Config>(defaults) {
        Ok(loaded) => loaded,
        Err(error) => {
            eprintln!("civicgrid-{}: {error}", S::NAME);
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!(
                "civicgrid-{}: cannot start the async runtime: {error}",
                S::NAME
            );
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        let _telemetry = match telemetry::init(S::NAME, &settings.log_filter) {
            Ok(guard) => guard,
            Err(error) => {
                eprintln!("civicgrid-{}: cannot start telemetry: {error}", S::NAME);
                return ExitCode::FAILURE;
            }
        };
        let shutdown = CancellationToken::new();
        tokio::spawn(shutdown::cancel_on_signal(shutdown.clone()));
        let outcome = async {
            let service = S::build(settings, config).await?;
            service.run(shutdown).await
        }
        .await;
        match outcome {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                tracing::error!(error = format!("{error:#}"), "service failed");
                eprintln!("civicgrid-{}: {error:#}", S::NAME);
                ExitCode::FAILURE
            }
        }
    })
}

/// A service's own background job: runs until the token is cancelled.
pub type Job = Box<dyn FnOnce(CancellationToken) -> futures::future::BoxFuture<'static, ()> + Send>;

/// What [`Host::run`] runs besides the gRPC server.
#[derive(Default)]
pub struct Workers {
    /// Whether this service publishes events (runs an outbox relay).
    pub relay: bool,
    /// The queues it consumes.
    pub subscriptions: Vec<Subscription>,
    /// The service's own background jobs (sweepers and the like).
    pub jobs: Vec<Job>,
}

/// The generated gRPC servers a service serves, each behind bearer-token
/// authentication and with the host's message-size limits.
pub struct Apis {
    authenticator: Authenticator,
    routes: Option<Routes>,
    names: Vec<&'static str>,
}

impl Apis {
    /// No servers yet; `host.authenticator` guards those added.
    pub fn new(authenticator: &Authenticator) -> Apis {
        Apis {
            authenticator: authenticator.clone(),
            routes: None,
            names: Vec::new(),
        }
    }

    /// Adds a generated server (e.g. `GridServiceServer::new(api)`), with
    /// its decoding and encoding limits set to [`MAX_MESSAGE_BYTES`].
    pub fn with<S>(mut self, api: S) -> Apis
    where
        S: MessageLimits
            + tonic::server::NamedService
            + tower::Service<
                http::Request<tonic::body::Body>,
                Response = http::Response<tonic::body::Body>,
                Error = std::convert::Infallible,
            > + Clone
            + Send
            + Sync
            + 'static,
        S::Future: Send + 'static,
    {
        let api = api.with_message_limits(MAX_MESSAGE_BYTES);
        let guarded = InterceptedService::new(api, self.authenticator.clone());
        self.routes = Some(match self.routes.take() {
            Some(routes) => routes.add_service(guarded),
            None => Routes::new(guarded),
        });
        self.names.push(S::NAME);
        self
    }
}

/// A service's infrastructure, built and ready to run.
pub struct Host {
    /// The validated settings.
    pub settings: Settings,
    /// The service's database.
    pub pool: PgPool,
    /// The broker connection.
    pub broker: Arc<Broker>,
    /// Exchange and queue names.
    pub topology: Topology,
    /// The bearer-token interceptor for the service's own routes.
    pub authenticator: Authenticator,
    listener: TcpListener,
    grpc_addr: SocketAddr,
}

impl Host {
    /// Loads the key, opens the pool, applies `migrations` (a service's
    /// [`Service::MIGRATIONS`]) as one set, binds the port.
    pub async fn build(
        settings: Settings,
        migrations: &[&'static Migrator],
    ) -> anyhow::Result<Host> {
        let migrator = migrator(migrations)?;
        if let Some(addr) = settings.metrics_addr {
            metrics::install(addr)?;
        }
        let key = std::fs::read(&settings.auth_public_key_path).map_err(|e| {
            anyhow::anyhow!(
                "configuration error: key `auth_public_key_path` ({}): {e}",
                settings.auth_public_key_path.display()
            )
        })?;
        let verifier = Verifier::from_pem(&key, &settings.auth_issuer)
            .map_err(|e| anyhow::anyhow!("configuration error: key `auth_public_key_path`: {e}"))?;
        let pool = db::pool(&settings)?;
        db::migrate(&pool, &migrator, MIGRATION_PATIENCE).await?;
        let broker = Broker::new(
            settings.amqp_url.clone(),
            format!("civicgrid-{}", settings.service_name),
        );
        let topology = Topology::new(
            &settings.events_exchange,
            &settings.queue_prefix,
            settings.delivery_limit,
        );
        let (listener, grpc_addr) = grpc::bind(settings.grpc_addr).await?;
        Ok(Host {
            settings,
            pool,
            broker,
            topology,
            authenticator: Authenticator::new(verifier),
            listener,
            grpc_addr,
        })
    }

    /// The address gRPC listens on (the real port when configured as 0).
    pub fn grpc_addr(&self) -> SocketAddr {
        self.grpc_addr
    }

    /// An outbox relay over this service's database.
    pub fn relay(&self) -> Relay {
        Relay::new(
            self.pool.clone(),
            self.broker.clone(),
            self.topology.clone(),
            &self.settings.service_name,
        )
        .with_retention(self.settings.outbox_retention_days)
    }

    /// One consumer per subscription, for tests that drive delivery themselves.
    pub fn consumers(&self, subscriptions: Vec<Subscription>) -> Vec<Consumer> {
        subscriptions
            .into_iter()
            .map(|s| self.consumer(s))
            .collect()
    }

    /// A consumer of `subscription` into this service's database; a
    /// catch-up subscription reads its producer's log at the address in
    /// `event_sources`, with the token in `event_source_token_path`.
    pub fn consumer(&self, subscription: Subscription) -> Consumer {
        let source = self.event_source(&subscription).ok();
        let consumer = Consumer::new(
            self.pool.clone(),
            self.broker.clone(),
            self.topology.clone(),
            subscription,
        );
        match source {
            Some(source) => consumer.with_source(source),
            None => consumer,
        }
    }

    // ---- event history (catch-up subscriptions, event log, rebuilds) ----

    /// The producer log a catch-up subscription reads, from the settings.
    fn event_source(&self, subscription: &Subscription) -> anyhow::Result<EventSource> {
        let Some(spec) = subscription.catch_up_spec() else {
            anyhow::bail!("subscription {} does not catch up", subscription.name());
        };
        let producer = spec.producer.as_str();
        let url = self.settings.event_sources.get(producer).ok_or_else(|| {
            anyhow::anyhow!(
                "configuration error: key `event_sources`: no address for producer `{producer}`, whose log subscription `{}` catches up from",
                subscription.name()
            )
        })?;
        let token = self.settings.event_source_token_path.clone().ok_or_else(|| {
            anyhow::anyhow!(
                "configuration error: key `event_source_token_path`: subscription `{}` needs a token (role service, scope *) to read the `{producer}` event log",
                subscription.name()
            )
        })?;
        Ok(EventSource::new(producer, url, TokenSource::File(token)))
    }

    /// Adds the event log (for a service that publishes) and the admin RPCs
    /// (rebuilds of catch-up subscriptions, the event status) to `apis`.
    fn history_apis(&self, apis: Apis, workers: &Workers) -> anyhow::Result<Apis> {
        use civicgrid_runtime::grpc::MAX_MESSAGE_BYTES;
        let mut apis = apis;
        if workers.relay {
            apis = apis.with(
                EventLogServiceServer::new(EventLogApi::new(self.pool.clone()))
                    .max_decoding_message_size(MAX_MESSAGE_BYTES)
                    .max_encoding_message_size(MAX_MESSAGE_BYTES),
            );
        }
        let mut consumers = Vec::new();
        for subscription in &workers.subscriptions {
            if subscription.catch_up_spec().is_some() {
                self.event_source(subscription)?;
            }
            consumers.push(self.consumer(subscription.clone()));
        }
        // Served by every service, so `civicgrid status` can ask each one
        // for its outbox and queues; rebuilds need a catch-up subscription.
        apis = apis.with(SubscriptionAdminServiceServer::new(
            SubscriptionAdminApi::new(&self.settings.service_name, self.pool.clone(), consumers),
        ));
        Ok(apis)
    }

    /// Serves `apis` (plus health and reflection) and runs `workers` until `shutdown`.
    pub async fn serve(
        self,
        apis: Apis,
        workers: Workers,
        shutdown: CancellationToken,
    ) -> anyhow::Result<()> {
        let apis = self.history_apis(apis, &workers)?;
        let Apis { routes, names, .. } = apis;
        let routes = routes.unwrap_or_default();
        self.run(
            routes,
            &names,
            &[civicgrid_proto::FILE_DESCRIPTOR_SET],
            workers,
            shutdown,
        )
        .await
    }

    /// Serves `routes` (plus health and reflection) and runs `workers` until `shutdown`.
    pub async fn run(
        self,
        routes: Routes,
        service_names: &[&'static str],
        descriptor_sets: &[&'static [u8]],
        workers: Workers,
        shutdown: CancellationToken,
    ) -> anyhow::Result<()> {
        let (reporter, health) = grpc::health();
        // tonic-health starts "" as SERVING; nothing is ready until probed.
        reporter
            .set_service_status("", grpc::ServingStatus::NotServing)
            .await;
        let workers_stop = CancellationToken::new();
        let mut tasks = tokio::task::JoinSet::new();
        // A queue must exist before the events it binds are published, or
        // the broker drops them as unroutable: stay NOT_SERVING until every
        // queue is declared, so `make up` and deployments wait for it.
        let queues = QueuesDeclared::default();
        let declaring: Vec<Consumer> = workers
            .subscriptions
            .iter()
            .cloned()
            .map(|s| self.consumer(s))
            .collect();
        tasks.spawn(queues.clone().declare(declaring, workers_stop.clone()));
        let probes: Vec<Box<dyn Probe>> = vec![
            Box::new(DatabaseProbe(self.pool.clone())),
            Box::new(BrokerProbe(self.broker.clone())),
            Box::new(queues),
        ];
        tasks.spawn(civicgrid_runtime::health::report_readiness(
            reporter.clone(),
            service_names.to_vec(),
            probes,
            READINESS_INTERVAL,
            workers_stop.clone(),
        ));
        if self.settings.background_workers {
            if workers.relay {
                tasks.spawn(self.relay().run(workers_stop.clone()));
            }
            for subscription in workers.subscriptions {
                tasks.spawn(self.consumer(subscription).run(workers_stop.clone()));
            }
            for job in workers.jobs {
                tasks.spawn(job(workers_stop.clone()));
            }
            tasks.spawn(civicgrid_runtime::upkeep::run(
                self.pool.clone(),
                civicgrid_runtime::upkeep::INTERVAL,
                workers_stop.clone(),
            ));
        }
        tracing::info!(grpc_addr = %self.grpc_addr, service = %self.settings.service_name, "serving");
        let endpoints = grpc::Endpoints {
            routes,
            health,
            reporter,
            service_names,
            descriptor_sets,
        };
        let served = grpc::serve(&self.settings, self.listener, endpoints, shutdown).await;

        // Calls have drained; now stop the workers, each finishing its current message.
        workers_stop.cancel();
        if tokio::time::timeout(self.settings.shutdown_grace(), async {
            while tasks.join_next().await.is_some() {}
        })
        .await
        .is_err()
        {
            tracing::warn!("workers did not stop in time");
            tasks.abort_all();
        }
        self.broker.close().await;
        self.pool.close().await;
        tracing::info!("stopped");
        served
    }
}

/// One migrator holding every migration of `sets`, sorted by version. Each
/// migration keeps the version, description and checksum of its file, so a
/// database migrated when the shared files were copied into each service
/// still validates.
///
/// # Errors
/// Two sets hold the same version.
pub fn migrator(sets: &[&Migrator]) -> anyhow::Result<Migrator> {
    let mut migrations: Vec<sqlx::migrate::Migration> =
        sets.iter().flat_map(|set| set.iter().cloned()).collect();
    migrations.sort_by_key(|m| m.version);
    if let Some(pair) = migrations.windows(2).find(|w| w[0].version == w[1].version) {
        anyhow::bail!(
            "two migration sets hold version {}: `{}` and `{}`",
            pair[0].version,
            pair[0].description,
            pair[1].description
        );
    }
    Ok(Migrator::with_migrations(migrations))
}

/// Readiness: every queue the service consumes has been declared.
#[derive(Clone, Default)]
struct QueuesDeclared(Arc<std::sync::atomic::AtomicBool>);

impl QueuesDeclared {
    /// Declares each consumer's queues, retrying with backoff until all exist.
    async fn declare(self, consumers: Vec<Consumer>, stop: CancellationToken) {
        let mut backoff = civicgrid_messaging::backoff::Backoff::new(
            Duration::from_millis(100),
            Duration::from_secs(5),
        );
        let mut pending = consumers;
        while !pending.is_empty() {
            let mut failed = Vec::new();
            for consumer in pending {
                if let Err(error) = consumer.declare().await {
                    tracing::warn!(queue = consumer.queue_name(), %error, "cannot declare queue yet");
                    failed.push(consumer);
                }
            }
            pending = failed;
            if !pending.is_empty() && !pause(backoff.next_delay(), &stop).await {
                return;
            }
        }
        self.0.store(true, std::sync::atomic::Ordering::Release);
    }
}

impl Probe for QueuesDeclared {
    fn name(&self) -> &'static str {
        "queues"
    }

    fn check(&self) -> futures::future::BoxFuture<'_, Result<(), String>> {
        let declared = self.0.load(std::sync::atomic::Ordering::Acquire);
        Box::pin(async move {
            if declared {
                Ok(())
            } else {
                Err("queues not declared yet".to_owned())
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static FIRST: Migrator = sqlx::migrate!("./tests/migrations/first");
    static SECOND: Migrator = sqlx::migrate!("./tests/migrations/second");

    #[test]
    fn sets_merge_in_version_order_keeping_each_checksum() {
        let merged = migrator(&[&SECOND, &FIRST]).unwrap();
        let versions: Vec<i64> = merged.iter().map(|m| m.version).collect();
        assert_eq!(versions, [1, 2, 3]);
        for m in merged.iter() {
            let original = FIRST
                .iter()
                .chain(SECOND.iter())
                .find(|o| o.version == m.version)
                .unwrap();
            assert_eq!(m.checksum, original.checksum);
            assert_eq!(m.description, original.description);
        }
    }

    #[test]
    fn two_sets_with_the_same_version_are_refused() {
        let error = migrator(&[&FIRST, &FIRST]).unwrap_err();
        assert!(error.to_string().contains("version 1"), "{error}");
    }
}
