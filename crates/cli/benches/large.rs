//! `make bench-large`: the county at scale against the running local stack
//! (`make up`). Loads the large county (`civicgrid county load --scale
//! large`, resumable, so a rerun only measures what is missing), sampling
//! every service's RSS meanwhile, then measures ListTasks by subtree (a
//! street, a community; pages of 100), GetTaskStatistics and LookupMember
//! by ID number (blind index, among the generated members), each beside
//! pgbench running the same SELECT in the same run.
//!
//! BENCH_LARGE_TASKS (default: the scale's million) sets how many tasks to
//! load; BENCH_LARGE_REQUESTS (default 300) the requests per measured call;
//! BENCH_LARGE_LOAD=0 skips the load and measures the county already there.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use civicgrid_cli::county::plan::{self, Scale};
use civicgrid_proto::grid::v1 as pb;
use civicgrid_proto::grid::v1::task_service_client::TaskServiceClient;
use civicgrid_proto::membership::v1 as mpb;
use civicgrid_proto::membership::v1::membership_service_client::MembershipServiceClient;
use civicgrid_runtime::auth::{Claims, Role, Signer};
use hdrhistogram::Histogram;

/// The large county's seed and root cell (BENCH_LARGE_SEED,
/// BENCH_LARGE_COUNTY): not the defaults (2026, `gen`) that `make up`'s
/// demo-scale county uses, since ids come from the seed and the root, so
/// both counties live side by side in one stack.
const SEED: u64 = 2027;
const ROOT: &str = "large";

const SERVICES: [&str; 4] = ["membership", "grid", "centres", "assessment"];

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn state() -> PathBuf {
    std::env::var_os("CIVICGRID_STATE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join(".state"))
}

/// Resident set size of each running service, in MiB (from /proc).
fn rss() -> BTreeMap<&'static str, f64> {
    let mut out = BTreeMap::new();
    for service in SERVICES {
        let pid = std::fs::read_to_string(state().join("pids").join(format!("{service}.pid")))
            .ok()
            .and_then(|p| p.trim().parse::<u32>().ok());
        let kib = pid
            .and_then(|pid| std::fs::read_to_string(format!("/proc/{pid}/status")).ok())
            .and_then(|status| {
                status
                    .lines()
                    .find(|l| l.starts_with("VmRSS:"))
                    .and_then(|l| l.split_whitespace().nth(1))
                    .and_then(|n| n.parse::<f64>().ok())
            });
        if let Some(kib) = kib {
            out.insert(service, kib / 1024.0);
        }
    }
    out
}

