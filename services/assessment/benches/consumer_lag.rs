//! `make bench`: assessment as the grid's consumer. Grid and assessment run
//! together on one broker, the grid's relay and assessment's consumers live.
//! First the grid's peak report rate is measured (BENCH_PEAK_CONCURRENCY
//! reporters, default 16, for BENCH_SECONDS, default 10); then reports are
//! paced at half that rate for BENCH_SECONDS, and for each the lag from its
//! commit in grid (the ReportTask response) to its metric in assessment
//! (the row stored, in the transaction that moves the counts), p50/p99; the
//! backlog (grid's outbox and what assessment has not applied) must return
//! to zero after the load. Last, a full replay of assessment's own event
//! store (RebuildMetrics' command) and the events per second it applies.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use civicgrid_host::Service;
use civicgrid_proto::grid::v1 as pb;
use civicgrid_proto::grid::v1::directory_service_client::DirectoryServiceClient;
use civicgrid_proto::grid::v1::grid_service_client::GridServiceClient;
use civicgrid_proto::grid::v1::task_service_client::TaskServiceClient;
use civicgrid_runtime::CancellationToken;
use civicgrid_testkit::bench::env_number;
use civicgrid_testkit::{TestBroker, TestDatabase, TestKeys, endpoint, test_settings, with_token};
use hdrhistogram::Histogram;
use tokio::sync::Mutex;
use tonic::transport::Channel;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(run());
}

