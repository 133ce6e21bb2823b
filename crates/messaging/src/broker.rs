//! One supervised AMQP connection per process.
//!
//! lapin's own auto-recovery was seen to stay "Reconnecting" for over a
//! minute after the broker came back (see shared/stack.md), so instead the
//! connection is rebuilt on demand: whoever needs a channel and finds the
//! connection gone opens a new one. Callers (relay, consumers) retry with
//! backoff, so a broker restart heals without restarting the service.

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use lapin::{Channel, Connection, ConnectionProperties};
use tokio::sync::Mutex;

/// Connecting gives up after this long, so a black-holed broker address
/// turns into an error the caller can back off from instead of a hang.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// A broker problem; always worth retrying later.
#[derive(Debug, thiserror::Error)]
pub enum BrokerError {
    /// Connecting or opening a channel failed.
    #[error("broker unreachable: {0}")]
    Unreachable(String),
    /// An AMQP operation failed.
    #[error("broker operation failed: {0}")]
    Amqp(#[from] lapin::Error),
    /// The broker did not answer in time.
    #[error("broker timed out during {0}")]
    Timeout(&'static str),
    /// The broker refused a published message.
    #[error("broker refused message {0}")]
    Nacked(String),
}

/// A caller whose change depends on the broker (a publish that could not
/// be confirmed, a channel that would not open) gets UNAVAILABLE: the
/// broker is the one at fault, and retrying later is the right move.
/// Never INTERNAL, which gRPC retry policies do not retry. The cause goes
/// to the log, not to the caller.
impl From<BrokerError> for tonic::Status {
    fn from(error: BrokerError) -> tonic::Status {
        tracing::warn!(%error, "event broker unavailable");
        let message = match error {
            BrokerError::Nacked(_) | BrokerError::Timeout(_) => {
                "the event broker did not confirm the event; retry later"
            }
            BrokerError::Unreachable(_) | BrokerError::Amqp(_) => {
                "event broker unavailable; retry later"
            }
        };
        tonic::Status::unavailable(message)
    }
}

/// The process's connection to RabbitMQ.
pub struct Broker {
    url: String,
    name: String,
    connection: Mutex<Option<Arc<Connection>>>,
}

impl Broker {
    /// A broker at `url`; nothing connects until a channel is asked for.
    /// `name` shows up in the management UI's connection list.
    pub fn new(url: impl Into<String>, name: impl Into<String>) -> Arc<Broker> {
        Arc::new(Broker {
            url: url.into(),
            name: name.into(),
            connection: Mutex::new(None),
        })
    }

    /// A fresh channel on a live connection, reconnecting when needed.
    pub async fn channel(&self) -> Result<Channel, BrokerError> {
        let connection = self.connection().await?;
        match tokio::time::timeout(CONNECT_TIMEOUT, connection.create_channel()).await {
            Ok(Ok(channel)) => Ok(channel),
            Ok(Err(error)) => {
                self.forget(&connection).await;
                Err(BrokerError::Unreachable(error.to_string()))
            }
            Err(_) => {
                self.forget(&connection).await;
                Err(BrokerError::Timeout("channel.open"))
            }
        }
    }

    /// Whether a connection is open right now (connecting if there is none).
    pub async fn is_reachable(&self) -> bool {
        self.connection().await.is_ok()
    }

    async fn connection(&self) -> Result<Arc<Connection>, BrokerError> {
        let mut slot = self.connection.lock().await;
        if let Some(connection) = slot.as_ref() {
            if connection.status().connected() {
                return Ok(connection.clone());
            }
            tracing::warn!("broker connection lost; reconnecting");
        }
        *slot = None;
        let properties =
            ConnectionProperties::default().with_connection_name(self.name.clone().into());
        let connection =
            tokio::time::timeout(CONNECT_TIMEOUT, Connection::connect(&self.url, properties))
                .await
                .map_err(|_| BrokerError::Timeout("connection.open"))?
                .map_err(|e| BrokerError::Unreachable(e.to_string()))?;
        tracing::info!("connected to broker");
        let connection = Arc::new(connection);
        *slot = Some(connection.clone());
        Ok(connection)
    }

    /// Drops `connection` if it is still the current one, so the next caller reconnects.
    pub(crate) async fn forget(&self, connection: &Arc<Connection>) {
        let mut slot = self.connection.lock().await;
        if slot
            .as_ref()
            .is_some_and(|current| Arc::ptr_eq(current, connection))
        {
            *slot = None;
        }
    }

    /// Closes the connection (at shutdown).
    pub async fn close(&self) {
        if let Some(connection) = self.connection.lock().await.take() {
            let _ = connection.close(200, "shutting down".into()).await;
        }
    }
}

/// Readiness probe: the broker is reachable.
pub struct BrokerProbe(pub Arc<Broker>);

impl civicgrid_runtime::health::Probe for BrokerProbe {
    fn name(&self) -> &'static str {
        "broker"
    }

    fn check(&self) -> BoxFuture<'_, Result<(), String>> {
        Box::pin(async move {
            if self.0.is_reachable().await {
                Ok(())
            } else {
                Err("cannot connect".to_owned())
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use tonic::Code;

    use super::*;

    #[test]
    fn every_broker_failure_reaches_a_caller_as_unavailable() {
        let errors = [
            BrokerError::Unreachable("connection refused".to_owned()),
            BrokerError::Amqp(lapin::Error::from(lapin::ErrorKind::InvalidChannelState(
                lapin::ChannelState::Closed,
                "basic.publish",
            ))),
            BrokerError::Timeout("publisher confirms"),
            BrokerError::Nacked("event 1".to_owned()),
        ];
        for error in errors {
            let shown = error.to_string();
            let status = tonic::Status::from(error);
            assert_eq!(status.code(), Code::Unavailable, "{shown}");
            assert!(status.message().ends_with("retry later"), "{shown}");
        }
    }
}