/// A token of `role` over the whole county, signed with the stack's key.
fn token(role: Role) -> String {
    let pem = std::fs::read(state().join("keys/auth_private.pem"))
        .expect("the stack's signing key (.state/keys/auth_private.pem): run `make up` first");
    let signer = Signer::from_pem(&pem).expect("signing key");
    let now = chrono::Utc::now().timestamp();
    signer
        .mint(&Claims {
            sub: "bench-large".to_owned(),
            iss: "civicgrid".to_owned(),
            iat: now,
            exp: now + 24 * 3600,
            roles: vec![role],
            scope: vec!["*".to_owned()],
            department: None,
        })
        .expect("mint")
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let tasks = env_u64("BENCH_LARGE_TASKS", 1_000_000);
    let seed = env_u64("BENCH_LARGE_SEED", SEED);
    let root = std::env::var("BENCH_LARGE_COUNTY").unwrap_or_else(|_| ROOT.to_owned());
    let requests = env_u64("BENCH_LARGE_REQUESTS", 300);
    let token = token(Role::CountyAdmin);
    let idle = rss();
    println!("civicgrid at scale: the large county ({tasks} tasks) on the local stack\n");

    // The load, with an RSS sampler beside it.
    let peak = Arc::new(std::sync::Mutex::new(BTreeMap::<&'static str, f64>::new()));
    let sampling = Arc::new(AtomicBool::new(true));
    let sampler = {
        let (peak, sampling) = (peak.clone(), sampling.clone());
        std::thread::spawn(move || {
            while sampling.load(Ordering::Relaxed) {
                for (service, mib) in rss() {
                    let mut peak = peak.lock().unwrap();
                    let entry = peak.entry(service).or_insert(0.0);
                    *entry = entry.max(mib);
                }
                std::thread::sleep(Duration::from_millis(500));
            }
        })
    };
    if env_u64("BENCH_LARGE_LOAD", 1) == 0 {
        println!("BENCH_LARGE_LOAD=0: measuring the county already loaded\n");
    } else {
        load(tasks, seed, &root, &token);
    }

    // Queries, one at a time, on the loaded county.
    let channel = tonic::transport::Endpoint::from_static("http://127.0.0.1:50052")
        .connect()
        .await
        .expect("grid at 127.0.0.1:50052");
    let client = TaskServiceClient::new(channel);
    let street = format!("cells/{root}-s01");
    let community = format!("cells/{root}-s01-c01");
    let street_path = format!("/{root}/{root}-s01/");
    let community_path = format!("/{root}/{root}-s01/{root}-s01-c01/");
    println!(
        "{:<34} {:>9} {:>9} {:>14} {:>7}",
        "call", "p50 ms", "p99 ms", "pgbench p50 ms", "ratio"
    );
    for (label, ancestor, field) in [
        ("ListTasks street, page of 100", &street, 3),
        ("ListTasks community, page of 100", &community, 4),
    ] {
        let histogram = measure(requests, || {
            let mut client = client.clone();
            let request = authorised(
                pb::ListTasksRequest {
                    ancestor: ancestor.clone(),
                    page_size: 100,
                    ..Default::default()
                },
                &token,
            );
            async move {
                client.list_tasks(request).await.expect("ListTasks");
            }
        })
        .await;
        // The service's SELECT for this page (its second, the page's
        // assignments, is left out).
        let cell = ancestor.trim_start_matches("cells/");
        let sql = format!(
            "SELECT * FROM tasks t WHERE true AND split_part(t.cell_path, '/', {field}) = '{cell}' \
             ORDER BY t.create_time, t.id LIMIT 100;"
        );
        report_line(label, &histogram, pgbench_latency("civicgrid_grid", &sql));
    }
    // The last 90 days from now: whole days from the kept tallies, the
    // hours since midnight counted from the history.
    let quarter = prost_types::Timestamp {
        seconds: chrono::Utc::now().timestamp() - 90 * 86_400,
        nanos: 0,
    };
    for (label, ancestor, path, after) in [
        ("GetTaskStatistics street", &street, &street_path, None),
        (
            "GetTaskStatistics community",
            &community,
            &community_path,
            None,
        ),
        (
            "GetTaskStatistics street, 90 days",
            &street,
            &street_path,
            Some(quarter),
        ),
    ] {
        let statistics = |ancestor: String| {
            let mut client = client.clone();
            let request = authorised(
                pb::GetTaskStatisticsRequest {
                    ancestor,
                    reported_after: after,
                    ..Default::default()
                },
                &token,
            );
            async move { client.get_task_statistics(request).await.map(|_| ()) }
        };
        // One probe first: a call the service cannot answer within its
        // request timeout is reported as such, not measured a hundred times.
        let probe = Instant::now();
        if let Err(status) = statistics(ancestor.clone()).await {
            println!(
                "{label:<34} failed after {:.0} ms: {:?} {}",
                probe.elapsed().as_secs_f64() * 1000.0,
                status.code(),
                status.message()
            );
            continue;
        }
        let histogram = measure(requests.min(100), || {
            let call = statistics(ancestor.clone());
            async move { call.await.expect("GetTaskStatistics") }
        })
        .await;
        // The kept tallies' sum for the subtree (the service's statement
        // for the whole days of the window).
        let sql = format!(
            "SELECT sum(tasks), sum(responses), sum(responses_on_time), sum(ratings), sum(returns) FROM \
             (SELECT tasks, responses, responses_on_time, ratings, returns FROM task_tallies WHERE tally_path LIKE '{path}%' \
              UNION ALL SELECT tasks, responses, responses_on_time, ratings, returns FROM task_tally_deltas \
              WHERE tally_path LIKE '{path}%') k;"
        );
        report_line(label, &histogram, pgbench_latency("civicgrid_grid", &sql));
    }

    // Member lookup by ID number through the blind index, among the
    // generated members (their numbers come from the seed), beside pgbench
    // running the service's own SELECT for one stored index.
    let shape = Scale::Large.shape();
    let members = plan::member_count(&shape);
    let channel = tonic::transport::Endpoint::from_static("http://127.0.0.1:50051")
        .connect()
        .await
        .expect("membership at 127.0.0.1:50051");
    let membership = MembershipServiceClient::new(channel);
    let mut pick = 0u64;
    // A member whose roll did not load answers NOT_FOUND, after the same
    // blind-index probe; counted and shown, not fatal.
    let missing = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let histogram = measure(requests, || {
        let missing = missing.clone();
        let mut client = membership.clone();
        pick = (pick + 104_729) % members.max(1);
        let request = authorised(
            mpb::LookupMemberRequest {
                id_number: plan::id_number(seed, pick),
            },
            &token,
        );
        async move {
            match client.lookup_member(request).await {
                Ok(_) => {}
                Err(status) if status.code() == tonic::Code::NotFound => {
                    missing.fetch_add(1, Ordering::Relaxed);
                }
                Err(status) => panic!("LookupMember: {status}"),
            }
        }
    })
    .await;
    let sql = stored_blind_index(&root).map(|index| {
        format!(
            "SELECT m.id, m.full_name_sealed, m.id_number_sealed, m.phone_sealed, m.organisation_id, \
             m.standing, m.flow_member, m.residence_cell_id, m.work_unit_id, m.version, m.create_time, \
             m.update_time, o.area_path FROM members m JOIN organisations o ON o.id = m.organisation_id \
             WHERE m.id_number_index = {index};"
        )
    });
    let missing = missing.load(Ordering::Relaxed);
    if missing > 0 {
        println!("  ({missing} of the lookups named a member not loaded: NOT_FOUND)");
    }
    report_line(
        &format!("LookupMember of {members}"),
        &histogram,
        sql.and_then(|sql| pgbench_latency("civicgrid_membership", &sql)),
    );

    sampling.store(false, Ordering::Relaxed);
    sampler.join().unwrap();
    let peak = peak.lock().unwrap().clone();
    let after = rss();
    println!(
        "\n{:<12} {:>10} {:>14} {:>10}",
        "service", "idle MiB", "peak MiB", "after MiB"
    );
    for service in SERVICES {
        let show = |m: Option<&f64>| m.map_or("-".to_owned(), |m| format!("{m:.0}"));
        println!(
            "{:<12} {:>10} {:>14} {:>10}",
            service,
            show(idle.get(service)),
            show(peak.get(service)),
            show(after.get(service))
        );
    }
}

/// Runs `civicgrid county load --scale large` and prints its counts and
/// the generator's rate of new objects.
fn load(tasks: u64, seed: u64, root: &str, token: &str) {
    let started = Instant::now();
    let output = Command::new(env!("CARGO_BIN_EXE_civicgrid"))
        .current_dir(repo())
        .args([
            "county", "load", "--scale", "large", "--output", "json", "--quiet",
        ])
        .args(["--seed", &seed.to_string(), "--county", root])
        .args(["--tasks", &tasks.to_string(), "--token", token])
        // Only a street or community rates its departments: the county
        // admin's token would be refused (PERMISSION_DENIED).
        .args(["--rater-token", &self::token(Role::StreetAdmin)])
        .output()
        .expect("run civicgrid county load");
    assert!(
        output.status.success(),
        "county load failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("load report");
    println!("county load ({:.0} s):", started.elapsed().as_secs_f64());
    let mut total_new = 0;
    for count in report["counts"].as_array().unwrap() {
        let created = count["created"].as_u64().unwrap_or(0);
        total_new += created;
        println!(
            "  {:<10} {:>9} planned {:>9} created {:>9} already there",
            count["kind"].as_str().unwrap_or(""),
            count["planned"],
            created,
            count["existing"]
        );
    }
    let seconds = report["seconds"].as_f64().unwrap_or(1.0);
    println!(
        "  generator: {:.0} new objects/s ({total_new} created in {seconds:.0} s)\n",
        total_new as f64 / seconds.max(0.001)
    );
}

fn authorised<T>(message: T, token: &str) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request
        .metadata_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    request
}

async fn measure<F, Fut>(requests: u64, mut call: F) -> Histogram<u64>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    // Warm caches and prepared statements unmeasured.
    for _ in 0..10 {
        call().await;
    }
    let mut histogram = Histogram::<u64>::new(3).expect("histogram");
    for _ in 0..requests {
        let sent = Instant::now();
        call().await;
        histogram
            .record(sent.elapsed().as_micros() as u64)
            .expect("record");
    }
    histogram
}

fn report_line(label: &str, histogram: &Histogram<u64>, raw_ms: Option<f64>) {
    let p50 = histogram.value_at_quantile(0.50) as f64 / 1000.0;
    println!(
        "{:<34} {:>9.2} {:>9.2} {:>14} {:>7}",
        label,
        p50,
        histogram.value_at_quantile(0.99) as f64 / 1000.0,
        raw_ms.map_or("-".to_owned(), |m| format!("{m:.2}")),
        raw_ms.map_or("-".to_owned(), |m| format!("{:.2}", m / p50.max(0.001)))
    );
}

/// pgbench's average latency for `sql` (one client, 5 s) on `database`.
fn pgbench_latency(database: &str, sql: &str) -> Option<f64> {
    civicgrid_testkit::bench::pgbench_latency_ms(database, sql, 1, 5)
}

/// The blind index of one stored member, as a bytea literal, for pgbench's
/// side of the lookup (pgbench cannot compute the HMAC).
fn stored_blind_index(root: &str) -> Option<String> {
    let output = Command::new("psql")
        .args([
            "-X",
            "-A",
            "-t",
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-d",
            "civicgrid_membership",
            "-c",
        ])
        .arg(format!(
            "SELECT encode(m.id_number_index, 'hex') FROM members m \
             JOIN organisations o ON o.id = m.organisation_id WHERE o.id LIKE '{root}-%' LIMIT 1"
        ))
        .output()
        .ok()?;
    let hex = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    (!hex.is_empty()).then(|| format!("'\\x{hex}'::bytea"))
}
