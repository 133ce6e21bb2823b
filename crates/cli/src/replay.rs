//! `civicgrid replay <service> --subscription <name>`: rebuild a read model
//! through the service's `SubscriptionAdminService.RebuildSubscription`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use civicgrid_proto::events::v1::RebuildSubscriptionRequest;
use civicgrid_proto::events::v1::subscription_admin_service_client::SubscriptionAdminServiceClient;
use civicgrid_runtime::auth::Role;
use indicatif::{ProgressBar, ProgressStyle};

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
        None => crate::endpoints::default_addr(&args.service)?,
    };
    let token = crate::endpoints::operator_token(
        &args.key,
        &args.issuer,
        "operator-replay",
        Role::CountyAdmin,
    )?;
    let channel = crate::endpoints::connect(&args.service, &addr, Duration::from_secs(5)).await?;
    let request = crate::endpoints::authorised(
        RebuildSubscriptionRequest {
            subscription: args.subscription.clone(),
        },
        &token,
    )?;
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
