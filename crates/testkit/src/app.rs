//! A service under test, spawned the way its binary runs it: gRPC on port
//! 0, its own database and broker names, background workers off so the test
//! drives its consumers. Shared by the service test binaries, each of which
//! adds its own clients.

use std::net::SocketAddr;

use civicgrid_host::Service;
use civicgrid_messaging::Consumer;
use civicgrid_runtime::CancellationToken;
use lapin::options::{BasicPublishOptions, ConfirmSelectOptions};
use lapin::{BasicProperties, Confirmation, Connection, ConnectionProperties};
use sqlx::PgPool;
use tonic::transport::Channel;

use crate::{TestBroker, TestDatabase, endpoint, test_settings};

/// Where a producer's event log is said to be when the test has none (a
/// port nothing listens on).
const NO_PRODUCER: &str = "http://127.0.0.1:1";

/// The service's parts a test reaches for: (gRPC address, pool, consumers).
pub type Parts = (SocketAddr, PgPool, Vec<Consumer>);

/// A running service and the client `C` the test calls it with.
pub struct TestApp<C> {
    /// Where its gRPC listens.
    pub addr: SocketAddr,
    /// Its database.
    pub pool: PgPool,
    /// Its consumers, their queues declared, for driven delivery.
    pub consumers: Vec<Consumer>,
    /// A channel to it, for health or reflection clients.
    pub channel: Channel,
    /// The service's own API client.
    pub client: C,
    /// The broker names it uses.
    pub broker: TestBroker,
    shutdown: CancellationToken,
    _db: TestDatabase,
}

impl<C> TestApp<C> {
    /// Builds `S` with test settings and `config`, takes its `parts`,
    /// declares its queues and runs it.
    pub async fn spawn<S: Service>(
        config: S::Config,
        parts: impl FnOnce(&S) -> Parts,
        client: impl FnOnce(Channel) -> C,
    ) -> TestApp<C> {
        civicgrid_runtime::telemetry::init_for_tests();
        let db = TestDatabase::create_empty().await.unwrap();
        let broker = TestBroker::new();
        let mut settings = test_settings(S::NAME, &db, &broker);
        // Catch-up subscriptions must name their producer's log. Background
        // workers are off, so nothing reads it here: the test drives the
        // live queue (a test of catch-up itself points it at a real log).
        settings
            .event_sources
            .insert("grid".to_owned(), NO_PRODUCER.to_owned());
        let app = S::build(settings, config).await.unwrap();
        let (addr, pool, consumers) = parts(&app);
        for consumer in &consumers {
            broker.track_queue(consumer.queue_name());
            consumer.declare().await.unwrap();
        }
        let shutdown = CancellationToken::new();
        tokio::spawn(app.run(shutdown.clone()));
        let channel = tonic::transport::Endpoint::from_shared(endpoint(addr))
            .unwrap()
            .connect_lazy();
        TestApp {
            addr,
            pool,
            consumers,
            client: client(channel.clone()),
            channel,
            broker,
            shutdown,
            _db: db,
        }
    }

    /// Publishes `message` under `routing_key` with `message_id` on the
    /// service's exchange, as another service's relay would, and waits for
    /// the broker's confirm.
    pub async fn publish<M: prost::Name>(
        &self,
        routing_key: &str,
        message_id: uuid::Uuid,
        message: &M,
    ) {
        let connection = Connection::connect(&self.broker.url, ConnectionProperties::default())
            .await
            .unwrap();
        let channel = connection.create_channel().await.unwrap();
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await
            .unwrap();
        let confirm = channel
            .basic_publish(
                self.broker.exchange.as_str().into(),
                routing_key.into(),
                BasicPublishOptions {
                    mandatory: true,
                    ..Default::default()
                },
                &message.encode_to_vec(),
                BasicProperties::default()
                    .with_message_id(message_id.to_string().into())
                    .with_type(M::full_name().into()),
            )
            .await
            .unwrap()
            .await
            .unwrap();
        // Ack(Some(_)) is a mandatory message returned as unroutable.
        assert!(
            matches!(confirm, Confirmation::Ack(None)),
            "the broker did not route the event: {confirm:?}"
        );
        let _ = connection.close(200, "published".into()).await;
    }
}

impl<C> Drop for TestApp<C> {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}
