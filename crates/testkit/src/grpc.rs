//! gRPC helpers for tests.

use tonic::Request;

/// `message` as a request carrying `token` as its bearer token.
pub fn with_token<T>(message: T, token: &str) -> Request<T> {
    let mut request = Request::new(message);
    let value = format!("Bearer {token}").parse().expect("a token is ASCII");
    request.metadata_mut().insert("authorization", value);
    request
}

/// `http://{addr}` for a tonic client.
pub fn endpoint(addr: std::net::SocketAddr) -> String {
    format!("http://{addr}")
}

/// The fields an INVALID_ARGUMENT status names, in order; panics (failing
/// the test) on any other status.
pub fn invalid_fields(status: tonic::Status) -> Vec<String> {
    assert_eq!(status.code(), tonic::Code::InvalidArgument);
    civicgrid_runtime::status::field_violations(&status)
        .into_iter()
        .map(|(field, _)| field)
        .collect()
}
