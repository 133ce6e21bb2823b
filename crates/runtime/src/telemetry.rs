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
    // lapin warns of every message the broker returns as unroutable; the
    // relay reports those itself (once per routing key, and counted in
    // `outbox_unroutable_total`), so lapin's line per event is only noise,
    // thousands a second when nobody consumes a busy routing key yet.
    let filter =
        EnvFilter::try_new(log_filter)?.add_directive("lapin::returned_messages=error".parse()?);
    tracing_subscriber::registry()
        .with(filter)
        .with(
            tracing_subscriber::fmt::layer()
                .json()
                .with_current_span(true)
                .with_span_list(false),
        )
        .with(tracing_opentelemetry::layer().with_tracer(tracer))
        .try_init()?;
    Ok(TelemetryGuard { provider })
}

/// For tests: the tracer provider and W3C propagator, installed once per
/// process, so trace context really travels; finished spans are kept in
/// memory for [`recorded_spans`] instead of being exported.
pub fn init_for_tests() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        let provider = SdkTracerProvider::builder()
            .with_simple_exporter(SpanRecorder)
            .build();
        let tracer = provider.tracer("civicgrid-test");
        global::set_tracer_provider(provider);
        global::set_text_map_propagator(TraceContextPropagator::new());
        let filter = EnvFilter::try_from_env("TEST_LOG").unwrap_or_else(|_| EnvFilter::new("off"));
        // The filter applies to printing only: spans must still reach the
        // OpenTelemetry layer so trace context propagates.
        let _ignored_if_already_set = tracing_subscriber::registry()
            .with(
                tracing_subscriber::fmt::layer()
                    .with_test_writer()
                    .with_filter(filter),
            )
            .with(tracing_opentelemetry::layer().with_tracer(tracer))
            .try_init();
    });
}

fn tracer_provider(service_name: &str) -> anyhow::Result<SdkTracerProvider> {
    let resource = Resource::builder()
        .with_service_name(format!("civicgrid-{service_name}"))
        .build();
    let mut builder = SdkTracerProvider::builder().with_resource(resource);
    if std::env::var_os("OTEL_EXPORTER_OTLP_ENDPOINT").is_some() {
        // The exporter reads the endpoint and headers from the standard
        // OTEL_EXPORTER_OTLP_* variables itself.
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_tonic()
            .build()?;
        builder = builder.with_batch_exporter(exporter);
    }
    Ok(builder.build())
}

/// A finished span as tests see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedSpan {
    /// Hex trace id.
    pub trace_id: String,
    /// The span's name (`otel.name`).
    pub name: String,
    /// A consumer span's queue (`messaging.destination`, e.g.
    /// `civicgrid.centres.grid-tasks`), which names the service that
    /// consumed: all services of a test share one process.
    pub destination: Option<String>,
}

fn recorded() -> &'static std::sync::Mutex<Vec<RecordedSpan>> {
    static SPANS: OnceLock<std::sync::Mutex<Vec<RecordedSpan>>> = OnceLock::new();
    SPANS.get_or_init(Default::default)
}

/// Every span finished in this test process with trace id `trace_id`.
pub fn recorded_spans(trace_id: &str) -> Vec<RecordedSpan> {
    recorded()
        .lock()
        .map(|spans| {
            spans
                .iter()
                .filter(|s| s.trace_id == trace_id)
                .cloned()
                .collect()
        })
        .unwrap_or_default()
}

/// Keeps finished spans in memory (tests only).
#[derive(Debug)]
struct SpanRecorder;

impl opentelemetry_sdk::trace::SpanExporter for SpanRecorder {
    fn export(
        &self,
        batch: Vec<opentelemetry_sdk::trace::SpanData>,
    ) -> impl std::future::Future<Output = opentelemetry_sdk::error::OTelSdkResult> + Send {
        if let Ok(mut spans) = recorded().lock() {
            spans.extend(batch.into_iter().map(|span| {
                RecordedSpan {
                    trace_id: span.span_context.trace_id().to_string(),
                    destination: span
                        .attributes
                        .iter()
                        .find(|kv| kv.key.as_str() == "messaging.destination")
                        .map(|kv| kv.value.as_str().into_owned()),
                    name: span.name.into_owned(),
                }
            }));
        }
        std::future::ready(Ok(()))
    }
}
