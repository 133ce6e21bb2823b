//! Readiness: a service reports SERVING only while every dependency it needs
//! (its database, the broker) answers, and NOT_SERVING otherwise.

use std::time::Duration;

use futures::future::BoxFuture;
use tokio_util::sync::CancellationToken;
use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;

/// One dependency check: `Ok` when reachable, `Err(reason)` when not.
pub trait Probe: Send + Sync {
    /// The dependency's name, for logs.
    fn name(&self) -> &'static str;
    /// Checks the dependency once.
    fn check(&self) -> BoxFuture<'_, Result<(), String>>;
}

/// A probe that runs `SELECT 1` on the pool.
pub struct DatabaseProbe(pub sqlx::PgPool);

impl Probe for DatabaseProbe {
    fn name(&self) -> &'static str {
        "database"
    }

    fn check(&self) -> BoxFuture<'_, Result<(), String>> {
        Box::pin(async move {
            sqlx::query("SELECT 1")
                .execute(&self.0)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
        })
    }
}

/// Checks every probe each `interval` and sets the overall status ("") and
/// each of `service_names` accordingly, until `shutdown`.
pub async fn report_readiness(
    reporter: HealthReporter,
    service_names: Vec<&'static str>,
    probes: Vec<Box<dyn Probe>>,
    interval: Duration,
    shutdown: CancellationToken,
) {
    let mut last: Option<ServingStatus> = None;
    loop {
        let mut failures = Vec::new();
        for probe in &probes {
            let outcome =
                tokio::time::timeout(interval.max(Duration::from_secs(1)), probe.check()).await;
            match outcome {
                Ok(Ok(())) => {}
                Ok(Err(reason)) => failures.push(format!("{}: {reason}", probe.name())),
                Err(_) => failures.push(format!("{}: timed out", probe.name())),
            }
        }
        let status = if failures.is_empty() {
            ServingStatus::Serving
        } else {
            ServingStatus::NotServing
        };
        if last != Some(status) {
            if failures.is_empty() {
                tracing::info!("all dependencies reachable: SERVING");
            } else {
                tracing::warn!(failures = ?failures, "dependency unreachable: NOT_SERVING");
            }
            if shutdown.is_cancelled() {
                return;
            }
            reporter.set_service_status("", status).await;
            for name in &service_names {
                reporter.set_service_status(*name, status).await;
            }
            last = Some(status);
        }
        if !crate::shutdown::pause(interval, &shutdown).await {
            return;
        }
    }
}
