//! `civicgrid status`: every service's health, outbox backlog, queues,
//! dead letters and checkpoints in one table; exit 1 when something is
//! unhealthy, so scripts and cron jobs can act on it.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use civicgrid_proto::events::v1 as pb;
use civicgrid_proto::events::v1::subscription_admin_service_client::SubscriptionAdminServiceClient;
use civicgrid_runtime::auth::Role;
use serde_json::json;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::{HealthCheckRequest, health_check_response::ServingStatus};

#[derive(clap::Args)]
pub struct Args {
    /// A service and its address as `name=url` (repeatable); default: the
    /// four services on their local ports (membership 50051, grid 50052,
    /// centres 50053, assessment 50054).
    #[arg(long = "service", value_name = "NAME=URL", value_parser = parse_service)]
    services: Vec<(String, String)>,
    /// A bearer token (roles county_admin, read_only_analyst or service;
    /// scope `*`); without it one is minted with --key.
    #[arg(long, env = "CIVICGRID_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// The private key to mint a read-only analyst's token with.
    #[arg(
        long,
        env = "CIVICGRID_SIGNING_KEY_PATH",
        default_value = ".state/keys/auth_private.pem"
    )]
    key: PathBuf,
    /// Issuer; must match the services' `auth_issuer`.
    #[arg(long, default_value = "civicgrid")]
    issuer: String,
    /// `table` for people, `json` for scripts.
    #[arg(long, value_enum, default_value_t = Output::Table)]
    output: Output,
    /// Seconds to wait for each service.
    #[arg(long, default_value_t = 5)]
    timeout: u64,
    /// Also exit 1 when any dead-letter queue holds messages.
    #[arg(long)]
    fail_on_dead_letters: bool,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Output {
    Table,
    Json,
}

fn parse_service(raw: &str) -> Result<(String, String), String> {
    match raw.split_once('=') {
        Some((name, url)) if !name.is_empty() && url.starts_with("http") => {
            Ok((name.to_owned(), url.to_owned()))
        }
        _ => Err(format!(
            "expected NAME=URL such as grid=http://127.0.0.1:50052, got `{raw}`"
        )),
    }
}

/// What one service said (or that it said nothing).
struct Report {
    service: String,
    addr: String,
    health: String,
    events: Option<pb::EventStatus>,
    error: Option<String>,
}

impl Report {
    /// Serving, and every subscription has a broker answer and a consumer.
    fn healthy(&self) -> bool {
        self.health == "SERVING"
            && self.error.is_none()
            && self.events.as_ref().is_some_and(|events| {
                events
                    .subscriptions
                    .iter()
                    .all(|s| s.broker_error.is_empty() && s.consumers > 0)
            })
    }

    fn dead_letters(&self) -> i64 {
        self.events
            .as_ref()
            .map_or(0, |e| e.subscriptions.iter().map(|s| s.dead_letters).sum())
    }
}

pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    let services: Vec<(String, String)> = if args.services.is_empty() {
        crate::endpoints::SERVICES
            .iter()
            .map(|(name, port)| ((*name).to_owned(), format!("http://127.0.0.1:{port}")))
            .collect()
    } else {
        args.services.clone()
    };
    let token = match &args.token {
        Some(token) => token.clone(),
        None => crate::endpoints::operator_token(
            &args.key,
            &args.issuer,
            "operator-status",
            Role::ReadOnlyAnalyst,
        )?,
    };
    let timeout = Duration::from_secs(args.timeout.max(1));
    let reports = futures::future::join_all(
        services
            .iter()
            .map(|(service, addr)| ask(service, addr, &token, timeout)),
    )
    .await;
    match args.output {
        Output::Table => print!("{}", table(&reports)),
        Output::Json => println!("{}", serde_json::to_string_pretty(&as_json(&reports))?),
    }
    let unhealthy = reports.iter().any(|r| !r.healthy());
    let dead = reports.iter().any(|r| r.dead_letters() > 0);
    Ok(if unhealthy || (args.fail_on_dead_letters && dead) {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

async fn ask(service: &str, addr: &str, token: &str, timeout: Duration) -> Report {
    let mut report = Report {
        service: service.to_owned(),
        addr: addr.to_owned(),
        health: "UNREACHABLE".to_owned(),
        events: None,
        error: None,
    };
    let channel = match crate::endpoints::connect(service, addr, timeout).await {
        Ok(channel) => channel,
        Err(error) => {
            report.error = Some(format!("{error:#}"));
            return report;
        }
    };
    let mut health = tonic::Request::new(HealthCheckRequest::default());
    health.set_timeout(timeout);
    match HealthClient::new(channel.clone()).check(health).await {
        Ok(response) => {
            let status = ServingStatus::try_from(response.into_inner().status)
                .unwrap_or(ServingStatus::Unknown);
            report.health = status.as_str_name().to_owned();
        }
        Err(status) => {
            report.error = Some(format!("health check: {}", status.message()));
            return report;
        }
    }
    let request = match crate::endpoints::authorised(pb::GetEventStatusRequest {}, token) {
        Ok(mut request) => {
            request.set_timeout(timeout);
            request
        }
        Err(error) => {
            report.error = Some(format!("{error:#}"));
            return report;
        }
    };
    match SubscriptionAdminServiceClient::new(channel)
        .get_event_status(request)
        .await
    {
        Ok(response) => report.events = response.into_inner().status,
        Err(status) => {
            report.error = Some(format!(
                "event status: {:?}: {}",
                status.code(),
                status.message()
            ))
        }
    }
    report
}

fn table(reports: &[Report]) -> String {
    let mut services = vec![vec![
        "SERVICE".to_owned(),
        "ADDRESS".to_owned(),
        "HEALTH".to_owned(),
        "OUTBOX".to_owned(),
        "OLDEST UNPUBLISHED".to_owned(),
        "LOG HEAD".to_owned(),
        "PROBLEM".to_owned(),
    ]];
    let mut subscriptions = vec![vec![
        "SERVICE".to_owned(),
        "SUBSCRIPTION".to_owned(),
        "QUEUED".to_owned(),
        "CONSUMERS".to_owned(),
        "DEAD LETTERS".to_owned(),
        "CHECKPOINTS".to_owned(),
        "PROBLEM".to_owned(),
    ]];
    for report in reports {
        let events = report.events.as_ref();
        services.push(vec![
            report.service.clone(),
            report.addr.clone(),
            report.health.clone(),
            events.map_or("-".to_owned(), |e| e.outbox_backlog.to_string()),
            events
                .and_then(|e| e.oldest_unpublished_time)
                .map_or("-".to_owned(), age),
            events.map_or("-".to_owned(), |e| e.head_position.to_string()),
            report.error.clone().unwrap_or_default(),
        ]);
        for s in events.map(|e| e.subscriptions.as_slice()).unwrap_or(&[]) {
            let checkpoints: Vec<String> = s
                .checkpoints
                .iter()
                .map(|c| format!("{}@{}", c.producer, c.position))
                .collect();
            let problem = if !s.broker_error.is_empty() {
                s.broker_error.clone()
            } else if s.consumers == 0 {
                "no consumer attached".to_owned()
            } else {
                String::new()
            };
            subscriptions.push(vec![
                report.service.clone(),
                s.subscription.clone(),
                s.queued_messages.to_string(),
                s.consumers.to_string(),
                s.dead_letters.to_string(),
                if checkpoints.is_empty() {
                    "-".to_owned()
                } else {
                    checkpoints.join(" ")
                },
                problem,
            ]);
        }
    }
    let mut out = render(&services);
    out.push('\n');
    out.push_str(&render(&subscriptions));
    out
}

/// Columns padded to their widest cell (in characters, so Chinese names
/// do not break the layout more than a terminal's double width does).
fn render(rows: &[Vec<String>]) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|i| {
            rows.iter()
                .filter_map(|row| row.get(i))
                .map(|cell| cell.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in rows {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

fn age(at: prost_types::Timestamp) -> String {
    let seconds = chrono::Utc::now().timestamp() - at.seconds;
    format!("{}s ago", seconds.max(0))
}

fn as_json(reports: &[Report]) -> serde_json::Value {
    let services: Vec<serde_json::Value> = reports
        .iter()
        .map(|r| {
            let events = r.events.as_ref();
            json!({
                "service": r.service,
                "address": r.addr,
                "health": r.health,
                "healthy": r.healthy(),
                "error": r.error,
                "outbox_backlog": events.map(|e| e.outbox_backlog),
                "oldest_unpublished_unix": events.and_then(|e| e.oldest_unpublished_time).map(|t| t.seconds),
                "log_head": events.map(|e| e.head_position),
                "subscriptions": events.map(|e| e.subscriptions.iter().map(|s| json!({
                    "subscription": s.subscription,
                    "queue": s.queue,
                    "queued": s.queued_messages,
                    "consumers": s.consumers,
                    "dead_letter_queue": s.dead_letter_queue,
                    "dead_letters": s.dead_letters,
                    "broker_error": if s.broker_error.is_empty() { None } else { Some(&s.broker_error) },
                    "checkpoints": s.checkpoints.iter().map(|c| json!({"producer": c.producer, "position": c.position})).collect::<Vec<_>>(),
                })).collect::<Vec<_>>()),
            })
        })
        .collect();
    json!({
        "healthy": reports.iter().all(Report::healthy),
        "services": services,
    })
}
