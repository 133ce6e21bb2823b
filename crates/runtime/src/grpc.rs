//! The gRPC server every service runs: its own routes plus grpc.health.v1
//! and reflection (v1 and v1alpha: grpcurl 1.8 only speaks v1alpha), behind
//! one layer stack (trace context and metrics, request timeout, concurrency
//! limit), with bounded graceful shutdown.

use std::net::SocketAddr;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tonic::service::Routes;
use tonic::transport::server::TcpIncoming;
use tonic_health::server::HealthReporter;
use tower::{Layer, Service, ServiceBuilder};
use tracing::Instrument;

use crate::config::Settings;

/// The largest message a service accepts or sends. Explicit, because an
/// unlimited encoder lets one bad list answer exhaust memory.
pub const MAX_MESSAGE_BYTES: usize = 4 * 1024 * 1024;

/// Binds the configured gRPC address; port 0 picks a free port.
pub async fn bind(addr: SocketAddr) -> anyhow::Result<(TcpListener, SocketAddr)> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on grpc_addr {addr}: {e}"))?;
    let local = listener.local_addr()?;
    Ok((listener, local))
}

/// Health service and the reporter that flips its status.
pub fn health() -> (
    HealthReporter,
    tonic_health::pb::health_server::HealthServer<impl tonic_health::pb::health_server::Health>,
) {
    tonic_health::server::health_reporter()
}

pub use tonic_health::ServingStatus;

/// What one process serves over gRPC.
pub struct Endpoints<'a, H> {
    /// The service's own routes (already wrapped in authentication).
    pub routes: Routes,
    /// The grpc.health.v1 service.
    pub health: tonic_health::pb::health_server::HealthServer<H>,
    /// The handle that flips health statuses.
    pub reporter: HealthReporter,
    /// Full names of the service's own gRPC services.
    pub service_names: &'a [&'static str],
    /// Descriptor sets reflection serves.
    pub descriptor_sets: &'a [&'static [u8]],
}

/// Serves the endpoints plus reflection on `listener` until `shutdown` is
/// cancelled, then reports NOT_SERVING, stops accepting and waits up to
/// `shutdown_grace` for in-flight calls.
pub async fn serve<H: tonic_health::pb::health_server::Health>(
    settings: &Settings,
    listener: TcpListener,
    endpoints: Endpoints<'_, H>,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let Endpoints {
        routes,
        health,
        reporter,
        service_names,
        descriptor_sets,
    } = endpoints;
    let mut reflection_v1 = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET);
    let mut reflection_v1alpha = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET);
    for set in descriptor_sets {
        reflection_v1 = reflection_v1.register_encoded_file_descriptor_set(set);
        reflection_v1alpha = reflection_v1alpha.register_encoded_file_descriptor_set(set);
    }
    // Advertise only what this process serves, not every contract in the set.
    for name in service_names.iter().chain(&["grpc.health.v1.Health"]) {
        reflection_v1 = reflection_v1.with_service_name(*name);
        reflection_v1alpha = reflection_v1alpha.with_service_name(*name);
    }
    let routes = routes
        .add_service(health)
        .add_service(reflection_v1.build_v1()?)
        .add_service(reflection_v1alpha.build_v1alpha()?);

    let layers = ServiceBuilder::new()
        .layer(RpcObserveLayer)
        .layer(tower::limit::GlobalConcurrencyLimitLayer::new(
            settings.concurrency_limit,
        ))
        .into_inner();

    let stop = CancellationToken::new();
    let server = tonic::transport::Server::builder()
        .timeout(settings.request_timeout())
        .http2_keepalive_interval(Some(Duration::from_secs(30)))
        .layer(layers)
        .add_routes(routes)
        .serve_with_incoming_shutdown(
            // Replies go out at once: with Nagle's algorithm on, a reply
            // written while another stream's reply on the same connection
            // is unacknowledged waits for the peer's delayed ACK (up to
            // 40 ms). `Server::tcp_nodelay` does not reach a listener we
            // bound ourselves, so the incoming stream sets it.
            TcpIncoming::from(listener)
                .with_nodelay(Some(true))
                .with_keepalive(Some(Duration::from_secs(60))),
            stop.clone().cancelled_owned(),
        );
    let mut server = tokio::spawn(server);

    tokio::select! {
        finished = &mut server => return Ok(finished??),
        () = shutdown.cancelled() => {}
    }
    // Load balancers stop routing here before the listener closes.
    reporter
        .set_service_status("", tonic_health::ServingStatus::NotServing)
        .await;
    for name in service_names {
        reporter
            .set_service_status(*name, tonic_health::ServingStatus::NotServing)
            .await;
    }
    stop.cancel();
    match tokio::time::timeout(settings.shutdown_grace(), &mut server).await {
        Ok(finished) => Ok(finished??),
        Err(_) => {
            tracing::warn!(
                grace_ms = settings.shutdown_grace_ms,
                "in-flight calls did not finish in time; closing them"
            );
            server.abort();
            Ok(())
        }
    }
}

