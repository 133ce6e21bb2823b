//! `civicgrid`: the operator's command line.

mod county;
mod demo;
mod demo_assessment;
mod demo_centres;
mod demo_membership;
mod demo_tasks;
mod dlq;
mod endpoints;
mod replay;
mod scores;
mod status;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use civicgrid_runtime::auth::{Claims, Role, Signer, generate_key_pair};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "civicgrid", about = "Operate a civicgrid deployment", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create the Ed25519 key pair that signs (private) and verifies (public)
    /// tokens, and the data key that seals personal data, unless they exist.
    Keygen {
        /// Directory for auth_private.pem and auth_public.pem.
        #[arg(long, default_value = ".state/keys")]
        dir: PathBuf,
    },
    /// Mint a bearer token.
    Token {
        /// Role; repeat for several: county_admin, street_admin, community_staff, grid_worker,
        /// department_operator, command_centre, integration_client, read_only_analyst,
        /// service (another service's identity, e.g. for reading event logs).
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
        /// What the caller may see: `*` (the whole county) or resource names such as `cells/st01`; repeatable.
        #[arg(long = "scope", required = true)]
        scopes: Vec<String>,
        /// The caller's identity.
        #[arg(long, default_value = "operator")]
        subject: String,
        /// The department, for department operators.
        #[arg(long)]
        department: Option<String>,
        /// Hours until the token expires.
        #[arg(long, default_value_t = 12)]
        ttl_hours: i64,
        /// The private key.
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
    /// Ask a service's grpc.health.v1 endpoint; exit 0 only when SERVING.
    Health {
        /// e.g. http://127.0.0.1:50052
        #[arg(long)]
        addr: String,
        /// A service name, or empty for the whole server.
        #[arg(long, default_value = "")]
        service: String,
    },
    /// Every service's health, outbox backlog, queued messages, consumers,
    /// dead letters and checkpoints in one table; exits 1 when a service
    /// is down, not serving, or has a subscription without a consumer or
    /// broker.
    Status(status::Args),
    /// Rebuild a service's read model from its producers' event logs: the
    /// subscription's tables, checkpoint and inbox rows are emptied, then
    /// every event is applied again from position 0 (the live queue waits
    /// meanwhile). Shows a progress bar and the final count.
    Replay(replay::Args),
    /// Export published score cards and rankings of assessment as CSV.
    Scores(scores::Args),
    /// Load the demo county's grid and directory (departments, categories,
    /// deadline policies, working calendars) through the grid API (idempotent).
    Demo {
        /// The grid service.
        #[arg(long, default_value = "http://127.0.0.1:50052")]
        grid: String,
        /// The private key to mint the loader's token with.
        #[arg(
            long,
            env = "CIVICGRID_SIGNING_KEY_PATH",
            default_value = ".state/keys/auth_private.pem"
        )]
        key: PathBuf,
    },
    /// Generate a county from a seed at a scale (`demo`, `large`) and load
    /// it through the services' APIs, resumably.
    County {
        #[command(subcommand)]
        command: county::CountyCommand,
    },
    /// Inspect a queue's dead letters (`<queue>.dlq`) and replay or discard them.
    Dlq {
        /// The broker.
        #[arg(
            long,
            env = "CIVICGRID_AMQP_URL",
            default_value = "amqp://guest:guest@127.0.0.1:5672/%2f",
            global = true,
            hide_env_values = true
        )]
        amqp_url: String,
        #[command(subcommand)]
        command: dlq::DlqCommand,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("civicgrid: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command)) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("civicgrid: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Keygen { dir } => keygen(&dir),
        Command::Token {
            roles,
            scopes,
            subject,
            department,
            ttl_hours,
            key,
            issuer,
        } => {
            let roles = roles
                .iter()
                .map(|name| Role::parse(name).with_context(|| format!("unknown role `{name}`")))
                .collect::<anyhow::Result<Vec<_>>>()?;
            let signer = signer(&key)?;
            let now = chrono::Utc::now().timestamp();
            let claims = Claims {
                sub: subject,
                iss: issuer,
                iat: now,
                exp: now + ttl_hours * 3600,
                roles,
                scope: scopes,
                department,
            };
            println!("{}", signer.mint(&claims)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Health { addr, service } => health(&addr, &service).await,
        Command::Replay(args) => replay::run(args).await,
        Command::Status(args) => status::run(args).await,
        Command::Scores(args) => scores::run(args).await,
        Command::Demo { grid, key } => {
            let signer = signer(&key)?;
            let mint = |role: Role, department: Option<&str>| -> anyhow::Result<String> {
                let now = chrono::Utc::now().timestamp();
                let claims = Claims {
                    sub: format!("demo-{}", role.as_str()),
                    iss: "civicgrid".to_owned(),
                    iat: now,
                    exp: now + 3600,
                    roles: vec![role],
                    scope: vec!["*".to_owned()],
                    department: department.map(str::to_owned),
                };
                Ok(signer.mint(&claims)?)
            };
            demo::load(&grid, &mint(Role::CountyAdmin, None)?).await?;
            demo_tasks::load(&grid, &mint).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Dlq { amqp_url, command } => dlq::run(&amqp_url, command).await,
        Command::County { command } => county::run(command).await,
    }
}

pub(crate) fn signer(key: &Path) -> anyhow::Result<Signer> {
    let pem = std::fs::read(key).with_context(|| {
        format!(
            "cannot read the signing key {} (run `civicgrid keygen`)",
            key.display()
        )
    })?;
    Ok(Signer::from_pem(&pem)?)
}

fn keygen(dir: &Path) -> anyhow::Result<ExitCode> {
    std::fs::create_dir_all(dir)?;
    // One data key per service that seals personal data (the grid's
    // contacts, membership's members), so one leaked key opens one service's data.
    for name in ["data.key", "membership-data.key"] {
        let data_key = dir.join(name);
        if !data_key.exists() {
            std::fs::write(
                &data_key,
                civicgrid_runtime::crypto::DataKey::generate_base64(),
            )?;
            restrict_to_owner(&data_key)?;
            println!("wrote {}", data_key.display());
        }
    }
    let private = dir.join("auth_private.pem");
    let public = dir.join("auth_public.pem");
    if private.exists() && public.exists() {
        println!("keys already exist in {}", dir.display());
        return Ok(ExitCode::SUCCESS);
    }
    std::fs::create_dir_all(dir)?;
    let (private_pem, public_pem) = generate_key_pair()?;
    std::fs::write(&private, private_pem)?;
    restrict_to_owner(&private)?;
    std::fs::write(&public, public_pem)?;
    println!("wrote {} and {}", private.display(), public.display());
    Ok(ExitCode::SUCCESS)
}

fn restrict_to_owner(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
}

async fn health(addr: &str, service: &str) -> anyhow::Result<ExitCode> {
    use tonic_health::pb::health_client::HealthClient;
    use tonic_health::pb::{HealthCheckRequest, health_check_response::ServingStatus};
    let channel = tonic::transport::Endpoint::from_shared(addr.to_owned())?
        .connect_timeout(std::time::Duration::from_secs(2))
        .timeout(std::time::Duration::from_secs(3))
        .connect()
        .await
        .with_context(|| format!("cannot reach {addr}"))?;
    let response = HealthClient::new(channel)
        .check(HealthCheckRequest {
            service: service.to_owned(),
        })
        .await?;
    let status =
        ServingStatus::try_from(response.into_inner().status).unwrap_or(ServingStatus::Unknown);
    println!("{addr}: {}", status.as_str_name());
    Ok(if status == ServingStatus::Serving {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
