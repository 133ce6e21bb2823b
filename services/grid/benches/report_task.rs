//! `make bench`: the report-a-task rate (gRPC call to commit, outbox row
//! included) and its p50/p99 latency at several concurrencies, beside the
//! rate of an equivalent two-insert transaction run straight against
//! PostgreSQL with pgbench, in the same run, and their ratio.
//!
//! BENCH_SECONDS (default 10) sets how long each side runs per
//! concurrency, in alternating rounds of BENCH_ROUND_SECONDS (default 2);
//! BENCH_CONCURRENCY (default "1,8,32") the concurrencies; BENCH_RELAY=off
//! stops the outbox relay during the runs (the outbox rows are still
//! written).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use civicgrid_grid::Application;
use civicgrid_host::Service;
use civicgrid_proto::grid::v1 as pb;
use civicgrid_proto::grid::v1::directory_service_client::DirectoryServiceClient;
use civicgrid_proto::grid::v1::grid_service_client::GridServiceClient;
use civicgrid_proto::grid::v1::task_service_client::TaskServiceClient;
use civicgrid_runtime::CancellationToken;
use civicgrid_testkit::bench::{env_number, pgbench_tps};
use civicgrid_testkit::{TestBroker, TestDatabase, TestKeys, endpoint, test_settings, with_token};
use hdrhistogram::Histogram;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(run());
}

async fn run() {
    let seconds: u64 = env_number("BENCH_SECONDS", 10).max(1);
    let round_seconds: u64 = env_number("BENCH_ROUND_SECONDS", 2).clamp(1, seconds);
    let rounds = seconds / round_seconds;
    let levels: Vec<usize> = std::env::var("BENCH_CONCURRENCY")
        .unwrap_or_else(|_| "1,8,32".to_owned())
        .split(',')
        .filter_map(|c| c.trim().parse().ok())
        .collect();
    let round = Duration::from_secs(round_seconds);

    let db = TestDatabase::create_empty().await.expect("database");
    let broker = TestBroker::new();
    let mut settings = test_settings("grid", &db, &broker);
    // The service's own telemetry, as its binary installs it (JSON logs at
    // the default level, an OpenTelemetry span per call): the benchmark
    // pays what production pays.
    let _telemetry =
        civicgrid_runtime::telemetry::init("grid", &settings.log_filter).expect("telemetry");
    // By default the relay publishes while reports commit, as in
    // production; BENCH_RELAY=off measures the write path alone.
    let relay = std::env::var("BENCH_RELAY")
        .map(|v| v != "off")
        .unwrap_or(true);
    settings.background_workers = relay;
    let config = civicgrid_grid::config::GridSettings {
        data_key_path: TestKeys::get().data_key_path.clone(),
        ..Default::default()
    };
    let app = Application::build(settings, config).await.expect("grid");
    let addr = app.grpc_addr();
    let shutdown = CancellationToken::new();
    tokio::spawn(app.run(shutdown.clone()));
    seed(addr).await;

    let pg = Arc::new(
        TestDatabase::create_empty()
            .await
            .expect("pgbench database"),
    );
    prepare_pgbench(&pg).await;

    println!(
        "report-a-task over gRPC (auth, validation, task + history + outbox in one transaction) vs pgbench two-insert transaction"
    );
    println!(
        "{} s each per concurrency, alternating in {} s rounds; outbox relay {}\n",
        rounds * round_seconds,
        round_seconds,
        if relay { "publishing alongside" } else { "off" }
    );
    println!(
        "{:>11} {:>12} {:>10} {:>10} {:>14} {:>7}",
        "concurrency", "reports/s", "p50 ms", "p99 ms", "pgbench tps", "ratio"
    );
    // Warm both sides (connections, prepared statements, caches) unmeasured.
    drive(addr, 1, Duration::from_secs(1)).await;
    pgbench(pg.clone(), 1, 1).await;
    for concurrency in levels {
        // Alternating short rounds: the machine's own drift (disk flush
        // times vary a lot here) then falls on both sides alike.
        let (mut reports, mut elapsed, mut tps_sum) = (0u64, 0f64, 0f64);
        let mut histogram = Histogram::<u64>::new(3).expect("histogram");
        for _ in 0..rounds {
            let run = drive(addr, concurrency, round).await;
            reports += run.reports;
            elapsed += run.elapsed;
            histogram.add(run.histogram).expect("merge");
            tps_sum += pgbench(pg.clone(), concurrency, round_seconds).await;
        }
        let rate = reports as f64 / elapsed;
        let tps = tps_sum / rounds as f64;
        println!(
            "{:>11} {:>12.0} {:>10.2} {:>10.2} {:>14.0} {:>7.2}",
            concurrency,
            rate,
            histogram.value_at_quantile(0.50) as f64 / 1000.0,
            histogram.value_at_quantile(0.99) as f64 / 1000.0,
            tps,
            if tps > 0.0 { rate / tps } else { 0.0 }
        );
    }
    shutdown.cancel();
}

