//! Where the services are and how the operator's commands talk to them.

use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use civicgrid_runtime::auth::{Claims, Role};
use tonic::transport::Channel;

/// The services and the gRPC ports `make up` gives them (infra/services.tsv).
pub const SERVICES: [(&str, u16); 4] = [
    ("membership", 50051),
    ("grid", 50052),
    ("centres", 50053),
    ("assessment", 50054),
];

/// `service`'s local address, or an error listing the known services.
pub fn default_addr(service: &str) -> anyhow::Result<String> {
    SERVICES
        .iter()
        .find(|(name, _)| *name == service)
        .map(|(_, port)| format!("http://127.0.0.1:{port}"))
        .with_context(|| {
            format!(
                "unknown service `{service}` (expected one of membership, grid, centres, assessment; or pass its address)"
            )
        })
}

/// A channel to `service` at `addr`; the error names both. `timeout` bounds
/// the connect only (a rebuild stream may run for minutes).
pub async fn connect(service: &str, addr: &str, timeout: Duration) -> anyhow::Result<Channel> {
    tonic::transport::Endpoint::from_shared(addr.to_owned())
        .with_context(|| format!("`{addr}` is not a valid address for {service} (expected e.g. http://127.0.0.1:50052)"))?
        .connect_timeout(timeout)
        .connect()
        .await
        .with_context(|| format!("cannot reach {service} at {addr}"))
}

/// A short-lived token for `subject` with `role` over the whole county,
/// signed with the operator's key.
pub fn operator_token(
    key: &Path,
    issuer: &str,
    subject: &str,
    role: Role,
) -> anyhow::Result<String> {
    let signer = crate::signer(key)?;
    let now = chrono::Utc::now().timestamp();
    Ok(signer.mint(&Claims {
        sub: subject.to_owned(),
        iss: issuer.to_owned(),
        iat: now,
        exp: now + 12 * 3600,
        roles: vec![role],
        scope: vec!["*".to_owned()],
        department: None,
    })?)
}

/// `request` with the bearer `token`.
pub fn authorised<T>(message: T, token: &str) -> anyhow::Result<tonic::Request<T>> {
    let mut request = tonic::Request::new(message);
    request
        .metadata_mut()
        .insert("authorization", format!("Bearer {token}").parse()?);
    Ok(request)
}
