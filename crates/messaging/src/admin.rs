//! `civicgrid.events.v1.SubscriptionAdminService`: rebuilding a catch-up
//! subscription's read model from its producer's log, and the status of a
//! service's outbox and queues, for operators.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use civicgrid_proto::events::v1 as pb;
use civicgrid_proto::events::v1::subscription_admin_service_server::SubscriptionAdminService;
use civicgrid_runtime::auth::{Caller, Role};
use civicgrid_runtime::status::FieldViolations;
use sqlx::PgPool;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};

use crate::catch_up::CatchUpError;
use crate::consumer::Consumer;
use crate::event_status;

/// The admin RPCs over one service's database and consumers.
#[derive(Clone)]
pub struct SubscriptionAdminApi {
    service: String,
    pool: PgPool,
    consumers: Arc<BTreeMap<String, Arc<Consumer>>>,
}

impl SubscriptionAdminApi {
    /// Serves `service`'s outbox at `pool` and its `consumers` (all of them
    /// for the status; the catch-up ones for rebuilds).
    pub fn new(service: &str, pool: PgPool, consumers: Vec<Consumer>) -> SubscriptionAdminApi {
        let consumers = consumers
            .into_iter()
            .map(|c| (c.subscription().name().to_owned(), Arc::new(c)))
            .collect();
        SubscriptionAdminApi {
            service: service.to_owned(),
            pool,
            consumers: Arc::new(consumers),
        }
    }

    /// The subscriptions it can rebuild, sorted.
    pub fn names(&self) -> Vec<String> {
        self.consumers
            .iter()
            .filter(|(_, c)| c.subscription().catch_up_spec().is_some())
            .map(|(name, _)| name.clone())
            .collect()
    }

    async fn subscription_status(consumer: &Consumer) -> Result<pb::SubscriptionStatus, Status> {
        let queue = consumer.queue_name().to_owned();
        let mut status = pb::SubscriptionStatus {
            subscription: consumer.subscription().name().to_owned(),
            dead_letter_queue: crate::topology::Topology::dead_letter_queue(&queue),
            queue,
            ..Default::default()
        };
        // A broker that cannot be asked is part of the answer, not a failure
        // of the call: the operator needs the rest of the table most then.
        match event_status::queue_depths(consumer).await {
            Ok(depths) => {
                status.queued_messages = depths.queued;
                status.consumers = depths.consumers;
                status.dead_letters = depths.dead_letters;
            }
            Err(error) => status.broker_error = error.to_string(),
        }
        status.checkpoints = event_status::checkpoints(consumer)
            .await
            .map_err(civicgrid_runtime::status::database)?
            .into_iter()
            .map(|row| pb::Checkpoint {
                producer: row.producer,
                position: row.position,
                update_time: Some(timestamp(row.updated_at)),
            })
            .collect();
        Ok(status)
    }
}

fn timestamp(at: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: at.timestamp(),
        nanos: i32::try_from(at.timestamp_subsec_nanos()).unwrap_or(0),
    }
}

fn status_of(error: CatchUpError) -> Status {
    match error {
        CatchUpError::Read(status) if status.code() == tonic::Code::FailedPrecondition => status,
        CatchUpError::Read(status) => Status::unavailable(format!(
            "the producer's event log failed: {}",
            status.message()
        )),
        CatchUpError::Connect(_) | CatchUpError::Broker(_) | CatchUpError::Database(_) => {
            Status::unavailable(error.to_string())
        }
        other => Status::internal(other.to_string()),
    }
}

#[tonic::async_trait]
impl SubscriptionAdminService for SubscriptionAdminApi {
    type RebuildSubscriptionStream =
        ReceiverStream<Result<pb::RebuildSubscriptionResponse, Status>>;

    async fn rebuild_subscription(
        &self,
        request: Request<pb::RebuildSubscriptionRequest>,
    ) -> Result<Response<Self::RebuildSubscriptionStream>, Status> {
        let caller = Caller::of(&request)?;
        if !(caller.has_role(Role::CountyAdmin) && caller.sees_everything()) {
            return Err(Status::permission_denied(
                "rebuilding a read model needs the role county_admin and scope `*`",
            ));
        }
        let name = request.into_inner().subscription;
        if name.is_empty() {
            let mut violations = FieldViolations::new();
            violations.add("subscription", "must name a subscription");
            return Err(violations.into_status());
        }
        let consumer = self
            .consumers
            .get(&name)
            .filter(|c| c.subscription().catch_up_spec().is_some())
            .cloned()
            .ok_or_else(|| {
                Status::not_found(format!(
                    "no catch-up subscription `{name}` here (known: {})",
                    self.names().join(", ")
                ))
            })?;
        let (tx, rx) = tokio::sync::mpsc::channel(16);
        tokio::spawn(async move {
            let progress_tx = tx.clone();
            let mut on_progress = move |p: crate::Progress| {
                // A full channel only drops a progress message, never the rebuild.
                let _ = progress_tx.try_send(Ok(pb::RebuildSubscriptionResponse {
                    applied_events: i64::try_from(p.applied).unwrap_or(i64::MAX),
                    position: p.position,
                    head_position: p.head,
                    done: false,
                }));
            };
            let outcome = consumer.rebuild(&mut on_progress).await;
            let last = match outcome {
                Ok(p) => {
                    tracing::info!(subscription = %name, applied = p.applied, position = p.position, "rebuild done");
                    Ok(pb::RebuildSubscriptionResponse {
                        applied_events: i64::try_from(p.applied).unwrap_or(i64::MAX),
                        position: p.position,
                        head_position: p.head,
                        done: true,
                    })
                }
                Err(error) => {
                    tracing::error!(subscription = %name, %error, "rebuild failed");
                    Err(status_of(error))
                }
            };
            let _ = tx.send(last).await;
        });
        Ok(Response::new(ReceiverStream::new(rx)))
    }

    async fn get_event_status(
        &self,
        request: Request<pb::GetEventStatusRequest>,
    ) -> Result<Response<pb::GetEventStatusResponse>, Status> {
        let caller = Caller::of(&request)?;
        let allowed = [Role::CountyAdmin, Role::ReadOnlyAnalyst, Role::Service]
            .into_iter()
            .any(|role| caller.has_role(role));
        if !(allowed && caller.sees_everything()) {
            return Err(Status::permission_denied(
                "the event status needs scope `*` and the role county_admin, read_only_analyst or service",
            ));
        }
        let outbox = event_status::outbox_status(&self.pool)
            .await
            .map_err(civicgrid_runtime::status::database)?;
        let mut subscriptions = Vec::with_capacity(self.consumers.len());
        for consumer in self.consumers.values() {
            subscriptions.push(Self::subscription_status(consumer).await?);
        }
        Ok(Response::new(pb::GetEventStatusResponse {
            status: Some(pb::EventStatus {
                service: self.service.clone(),
                outbox_backlog: outbox.backlog,
                oldest_unpublished_time: outbox.oldest_unpublished.map(timestamp),
                head_position: outbox.head_position,
                subscriptions,
            }),
        }))
    }
}