/// Per-RPC span (child of the caller's W3C trace context) and metrics.
#[derive(Clone, Copy, Debug, Default)]
pub struct RpcObserveLayer;

impl<S> Layer<S> for RpcObserveLayer {
    type Service = RpcObserve<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RpcObserve { inner }
    }
}

/// See [`RpcObserveLayer`].
#[derive(Clone, Debug)]
pub struct RpcObserve<S> {
    inner: S,
}

impl<S, B, RB> Service<http::Request<B>> for RpcObserve<S>
where
    S: Service<http::Request<B>, Response = http::Response<RB>> + Send,
    S::Future: Send + 'static,
    S::Error: std::fmt::Display,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<S::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let method = request.uri().path().to_owned();
        let span = tracing::info_span!(
            "grpc.server",
            otel.name = %method,
            otel.kind = "server",
            rpc.system = "grpc",
            rpc.method = %method,
            rpc.grpc.status_code = tracing::field::Empty,
        );
        crate::trace_context::set_parent(&span, crate::trace_context::from_http(request.headers()));
        let started = Instant::now();
        let future = {
            let _entered = span.enter();
            self.inner.call(request)
        };
        let record_span = span.clone();
        Box::pin(
            async move {
                let result = future.await;
                // Errors are trailers-only responses, so the status is in the
                // headers; a success carries it in trailers: no header means OK.
                let code = match &result {
                    Ok(response) => response
                        .headers()
                        .get("grpc-status")
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.parse::<i32>().ok())
                        .unwrap_or(0),
                    Err(_) => tonic::Code::Internal as i32,
                };
                let code_name = format!("{:?}", tonic::Code::from_i32(code));
                record_span.record("rpc.grpc.status_code", code);
                let method = method_label(method, code);
                metrics::counter!("grpc_server_requests_total", "method" => method.clone(), "code" => code_name).increment(1);
                metrics::histogram!("grpc_server_request_duration_seconds", "method" => method)
                    .record(started.elapsed().as_secs_f64());
                result
            }
            .instrument(span),
        )
    }
}

/// The `method` label of a call's metrics. A path the server does not serve
/// (UNIMPLEMENTED) is labelled `unknown`: any client can send any path, and
/// one time series per made-up path would grow the metrics without bound.
fn method_label(path: String, code: i32) -> String {
    if code == tonic::Code::Unimplemented as i32 {
        "unknown".to_owned()
    } else {
        path
    }
}

#[cfg(test)]
mod tests {
    use super::method_label;

    #[test]
    fn made_up_paths_share_one_metrics_label() {
        let served = "/civicgrid.grid.v1.TaskService/ReportTask".to_owned();
        assert_eq!(method_label(served.clone(), 0), served);
        assert_eq!(method_label(served.clone(), 5), served);
        for path in ["/x.Y/Z", "/civicgrid.grid.v1.TaskService/Nope", "/"] {
            assert_eq!(method_label(path.to_owned(), 12), "unknown");
        }
    }
}