async fn run() {
    let seconds = env_number("BENCH_SECONDS", 10).max(1);
    let peak_concurrency = env_number("BENCH_PEAK_CONCURRENCY", 16).max(1) as usize;
    let broker = TestBroker::new();

    let grid_db = TestDatabase::create_empty().await.expect("grid database");
    let mut grid_settings = test_settings("grid", &grid_db, &broker);
    grid_settings.background_workers = true;
    let _telemetry = civicgrid_runtime::telemetry::init("assessment", &grid_settings.log_filter)
        .expect("telemetry");
    let grid = civicgrid_grid::Application::build(
        grid_settings,
        civicgrid_grid::config::GridSettings {
            data_key_path: TestKeys::get().data_key_path.clone(),
            ..Default::default()
        },
    )
    .await
    .expect("grid");
    let grid_addr = grid.grpc_addr();
    let grid_pool = grid.pool().clone();
    let shutdown = CancellationToken::new();
    tokio::spawn(grid.run(shutdown.clone()));

    let assessment_db = TestDatabase::create_empty()
        .await
        .expect("assessment database");
    let mut settings = test_settings("assessment", &assessment_db, &broker);
    settings.background_workers = true;
    settings
        .event_sources
        .insert("grid".to_owned(), endpoint(grid_addr));
    let assessment = civicgrid_assessment::Application::build(settings, Default::default())
        .await
        .expect("assessment");
    let pool = assessment.pool().clone();
    tokio::spawn(assessment.run(shutdown.clone()));

    seed(grid_addr).await;
    // The replica must know the cells before tasks count anywhere.
    wait_until(Duration::from_secs(60), || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM cells")
            .fetch_one(&pool)
            .await
            .unwrap_or(0)
            >= 4
    })
    .await
    .expect("assessment applies the grid's cells");

    let channel = tonic::transport::Endpoint::from_shared(endpoint(grid_addr))
        .expect("endpoint")
        .connect()
        .await
        .expect("connect");
    let peak = peak_rate(&channel, peak_concurrency, Duration::from_secs(seconds)).await;
    println!(
        "assessment consuming grid reports: grid peak {peak:.0} reports/s ({peak_concurrency} reporters, {seconds} s), load at half: {:.0}/s",
        peak / 2.0
    );
    drained(&grid_pool, &pool).await;

    let commits = paced(&channel, peak / 2.0, Duration::from_secs(seconds)).await;
    let drain_started = Instant::now();
    let backlog_ok = drained(&grid_pool, &pool).await;
    let drain_ms = drain_started.elapsed().as_millis();

    let applied: Vec<(String, DateTime<Utc>)> = sqlx::query_as(
        "SELECT aggregate_id, applied_at FROM grid_events WHERE routing_key = 'grid.task.reported'",
    )
    .fetch_all(&pool)
    .await
    .expect("applied");
    let applied: HashMap<String, DateTime<Utc>> = applied.into_iter().collect();
    let mut lag = Histogram::<u64>::new(3).expect("histogram");
    for (task, committed) in &commits {
        if let Some(at) = applied.get(task) {
            let micros = (*at - *committed).num_microseconds().unwrap_or(0).max(0);
            lag.record(micros as u64).expect("record");
        }
    }
    // Where the lag goes: the report's transaction start (the outbox row's
    // created_at) to the relay's publish, and the publish to the metric
    // row (broker, consumer, apply).
    let published: Vec<(uuid::Uuid, DateTime<Utc>, Option<DateTime<Utc>>)> = sqlx::query_as(
        "SELECT event_id, created_at, published_at FROM outbox WHERE routing_key = 'grid.task.reported'",
    )
    .fetch_all(&grid_pool)
    .await
    .expect("published");
    // The paced reports only, as the lag above.
    let paced_tasks: std::collections::HashSet<&String> = commits.iter().map(|(t, _)| t).collect();
    let applied_events: HashMap<uuid::Uuid, DateTime<Utc>> =
        sqlx::query_as::<_, (uuid::Uuid, String, DateTime<Utc>)>(
            "SELECT event_id, aggregate_id, applied_at FROM grid_events WHERE routing_key = 'grid.task.reported'",
        )
        .fetch_all(&pool)
        .await
        .expect("applied events")
        .into_iter()
        .filter(|(_, task, _)| paced_tasks.contains(task))
        .map(|(id, _, at)| (id, at))
        .collect();
    let mut relay_lag = Histogram::<u64>::new(3).expect("histogram");
    let mut consume_lag = Histogram::<u64>::new(3).expect("histogram");
    for (event_id, created, published) in &published {
        let (Some(published), Some(applied)) = (published, applied_events.get(event_id)) else {
            continue;
        };
        let micros = |d: chrono::TimeDelta| d.num_microseconds().unwrap_or(0).max(0) as u64;
        relay_lag
            .record(micros(*published - *created))
            .expect("record");
        consume_lag
            .record(micros(*applied - *published))
            .expect("record");
    }
    let ms = |h: &Histogram<u64>, q: f64| h.value_at_quantile(q) as f64 / 1000.0;
    println!(
        "lag in parts: outbox row to published p50 {:.2} ms, p99 {:.2} ms; published to applied p50 {:.2} ms, p99 {:.2} ms",
        ms(&relay_lag, 0.5),
        ms(&relay_lag, 0.99),
        ms(&consume_lag, 0.5),
        ms(&consume_lag, 0.99)
    );
    println!(
        "{:>10} {:>12} {:>12} {:>12} {:>18}",
        "reports", "lag p50 ms", "lag p99 ms", "lag max ms", "backlog after load"
    );
    println!(
        "{:>10} {:>12.2} {:>12.2} {:>12.2} {:>18}",
        lag.len(),
        lag.value_at_quantile(0.50) as f64 / 1000.0,
        lag.value_at_quantile(0.99) as f64 / 1000.0,
        lag.max() as f64 / 1000.0,
        if backlog_ok {
            format!("0 after {drain_ms} ms")
        } else {
            "NOT DRAINED".to_owned()
        }
    );

    let started = Instant::now();
    let mut tx = pool.begin().await.expect("begin");
    let rebuilt = civicgrid_assessment::commands::rebuild_metrics::rebuild_metrics(&mut tx)
        .await
        .expect("replay");
    tx.commit().await.expect("commit");
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "full replay of the event store: {} events of {} tasks in {:.2} s: {:.0} events/s",
        rebuilt.events,
        rebuilt.tasks,
        elapsed,
        rebuilt.events as f64 / elapsed
    );
    shutdown.cancel();
}

