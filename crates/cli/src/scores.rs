//! `civicgrid scores export`: a published ranking's score cards as CSV
//! (UTF-8 with BOM, for the joint conference's spreadsheets), through
//! assessment's ExportRanking.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use civicgrid_proto::assessment::v1 as pb;
use civicgrid_proto::assessment::v1::assessment_service_client::AssessmentServiceClient;
use civicgrid_runtime::auth::{Claims, Role};

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: ScoresCommand,
}

#[derive(clap::Subcommand)]
enum ScoresCommand {
    /// Write a ranking (e.g. `schemes/demo-county/rankings/street/2026-11`)
    /// as CSV.
    Export {
        /// The ranking's resource name.
        ranking: String,
        /// Where to write it; default: the name the service suggests, in
        /// the current directory.
        #[arg(long)]
        out: Option<PathBuf>,
        /// assessment's gRPC address.
        #[arg(long, default_value = "http://127.0.0.1:50054")]
        addr: String,
        /// The private key to mint the operator's county_admin token with.
        #[arg(
            long,
            env = "CIVICGRID_SIGNING_KEY_PATH",
            default_value = ".state/keys/auth_private.pem"
        )]
        key: PathBuf,
        /// Issuer; must match the services' `auth_issuer`.
        #[arg(long, default_value = "civicgrid")]
        issuer: String,
    },
}

pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    let ScoresCommand::Export {
        ranking,
        out,
        addr,
        key,
        issuer,
    } = args.command;
    let now = chrono::Utc::now().timestamp();
    let token = crate::signer(&key)?.mint(&Claims {
        sub: "operator-scores-export".to_owned(),
        iss: issuer,
        iat: now,
        exp: now + 3600,
        roles: vec![Role::CountyAdmin],
        scope: vec!["*".to_owned()],
        department: None,
    })?;
    let channel = tonic::transport::Endpoint::from_shared(addr.clone())?
        .connect_timeout(Duration::from_secs(5))
        .connect()
        .await
        .with_context(|| format!("cannot reach assessment at {addr}"))?;
    let exported = AssessmentServiceClient::new(channel)
        .export_ranking(crate::demo::authorized(
            pb::ExportRankingRequest { name: ranking },
            &token,
        )?)
        .await
        .map_err(|status| anyhow::anyhow!("{}: {}", status.code(), status.message()))?
        .into_inner();
    let path = out.unwrap_or_else(|| PathBuf::from(&exported.filename));
    std::fs::write(&path, &exported.csv)
        .with_context(|| format!("cannot write {}", path.display()))?;
    println!("wrote {} ({} bytes)", path.display(), exported.csv.len());
    Ok(ExitCode::SUCCESS)
}
