//! Exchanges and queues, declared in code. Every option is written out with
//! the reason for it, because a wrong flag here loses messages silently.

use lapin::options::{ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{Channel, ExchangeKind};

use crate::broker::BrokerError;

/// The names one deployment (or one test) uses.
#[derive(Debug, Clone)]
pub struct Topology {
    /// Durable topic exchange all services publish their events to.
    pub exchange: String,
    /// Direct exchange dead-lettered messages go through, routed by queue name.
    pub dead_letter_exchange: String,
    /// Prefix of every queue name.
    pub queue_prefix: String,
    /// Deliveries of one message before the broker dead-letters it.
    pub delivery_limit: u32,
}

/// A consumer's queue: `{prefix}.{service}.{purpose}`, bound to routing keys.
#[derive(Debug, Clone)]
pub struct QueueSpec {
    /// Full queue name.
    pub name: String,
    /// Routing keys (topic patterns) bound to the events exchange.
    pub bindings: Vec<String>,
}

impl Topology {
    /// Names derived from the exchange and queue prefix in configuration.
    pub fn new(exchange: &str, queue_prefix: &str, delivery_limit: u32) -> Topology {
        Topology {
            exchange: exchange.to_owned(),
            dead_letter_exchange: format!("{exchange}.dead-letter"),
            queue_prefix: queue_prefix.to_owned(),
            delivery_limit,
        }
    }

    /// The queue `service` consumes for `purpose`.
    pub fn queue(&self, service: &str, purpose: &str, bindings: &[&str]) -> QueueSpec {
        QueueSpec {
            name: format!("{}.{service}.{purpose}", self.queue_prefix),
            bindings: bindings.iter().map(|b| (*b).to_owned()).collect(),
        }
    }

    /// Where `queue`'s dead letters wait for an operator.
    pub fn dead_letter_queue(queue: &str) -> String {
        format!("{queue}.dlq")
    }

    /// Declares both exchanges (idempotent).
    pub async fn declare_exchanges(&self, channel: &Channel) -> Result<(), BrokerError> {
        let durable = ExchangeDeclareOptions {
            // Survive a broker restart: the exchange is part of the contract.
            durable: true,
            // Never removed when the last queue unbinds; publishers rely on it.
            auto_delete: false,
            // Other services publish to it too.
            internal: false,
            // Declaring creates it if missing instead of failing.
            passive: false,
            nowait: false,
        };
        // Topic: consumers bind `grid.cell.*` and the like.
        channel
            .exchange_declare(
                self.exchange.as_str().into(),
                ExchangeKind::Topic,
                durable,
                FieldTable::default(),
            )
            .await?;
        // Direct: each dead-letter queue binds its source queue's name.
        channel
            .exchange_declare(
                self.dead_letter_exchange.as_str().into(),
                ExchangeKind::Direct,
                durable,
                FieldTable::default(),
            )
            .await?;
        Ok(())
    }

    /// Declares `spec`'s queue, its dead-letter queue and its bindings (idempotent).
    pub async fn declare_queue(
        &self,
        channel: &Channel,
        spec: &QueueSpec,
    ) -> Result<(), BrokerError> {
        self.declare_exchanges(channel).await?;
        let options = QueueDeclareOptions {
            // Messages and the queue survive broker restarts (quorum queues are always durable).
            durable: true,
            // Several replicas of a service share one queue as competing consumers.
            exclusive: false,
            // Keep messages while every consumer is down: that is the point.
            auto_delete: false,
            passive: false,
            nowait: false,
        };

        let dead_letters = Self::dead_letter_queue(&spec.name);
        let mut dlq_args = FieldTable::default();
        // Replicated and fsynced, like the main queue.
        dlq_args.insert(
            "x-queue-type".into(),
            AMQPValue::LongString("quorum".into()),
        );
        channel
            .queue_declare(dead_letters.as_str().into(), options, dlq_args)
            .await?;
        channel
            .queue_bind(
                dead_letters.as_str().into(),
                self.dead_letter_exchange.as_str().into(),
                spec.name.as_str().into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await?;

        let mut args = FieldTable::default();
        // Quorum: replicated, and it counts deliveries, which classic queues do not.
        args.insert(
            "x-queue-type".into(),
            AMQPValue::LongString("quorum".into()),
        );
        // A message requeued this many times is poison: dead-letter it rather than loop forever.
        args.insert(
            "x-delivery-limit".into(),
            AMQPValue::LongUInt(self.delivery_limit),
        );
        // Dead letters go to this deployment's dead-letter exchange...
        args.insert(
            "x-dead-letter-exchange".into(),
            AMQPValue::LongString(self.dead_letter_exchange.as_str().into()),
        );
        // ...under the queue's own name, so each queue has its own dead-letter queue.
        args.insert(
            "x-dead-letter-routing-key".into(),
            AMQPValue::LongString(spec.name.as_str().into()),
        );
        channel
            .queue_declare(spec.name.as_str().into(), options, args)
            .await?;
        for binding in &spec.bindings {
            channel
                .queue_bind(
                    spec.name.as_str().into(),
                    self.exchange.as_str().into(),
                    binding.as_str().into(),
                    QueueBindOptions::default(),
                    FieldTable::default(),
                )
                .await?;
        }
        Ok(())
    }
}
