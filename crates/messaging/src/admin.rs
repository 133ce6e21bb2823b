//! `civicgrid.events.v1.SubscriptionAdminService`: rebuilding a catch-up
//! subscription's read model from its producer's log, for operators.

use std::collections::HashMap;
use std::sync::Arc;

use civicgrid_proto::events::v1 as pb;
use civicgrid_proto::events::v1::subscription_admin_service_server::SubscriptionAdminService;
use civicgrid_runtime::auth::{Caller, Role};
use civicgrid_runtime::status::FieldViolations;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};

use crate::catch_up::CatchUpError;
use crate::consumer::Consumer;

/// The rebuild RPC over a service's catch-up consumers, by subscription name.
#[derive(Clone)]
pub struct SubscriptionAdminApi {
    consumers: Arc<HashMap<String, Arc<Consumer>>>,
}

impl SubscriptionAdminApi {
    /// Serves `consumers` (those that are not catch-up subscriptions are left out).
    pub fn new(consumers: Vec<Consumer>) -> SubscriptionAdminApi {
        let consumers = consumers
            .into_iter()
            .filter(|c| c.subscription().catch_up_spec().is_some())
            .map(|c| (c.subscription().name().to_owned(), Arc::new(c)))
            .collect();
        SubscriptionAdminApi {
            consumers: Arc::new(consumers),
        }
    }

    /// The subscriptions it can rebuild, sorted.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.consumers.keys().cloned().collect();
        names.sort();
        names
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
        let consumer = self.consumers.get(&name).cloned().ok_or_else(|| {
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
}
