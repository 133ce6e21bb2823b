//! Unique broker names per test, removed afterwards.

use std::sync::Mutex;

use lapin::options::{ExchangeDeleteOptions, QueueDeleteOptions};
use lapin::{Connection, ConnectionProperties};
use uuid::Uuid;

/// The broker tests use (`TEST_AMQP_URL`).
pub fn amqp_url() -> String {
    std::env::var("TEST_AMQP_URL")
        .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".to_owned())
}

/// An exchange name and queue prefix no other test uses. Queues the test
/// declared must be registered with [`TestBroker::track_queue`] to be removed.
pub struct TestBroker {
    /// AMQP URL.
    pub url: String,
    /// The events exchange, `test.<id>.events`.
    pub exchange: String,
    /// Prefix of every queue, `test.<id>`.
    pub queue_prefix: String,
    queues: Mutex<Vec<String>>,
}

impl TestBroker {
    /// Fresh names on the shared broker.
    pub fn new() -> TestBroker {
        let id = Uuid::new_v4().simple().to_string();
        TestBroker {
            url: amqp_url(),
            exchange: format!("test.{id}.events"),
            queue_prefix: format!("test.{id}"),
            queues: Mutex::new(Vec::new()),
        }
    }

    /// Removes `queue` and its dead-letter queue when the test ends.
    pub fn track_queue(&self, queue: &str) {
        if let Ok(mut queues) = self.queues.lock() {
            queues.push(queue.to_owned());
            queues.push(format!("{queue}.dlq"));
        }
    }
}

impl Default for TestBroker {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for TestBroker {
    fn drop(&mut self) {
        let url = self.url.clone();
        let exchanges = vec![
            self.exchange.clone(),
            format!("{}.dead-letter", self.exchange),
        ];
        let queues = self.queues.lock().map(|q| q.clone()).unwrap_or_default();
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(async move {
                let connection = Connection::connect(&url, ConnectionProperties::default()).await?;
                let channel = connection.create_channel().await?;
                for queue in queues {
                    let _ = channel
                        .queue_delete(queue.as_str().into(), QueueDeleteOptions::default())
                        .await;
                }
                for exchange in exchanges {
                    let _ = channel
                        .exchange_delete(exchange.as_str().into(), ExchangeDeleteOptions::default())
                        .await;
                }
                let _ = connection.close(200, "test done".into()).await;
                anyhow::Ok(())
            })
        })
        .join();
    }
}
