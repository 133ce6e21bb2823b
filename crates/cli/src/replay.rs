//! `civicgrid replay <service> --subscription <name>`: rebuild a read model
//! through the service's `SubscriptionAdminService.RebuildSubscription`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use civicgrid_proto::events::v1::RebuildSubscriptionRequest;
use civicgrid_proto::events::v1::subscription_admin_service_client::SubscriptionAdminServiceClient;
use civicgrid_runtime::auth::{Claims, Role};
use indicatif::{ProgressBar, ProgressStyle};

/// The services and the gRPC ports `make up` gives them.
const SERVICES: [(&str, u16); 4] = [
    ("membership", 50051),
    ("grid", 50052),
    ("centres", 50053),
    ("assessment", 50054),
];

#[derive(clap::Args)]
pub struct Args {
    /// The service whose read model to rebuild: membership, centres, assessment (or grid).
    service: String,
    /// The catch-up subscription, e.g. `grid-cells` (the service's NOT_FOUND
    /// answer lists the ones it has).
    #[arg(long)]
    subscription: String,
    /// The service's gRPC address; default: its local port (membership
    /// 50051, grid 50052, centres 50053, assessment 50054).
    #[arg(long)]
    addr: Option<String>,
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
    /// No progress bar, only the final line (for scripts and logs).
    #[arg(long)]
    quiet: bool,
}

pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    let addr = match &args.addr {
        Some(addr) => addr.clone(),
        None => {
            let port = SERVICES
                .iter()
                .find(|(name, _)| *name == args.service)
                .map(|(_, port)| *port)
                .with_context(|| {
                    format!(
                        "unknown service `{}` (membership, grid, centres, assessment; or pass --addr)",
                        args.service
                    )
                })?;
            format!("http://127.0.0.1:{port}")
        }
    };
    let signer = crate::signer(&args.key)?;
    let now = chrono::Utc::now().timestamp();
    let token = signer.mint(&Claims {
        sub: "operator-replay".to_owned(),
        iss: args.issuer.clone(),
        iat: now,
        exp: now + 12 * 3600,
        roles: vec![Role::CountyAdmin],
        scope: vec!["*".to_owned()],
        department: None,
    })?;
    let channel = tonic::transport::Endpoint::from_shared(addr.clone())?
        .connect_timeout(Duration::from_secs(5))
        .connect()
        .await
        .with_context(|| format!("cannot reach {} at {addr}", args.service))?;
    let mut request = tonic::Request::new(RebuildSubscriptionRequest {
        subscription: args.subscription.clone(),
    });
    request
        .metadata_mut()
        .insert("authorization", format!("Bearer {token}").parse()?);
    let mut stream = SubscriptionAdminServiceClient::new(channel)
        .rebuild_subscription(request)
        .await
        .map_err(|status| anyhow::anyhow!("{}: {}", status.code(), status.message()))?
        .into_inner();

    let bar = if args.quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(0)
    };
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} {msg} [{bar:40}] position {pos}/{len} ({per_sec}, {eta})",
        )?
        .progress_chars("=> "),
    );
    bar.set_message(format!("rebuilding {}/{}", args.service, args.subscription));
    let mut last = None;
    loop {
        let message = stream
            .message()
            .await
            .map_err(|status| anyhow::anyhow!("{}: {}", status.code(), status.message()))?;
        let Some(progress) = message else { break };
        bar.set_length(u64::try_from(progress.head_position).unwrap_or(0));
        bar.set_position(u64::try_from(progress.position).unwrap_or(0));
        let done = progress.done;
        last = Some(progress);
        if done {
            break;
        }
    }
    bar.finish_and_clear();
    match last {
        Some(progress) if progress.done => {
            println!(
                "rebuilt {}/{}: {} events applied, up to position {}",
                args.service, args.subscription, progress.applied_events, progress.position
            );
            Ok(ExitCode::SUCCESS)
        }
        _ => anyhow::bail!("the rebuild stream ended before the rebuild was done"),
    }
}
