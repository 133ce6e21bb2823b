//! The demo county's indicator scheme, loaded into assessment through its
//! API from the scheme file the service ships
//! (services/assessment/schemes/demo-county.json) and published, so that
//! PublishScores can score the demo streets, communities and departments.
//! Re-running it finds version 1 published and changes nothing.

use civicgrid_proto::assessment::v1 as pb;
use civicgrid_proto::assessment::v1::assessment_service_client::AssessmentServiceClient;
use tonic::Code;

use crate::demo::authorized;

const SCHEME_FILE: &str = include_str!("../../../services/assessment/schemes/demo-county.json");
const SCHEME: &str = "schemes/demo-county";

/// Where assessment listens: `CIVICGRID_ASSESSMENT_ADDR`, else the local
/// stack's `ASSESSMENT_PORT`, else its default port.
fn address() -> String {
    if let Ok(addr) = std::env::var("CIVICGRID_ASSESSMENT_ADDR") {
        return addr;
    }
    let port = std::env::var("ASSESSMENT_PORT").unwrap_or_else(|_| "50054".to_owned());
    format!("http://127.0.0.1:{port}")
}

/// Creates and publishes version 1 of the demo scheme unless it is there.
pub async fn load(token: &str) -> anyhow::Result<()> {
    let addr = address();
    let mut client = AssessmentServiceClient::connect(addr.clone())
        .await
        .map_err(|e| anyhow::anyhow!("cannot reach assessment at {addr}: {e}"))?;
    let first = format!("{SCHEME}/versions/1");
    let existing = client
        .get_scheme_version(authorized(
            pb::GetSchemeVersionRequest {
                name: first.clone(),
            },
            token,
        )?)
        .await;
    let version = match existing {
        Ok(found) => found.into_inner().scheme_version.unwrap_or_default(),
        Err(status) if status.code() == Code::NotFound => client
            .create_scheme_version(authorized(
                pb::CreateSchemeVersionRequest {
                    parent: SCHEME.to_owned(),
                    scheme_file: SCHEME_FILE.to_owned(),
                    ..Default::default()
                },
                token,
            )?)
            .await
            .map_err(|s| anyhow::anyhow!("creating the demo scheme failed: {s}"))?
            .into_inner()
            .scheme_version
            .unwrap_or_default(),
        Err(status) => return Err(anyhow::anyhow!("reading the demo scheme failed: {status}")),
    };
    if version.state == pb::SchemeVersionState::Published as i32 {
        println!("demo scheme `{}` already published", version.name);
        return Ok(());
    }
    client
        .publish_scheme_version(authorized(
            pb::PublishSchemeVersionRequest {
                name: version.name.clone(),
            },
            token,
        )?)
        .await
        .map_err(|s| anyhow::anyhow!("publishing the demo scheme failed: {s}"))?;
    println!(
        "demo scheme `{}` published: {} indicators",
        version.name,
        version.indicators.len()
    );
    Ok(())
}
