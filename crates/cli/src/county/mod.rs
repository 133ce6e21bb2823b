//! `civicgrid county generate|load`: a county generated from a seed at a
//! chosen scale and loaded through the services' public APIs.

mod centres;
mod drain;
mod load;
mod party;
mod ratings;
mod reports;
pub use civicgrid_cli::county::plan;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use civicgrid_runtime::auth::Role;
use indicatif::{MultiProgress, ProgressDrawTarget};

use self::load::{Count, Loader};
use self::plan::Scale;

#[derive(clap::Subcommand)]
pub enum CountyCommand {
    /// Print what a scale and seed plan (the counts per kind), loading nothing.
    Generate(Plan),
    /// Load the planned county: the directory, cells level by level,
    /// compounds, months of tasks with their histories (through
    /// TaskService.ImportTasks), the party organisations and members
    /// (through membership's ImportMembers) with the work units' and the
    /// in-service members' dual reporting, centres of every category
    /// with their activities, registrations and check-ins by the members
    /// (centres), and the communities' ratings of the departments on
    /// resolved tasks (assessment). Interrupted and rerun, it completes
    /// without duplicates: every object's id or request id comes from the
    /// seed.
    Load(LoadArgs),
}

#[derive(clap::Args, Clone)]
pub struct Plan {
    /// `small` (tests), `demo` (what make up loads) or `large` (load tests).
    #[arg(long, value_enum, default_value_t = Scale::Demo)]
    scale: Scale,
    /// Same seed, same county.
    #[arg(long, default_value_t = 2026)]
    seed: u64,
    /// The county cell's id; every generated cell id starts with it.
    #[arg(long, default_value = "gen")]
    county: String,
    /// Load this many tasks instead of the scale's number.
    #[arg(long)]
    tasks: Option<u64>,
    /// `table` for people, `json` for scripts.
    #[arg(long, value_enum, default_value_t = Output::Table)]
    output: Output,
}

#[derive(clap::Args)]
pub struct LoadArgs {
    #[command(flatten)]
    plan: Plan,
    /// The grid service.
    #[arg(long, default_value = "http://127.0.0.1:50052")]
    grid: String,
    /// The membership service (party organisations and members).
    #[arg(long, default_value = "http://127.0.0.1:50051")]
    membership: String,
    /// The centres service (centres, activities, check-ins).
    #[arg(long, default_value = "http://127.0.0.1:50053")]
    centres: String,
    /// The assessment service (the departments' ratings).
    #[arg(long, default_value = "http://127.0.0.1:50054")]
    assessment: String,
    /// Load the grid's side only: no organisations, members, centres or
    /// ratings (only the grid service needed).
    #[arg(long)]
    without_members: bool,
    /// Requests in flight at once (each holds one database connection in
    /// the service while it runs).
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    concurrency: u16,
    /// A bearer token (role county_admin, scope `*`; it also rates the
    /// departments unless --rater-token is given, so add street_admin);
    /// without it one is minted with --key.
    #[arg(long, env = "CIVICGRID_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// A bearer token that may rate departments (role street_admin or
    /// community_staff over the county); without it, --token when given,
    /// else one minted with --key.
    #[arg(long, env = "CIVICGRID_RATER_TOKEN", hide_env_values = true)]
    rater_token: Option<String>,
    /// The private key to mint the loader's tokens with.
    #[arg(
        long,
        env = "CIVICGRID_SIGNING_KEY_PATH",
        default_value = ".state/keys/auth_private.pem"
    )]
    key: PathBuf,
    /// Issuer; must match the services' `auth_issuer`.
    #[arg(long, default_value = "civicgrid")]
    issuer: String,
    /// No progress bars (for logs and CI).
    #[arg(long)]
    quiet: bool,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Output {
    Table,
    Json,
}

impl Plan {
    fn shape(&self) -> plan::Shape {
        let mut shape = self.scale.shape();
        if let Some(tasks) = self.tasks {
            shape.tasks = tasks;
        }
        shape
    }
}

pub async fn run(command: CountyCommand) -> anyhow::Result<ExitCode> {
    match command {
        CountyCommand::Generate(plan) => {
            let shape = plan.shape();
            let cells: u64 = plan::cells(&plan.county, &shape)
                .iter()
                .map(|l| l.len() as u64)
                .sum();
            let compounds = plan::compounds(&plan.county, &shape).len() as u64;
            let organisations: u64 = plan::organisations(&plan.county, &shape)
                .iter()
                .map(|l| l.len() as u64)
                .sum();
            let centres = plan::centres(&plan.county, &shape);
            let now = chrono::Utc::now();
            let (mut registrations, mut checkins) = (0, 0);
            for (index, centre) in centres.iter().enumerate() {
                for k in 0..plan::activities_per_centre(&shape) {
                    let activity = plan::activity(plan.seed, index as u64, k, centre, &shape, now);
                    registrations += activity.registrations.len() as u64;
                    checkins += activity.checkins.len() as u64;
                }
            }
            let ratings =
                plan::ratings(plan.seed, &plan.county, &shape, now, 0..shape.tasks).len() as u64;
            let planned = |kind, planned| Count {
                kind,
                planned,
                ..Count::default()
            };
            let counts = [
                Count {
                    kind: "cells",
                    planned: cells,
                    ..Count::default()
                },
                Count {
                    kind: "compounds",
                    planned: compounds,
                    ..Count::default()
                },
                Count {
                    kind: "tasks",
                    planned: shape.tasks,
                    ..Count::default()
                },
                Count {
                    kind: "organisations",
                    planned: organisations,
                    ..Count::default()
                },
                Count {
                    kind: "members",
                    planned: plan::member_count(&shape),
                    ..Count::default()
                },
                planned(
                    "unit reports",
                    plan::unit_reports(&plan.county, &shape).len() as u64,
                ),
                planned(
                    "member reports",
                    plan::member_reports(plan.seed, &plan.county, &shape).len() as u64,
                ),
                planned("centres", centres.len() as u64),
                planned(
                    "activities",
                    centres.len() as u64 * plan::activities_per_centre(&shape),
                ),
                planned("registrations", registrations),
                planned("check-ins", checkins),
                planned("ratings", ratings),
            ];
            print_counts(&counts, plan.output, None)?;
            Ok(ExitCode::SUCCESS)
        }
        CountyCommand::Load(args) => load(args).await,
    }
}

