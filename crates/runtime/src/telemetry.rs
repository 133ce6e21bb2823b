//! Logs and traces. Logs are JSON lines on stdout. A tracer provider is
//! always installed so that every request has a trace id that logs and
//! messages carry; spans leave the process (OTLP over gRPC) only when
//! `OTEL_EXPORTER_OTLP_ENDPOINT` is set, which keeps tests and laptops quiet.

use std::sync::OnceLock;

use opentelemetry::global;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::Layer;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Flushes buffered spans when dropped at the end of `main`.
pub struct TelemetryGuard {
    provider: SdkTracerProvider,
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        if let Err(error) = self.provider.shutdown() {
            eprintln!("telemetry: flushing spans failed: {error}");
        }
    }
}

/// Installs JSON logging filtered by `log_filter` and the tracer provider.
/// Must run inside the tokio runtime (the OTLP exporter spawns on it).
pub fn init(service_name: &str, log_filter: &str) -> anyhow::Result<TelemetryGuard> {
    let provider = tracer_provider(service_name)?;
    let tracer = provider.tracer(service_name.to_owned());
    global::set_tracer_provider(provider.clone());
    global::set_text_map_propagator(TraceContextPropagator::new());
    tracing_subscriber::registry()
        .with(EnvFilter::try_new(log_filter)?)
        .with(tracing_subscriber::fmt::layer().json().with_current_span(true).with_span_list(false))
        .with(tracing_opentelemetry::layer().with_tracer(tracer))
        .try_init()?;
    Ok(TelemetryGuard { provider })
}

/// For tests: the tracer provider and W3C propagator without exporting or
/// printing, installed once per process, so trace context really travels.
pub fn init_for_tests() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        let provider = SdkTracerProvider::builder().build();
        let tracer = provider.tracer("civicgrid-test");
        global::set_tracer_provider(provider);
        global::set_text_map_propagator(TraceContextPropagator::new());
        let filter = EnvFilter::try_from_env("TEST_LOG").unwrap_or_else(|_| EnvFilter::new("off"));
        // The filter applies to printing only: spans must still reach the
        // OpenTelemetry layer so trace context propagates.
        let _ignored_if_already_set = tracing_subscriber::registry()
            .with(tracing_subscriber::fmt::layer().with_test_writer().with_filter(filter))
            .with(tracing_opentelemetry::layer().with_tracer(tracer))
            .try_init();
    });
}

fn tracer_provider(service_name: &str) -> anyhow::Result<SdkTracerProvider> {
    let resource = Resource::builder().with_service_name(format!("civicgrid-{service_name}")).build();
    let mut builder = SdkTracerProvider::builder().with_resource(resource);
    if std::env::var_os("OTEL_EXPORTER_OTLP_ENDPOINT").is_some() {
        // The exporter reads the endpoint and headers from the standard
        // OTEL_EXPORTER_OTLP_* variables itself.
        let exporter = opentelemetry_otlp::SpanExporter::builder().with_tonic().build()?;
        builder = builder.with_batch_exporter(exporter);
    }
    Ok(builder.build())
}
