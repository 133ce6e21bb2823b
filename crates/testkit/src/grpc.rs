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
