//! W3C trace context (`traceparent`, `tracestate`) in and out of gRPC
//! metadata, HTTP headers and message header maps, so one trace runs from a
//! gRPC call through the outbox and the broker into every consumer.

use std::collections::HashMap;

use opentelemetry::Context;
use opentelemetry::global;
use opentelemetry::propagation::Extractor;
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// The trace context of the current span as header pairs (empty when there is none).
pub fn current_headers() -> HashMap<String, String> {
    let context = tracing::Span::current().context();
    let mut headers = HashMap::new();
    global::get_text_map_propagator(|propagator| propagator.inject_context(&context, &mut headers));
    headers
}

/// The remote parent context carried in `headers`.
pub fn from_map(headers: &HashMap<String, String>) -> Context {
    global::get_text_map_propagator(|propagator| propagator.extract(headers))
}

/// The remote parent context carried in HTTP (gRPC) request headers.
pub fn from_http(headers: &http::HeaderMap) -> Context {
    global::get_text_map_propagator(|propagator| propagator.extract(&HttpHeaders(headers)))
}

/// Writes the current span's context into outgoing gRPC metadata (clients).
pub fn inject_metadata(metadata: &mut tonic::metadata::MetadataMap) {
    for (key, value) in current_headers() {
        if let (Ok(key), Ok(value)) = (
            tonic::metadata::MetadataKey::from_bytes(key.as_bytes()),
            tonic::metadata::MetadataValue::try_from(value.as_str()),
        ) {
            metadata.insert(key, value);
        }
    }
}

/// Makes `span` a child of the remote context, when there is one.
pub fn set_parent(span: &tracing::Span, parent: Context) {
    // Setting a parent on a span the subscriber does not record is harmless.
    let _ = span.set_parent(parent);
}

/// The trace id of the current span, hex, for logs and tests.
pub fn current_trace_id() -> Option<String> {
    use opentelemetry::trace::TraceContextExt;
    let context = tracing::Span::current().context();
    let span_context = context.span().span_context().clone();
    span_context
        .is_valid()
        .then(|| span_context.trace_id().to_string())
}

struct HttpHeaders<'a>(&'a http::HeaderMap);

impl Extractor for HttpHeaders<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|k| k.as_str()).collect()
    }
}
