//! Settings for a service under test: port 0, no metrics listener, its own
//! database and broker names, the test public key.

use civicgrid_runtime::Settings;

use crate::{TestBroker, TestDatabase, TestKeys};

/// The shared settings for `service` on `database` and `broker` (a
/// service's own section is the test's: the grid's data key is
/// `TestKeys::get().data_key_path`). Background workers are
/// off: the test drives the relay and consumers itself unless it turns them on.
pub fn test_settings(service: &str, database: &TestDatabase, broker: &TestBroker) -> Settings {
    let mut settings = Settings::defaults(service, 0, 0);
    settings.metrics_addr = None;
    settings.database_url = database.url.clone();
    settings.amqp_url = broker.url.clone();
    settings.events_exchange = broker.exchange.clone();
    settings.queue_prefix = broker.queue_prefix.clone();
    settings.delivery_limit = 3;
    settings.auth_public_key_path = TestKeys::get().public_key_path.clone();
    settings.event_source_token_path = Some(TestKeys::get().service_token_path.clone());
    settings.background_workers = false;
    settings.shutdown_grace_ms = 2_000;
    settings
}
