//! Everything the service logs and every span attribute it records, kept
//! in memory for the personal-data scan: the test binary's global
//! subscriber, installed before the first service starts (the runtime's
//! test telemetry then finds one set and leaves it). It also carries the
//! OpenTelemetry layer, so trace context travels as in every other test.

use std::fmt::Write as _;
use std::io;
use std::sync::{Mutex, OnceLock};

use opentelemetry::trace::TracerProvider as _;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;

fn lines() -> &'static Mutex<Vec<String>> {
    static LINES: OnceLock<Mutex<Vec<String>>> = OnceLock::new();
    LINES.get_or_init(Mutex::default)
}

/// Every captured log line (as the JSON formatter writes it), span
/// attribute and event field so far.
pub fn captured() -> Vec<String> {
    lines().lock().map(|l| l.clone()).unwrap_or_default()
}

/// Installs the capturing subscriber once per process; false when another
/// subscriber was installed first (then nothing is captured).
pub fn install() -> bool {
    static INSTALLED: OnceLock<bool> = OnceLock::new();
    *INSTALLED.get_or_init(|| {
        let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
        let tracer = provider.tracer("civicgrid-membership-test");
        opentelemetry::global::set_tracer_provider(provider);
        opentelemetry::global::set_text_map_propagator(
            opentelemetry_sdk::propagation::TraceContextPropagator::new(),
        );
        // Everything the service's crates say, at every level; the
        // transport crates' chatter below debug carries no request data.
        let filter = tracing_subscriber::EnvFilter::new(
            "trace,h2=debug,hyper=debug,hyper_util=debug,tower=debug,lapin=debug,pinky_swear=info,rustls=info,tokio=info,runtime=info",
        );
        tracing_subscriber::registry()
            .with(filter)
            .with(Fields)
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .with_current_span(true)
                    .with_span_list(true)
                    .with_writer(|| LineWriter(Vec::new())),
            )
            .with(tracing_opentelemetry::layer().with_tracer(tracer))
            .try_init()
            .is_ok()
    })
}

/// Collects one formatted line; stores it when dropped.
struct LineWriter(Vec<u8>);

impl io::Write for LineWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for LineWriter {
    fn drop(&mut self) {
        if let Ok(mut lines) = lines().lock() {
            lines.push(String::from_utf8_lossy(&self.0).into_owned());
        }
    }
}

/// Records span attributes and event fields of every level.
struct Fields;

struct Collect(String);

impl Visit for Collect {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let _ = write!(self.0, " {}={value:?}", field.name());
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        let _ = write!(self.0, " {}={value}", field.name());
    }
}

impl<S: Subscriber> Layer<S> for Fields {
    fn on_new_span(&self, attrs: &Attributes<'_>, _id: &Id, _ctx: Context<'_, S>) {
        let mut collect = Collect(format!("span {}:", attrs.metadata().name()));
        attrs.record(&mut collect);
        if let Ok(mut lines) = lines().lock() {
            lines.push(collect.0);
        }
    }

    fn on_record(&self, _id: &Id, values: &Record<'_>, _ctx: Context<'_, S>) {
        let mut collect = Collect("span record:".to_owned());
        values.record(&mut collect);
        if let Ok(mut lines) = lines().lock() {
            lines.push(collect.0);
        }
    }

    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let mut collect = Collect(format!("event {}:", event.metadata().target()));
        event.record(&mut collect);
        if let Ok(mut lines) = lines().lock() {
            lines.push(collect.0);
        }
    }
}