/// Whether `check` held within `limit`, asked every 20 ms.
async fn wait_until<F, Fut>(limit: Duration, check: F) -> Option<()>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if check().await {
            return Some(());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    None
}

/// Waits (at most two minutes) until the grid's outbox is empty and
/// assessment stored every task the grid holds; whether it happened.
async fn drained(grid: &sqlx::PgPool, assessment: &sqlx::PgPool) -> bool {
    wait_until(Duration::from_secs(120), || async {
        let backlog = civicgrid_messaging::outbox::backlog(grid)
            .await
            .unwrap_or(1);
        let tasks: i64 = sqlx::query_scalar("SELECT count(*) FROM tasks")
            .fetch_one(grid)
            .await
            .unwrap_or(-1);
        let applied: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM grid_events WHERE routing_key = 'grid.task.reported'",
        )
        .fetch_one(assessment)
        .await
        .unwrap_or(-2);
        backlog == 0 && tasks == applied
    })
    .await
    .is_some()
}

fn report_request() -> tonic::Request<pb::ReportTaskRequest> {
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
    with_token(request, &reporter())
}

fn reporter() -> String {
    use std::sync::OnceLock;
    static TOKEN: OnceLock<String> = OnceLock::new();
    TOKEN
        .get_or_init(|| {
            TestKeys::get().token(
                &[
                    civicgrid_runtime::auth::Role::GridWorker,
                    civicgrid_runtime::auth::Role::CountyAdmin,
                ],
                &["*"],
                None,
            )
        })
        .clone()
}

/// Reports as fast as `concurrency` reporters can; reports per second.
async fn peak_rate(channel: &Channel, concurrency: usize, duration: Duration) -> f64 {
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (stop, channel) = (stop.clone(), channel.clone());
        workers.push(tokio::spawn(async move {
            let mut client = TaskServiceClient::new(channel);
            let mut count = 0u64;
            while !stop.load(Ordering::Relaxed) {
                client.report_task(report_request()).await.expect("report");
                count += 1;
            }
            count
        }));
    }
    tokio::time::sleep(duration).await;
    stop.store(true, Ordering::Relaxed);
    let mut reports = 0;
    for worker in workers {
        reports += worker.await.expect("worker");
    }
    reports as f64 / started.elapsed().as_secs_f64()
}

/// Reports at `rate` per second for `duration`; each task's name and when
/// its commit was seen.
async fn paced(channel: &Channel, rate: f64, duration: Duration) -> Vec<(String, DateTime<Utc>)> {
    let interval = Duration::from_secs_f64(1.0 / rate.max(1.0));
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let commits = Arc::new(Mutex::new(Vec::new()));
    let limit = Arc::new(tokio::sync::Semaphore::new(256));
    let started = Instant::now();
    let mut handles = Vec::new();
    while started.elapsed() < duration {
        ticks.tick().await;
        let permit = limit.clone().acquire_owned().await.expect("semaphore");
        let (channel, commits) = (channel.clone(), commits.clone());
        handles.push(tokio::spawn(async move {
            let mut client = TaskServiceClient::new(channel);
            let task = client
                .report_task(report_request())
                .await
                .expect("report")
                .into_inner()
                .task
                .expect("task");
            let committed = Utc::now();
            commits.lock().await.push((task.name, committed));
            drop(permit);
        }));
    }
    for handle in handles {
        handle.await.expect("reporter");
    }
    Arc::try_unwrap(commits).expect("all done").into_inner()
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
    directory
        .create_category(with_token(
            pb::CreateCategoryRequest {
                category_id: "bench".into(),
                category: Some(pb::Category {
                    display_name: "Bench".into(),
                    ..Default::default()
                }),
            },
            &admin,
        ))
        .await
        .expect("category");
}
