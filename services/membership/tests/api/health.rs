//! gRPC health once the database, the broker and the queues are ready.

use std::time::Duration;

use civicgrid_testkit::eventually;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

use crate::spawn_app;

#[tokio::test]
async fn the_service_reports_serving_over_grpc_health_once_ready() {
    let app = spawn_app().await;
    let health = HealthClient::new(app.channel.clone());
    for service in ["", "civicgrid.membership.v1.MembershipService"] {
        eventually(
            Duration::from_secs(10),
            &format!("{service:?} SERVING"),
            || {
                let mut health = health.clone();
                async move {
                    let request = HealthCheckRequest {
                        service: service.to_owned(),
                    };
                    let status = health.check(request).await.ok()?.into_inner().status;
                    (status == ServingStatus::Serving as i32).then_some(())
                }
            },
        )
        .await;
    }
}