async fn seed(addr: std::net::SocketAddr) {
    let admin = TestKeys::get().county_admin();
    let mut grid = GridServiceClient::connect(endpoint(addr))
        .await
        .expect("connect");
    for (id, parent, level) in [
        ("c", "", 1),
        ("s", "cells/c", 2),
        ("m", "cells/s", 3),
        ("g", "cells/m", 4),
    ] {
        let cell = pb::Cell {
            parent: parent.into(),
            level,
            display_name: id.into(),
            ..Default::default()
        };
        grid.create_cell(with_token(
            pb::CreateCellRequest {
                cell_id: id.into(),
                cell: Some(cell),
                request_id: String::new(),
            },
            &admin,
        ))
        .await
        .expect("cell");
    }
    let mut directory = DirectoryServiceClient::connect(endpoint(addr))
        .await
        .expect("connect");
    let category = pb::Category {
        display_name: "Bench".into(),
        ..Default::default()
    };
    directory
        .create_category(with_token(
            pb::CreateCategoryRequest {
                category_id: "bench".into(),
                category: Some(category),
            },
            &admin,
        ))
        .await
        .expect("category");
}

/// One measured round of the gRPC side.
struct Round {
    reports: u64,
    elapsed: f64,
    histogram: Histogram<u64>,
}

/// Reports as fast as `concurrency` clients can for `duration`.
async fn drive(addr: std::net::SocketAddr, concurrency: usize, duration: Duration) -> Round {
    let token = TestKeys::get().token(
        &[
            civicgrid_runtime::auth::Role::GridWorker,
            civicgrid_runtime::auth::Role::CountyAdmin,
        ],
        &["*"],
        None,
    );
    let stop = Arc::new(AtomicBool::new(false));
    let channel = tonic::transport::Endpoint::from_shared(endpoint(addr))
        .expect("endpoint")
        .connect()
        .await
        .expect("connect");
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (stop, channel) = (stop.clone(), channel.clone());
        // Made once, as a real client keeps its credentials, not per call.
        let bearer: tonic::metadata::MetadataValue<tonic::metadata::Ascii> =
            format!("Bearer {token}").parse().expect("a token is ASCII");
        workers.push(tokio::spawn(async move {
            let mut client = TaskServiceClient::new(channel);
            let mut histogram = Histogram::<u64>::new(3).expect("histogram");
            let mut count = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let task = pb::Task {
                    cell: "cells/g".into(),
                    category: "categories/bench".into(),
                    urgency: pb::Urgency::Normal as i32,
                    channel: pb::Channel::GridPatrol as i32,
                    description: "Broken street light at the north gate".into(),
                    ..Default::default()
                };
                let request = pb::ReportTaskRequest {
                    task: Some(task),
                    reporter_contact: "13812345678".into(),
                    request_id: uuid::Uuid::new_v4().to_string(),
                };
                let sent = Instant::now();
                client
                    .report_task({
                        let mut request = tonic::Request::new(request);
                        request
                            .metadata_mut()
                            .insert("authorization", bearer.clone());
                        request
                    })
                    .await
                    .expect("report");
                histogram
                    .record(sent.elapsed().as_micros() as u64)
                    .expect("record");
                count += 1;
            }
            (count, histogram)
        }));
    }
    tokio::time::sleep(duration).await;
    stop.store(true, Ordering::Relaxed);
    let mut reports = 0;
    let mut merged = Histogram::<u64>::new(3).expect("histogram");
    for worker in workers {
        let (count, histogram) = worker.await.expect("worker");
        reports += count;
        merged.add(histogram).expect("merge");
    }
    Round {
        reports,
        elapsed: started.elapsed().as_secs_f64(),
        histogram: merged,
    }
}

async fn prepare_pgbench(db: &TestDatabase) {
    for statement in [
        "CREATE TABLE bench_tasks (id UUID PRIMARY KEY, cell_id TEXT NOT NULL, description TEXT NOT NULL, \
           contact BYTEA, state SMALLINT NOT NULL, version BIGINT NOT NULL, create_time TIMESTAMPTZ NOT NULL)",
        "CREATE TABLE bench_outbox (id BIGSERIAL PRIMARY KEY, event_id UUID NOT NULL UNIQUE, routing_key TEXT NOT NULL, \
           payload BYTEA NOT NULL, created_at TIMESTAMPTZ NOT NULL DEFAULT now(), published_at TIMESTAMPTZ)",
    ] {
        sqlx::query(statement)
            .execute(&db.pool)
            .await
            .expect("create bench table");
    }
}

/// pgbench's tps for the two-insert transaction at `clients`.
async fn pgbench(db: Arc<TestDatabase>, clients: usize, seconds: u64) -> f64 {
    let script = "BEGIN;\n\
         INSERT INTO bench_tasks VALUES (gen_random_uuid(), 'g', 'Broken street light at the north gate', '\\x0102', 1, 1, now());\n\
         INSERT INTO bench_outbox (event_id, routing_key, payload) VALUES (gen_random_uuid(), 'grid.task.reported', '\\x0a0b0c');\n\
         END;\n";
    pgbench_tps(db, script.to_owned(), clients, seconds).await
}