async fn load(args: LoadArgs) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let plan = &args.plan;
    let shape = plan.shape();
    let token = match &args.token {
        Some(token) => token.clone(),
        None => crate::endpoints::operator_token(
            &args.key,
            &args.issuer,
            "county-loader",
            Role::CountyAdmin,
        )?,
    };
    let channel = crate::endpoints::connect("grid", &args.grid, Duration::from_secs(5)).await?;
    let rater_token = match (&args.rater_token, &args.token) {
        (Some(token), _) | (None, Some(token)) => token.clone(),
        (None, None) => crate::endpoints::operator_token(
            &args.key,
            &args.issuer,
            "county-loader",
            Role::StreetAdmin,
        )?,
    };
    let others = if args.without_members {
        None
    } else {
        let connect = |name, addr| crate::endpoints::connect(name, addr, Duration::from_secs(5));
        Some((
            connect("membership", &args.membership).await?,
            connect("centres", &args.centres).await?,
            connect("assessment", &args.assessment).await?,
        ))
    };
    let progress = if args.quiet {
        MultiProgress::with_draw_target(ProgressDrawTarget::hidden())
    } else {
        MultiProgress::new()
    };
    crate::demo::load_directory(&args.grid, &token).await?;
    let loader = Loader {
        channel,
        token,
        concurrency: usize::from(args.concurrency),
        progress,
    };
    let cells = loader.cells(&plan::cells(&plan.county, &shape)).await?;
    let compounds = loader
        .compounds(&plan::compounds(&plan.county, &shape))
        .await?;
    let tasks = loader.tasks(plan.seed, &plan.county, &shape).await?;
    let mut counts = vec![cells, compounds, tasks];
    if let Some((membership, centres, assessment)) = &others {
        loader
            .wait_for_membership_replica(membership, &plan.county, &shape)
            .await?;
        counts.push(
            loader
                .organisations(membership, &plan::organisations(&plan.county, &shape))
                .await?,
        );
        counts.push(
            loader
                .members(membership, plan.seed, &plan.county, &shape)
                .await?,
        );
        // The members activities and reports name, looked up once.
        let reporting = plan::member_reports(plan.seed, &plan.county, &shape);
        let mut named = plan::active_members(&shape);
        named.extend(reporting.iter().map(|report| report.member));
        named.sort_unstable();
        named.dedup();
        let members = loader.member_names(membership, plan.seed, &named).await?;
        counts.extend(
            loader
                .reports(
                    membership,
                    &plan::unit_reports(&plan.county, &shape),
                    &reporting,
                    &members,
                )
                .await?,
        );
        loader
            .wait_for_centres_replica(centres, &plan.county, &shape)
            .await?;
        let planned = plan::centres(&plan.county, &shape);
        counts.push(loader.centres(centres, &planned).await?);
        counts.extend(
            loader
                .activities(centres, plan.seed, &shape, &planned, &members)
                .await?,
        );
        counts.push(
            loader
                .ratings(assessment, &rater_token, plan.seed, &plan.county, &shape)
                .await?,
        );
    }
    print_counts(&counts, plan.output, Some(started.elapsed()))?;
    Ok(ExitCode::SUCCESS)
}

fn print_counts(counts: &[Count], output: Output, took: Option<Duration>) -> anyhow::Result<()> {
    match output {
        Output::Json => println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "counts": counts,
                "seconds": took.map(|t| t.as_secs_f64()),
            }))?
        ),
        Output::Table => {
            println!(
                "{:<13}  {:>9}  {:>9}  {:>13}",
                "KIND", "PLANNED", "CREATED", "ALREADY THERE"
            );
            for c in counts {
                println!(
                    "{:<13}  {:>9}  {:>9}  {:>13}",
                    c.kind, c.planned, c.created, c.existing
                );
            }
            if let Some(took) = took {
                let objects: u64 = counts.iter().map(|c| c.created + c.existing).sum();
                println!(
                    "loaded in {:.1}s ({:.0} objects/s)",
                    took.as_secs_f64(),
                    objects as f64 / took.as_secs_f64().max(0.001)
                );
            }
        }
    }
    Ok(())
}
