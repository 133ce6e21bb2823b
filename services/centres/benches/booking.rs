//! `make bench`: the zone-booking rate (gRPC call to commit: auth,
//! validation, opening hours, the zone's queue, the exclusion constraint and
//! the outbox row) and its p50/p99 latency, on distinct rooms (every client
//! its own zone) and under contention (every client the same zone, each
//! booking a range of its own), beside pgbench running the equivalent
//! insert (a booking into a table with the same btree_gist exclusion
//! constraint plus an outbox row, in one transaction) in the same run.
//!
//! BENCH_SECONDS (default 10) sets how long each side runs per scenario and
//! concurrency, in alternating rounds of BENCH_ROUND_SECONDS (default 2);
//! BENCH_CONCURRENCY (default "1,8,32") the concurrencies.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use civicgrid_centres::Application;
use civicgrid_host::Service;
use civicgrid_proto::centres::v1 as pb;
use civicgrid_proto::centres::v1::centres_service_client::CentresServiceClient;
use civicgrid_runtime::CancellationToken;
use civicgrid_testkit::bench::{env_number, pgbench_tps};
use civicgrid_testkit::{TestBroker, TestDatabase, TestKeys, endpoint, test_settings, with_token};
use hdrhistogram::Histogram;

/// Zones of the bench centre: one per client on distinct rooms.
const ZONES: usize = 64;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(run());
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Scenario {
    DistinctRooms,
    OneRoom,
}

impl Scenario {
    fn label(self) -> &'static str {
        match self {
            Scenario::DistinctRooms => "distinct rooms",
            Scenario::OneRoom => "one room",
        }
    }
}

async fn run() {
    let seconds: u64 = env_number("BENCH_SECONDS", 10).max(1);
    let round_seconds: u64 = env_number("BENCH_ROUND_SECONDS", 2).clamp(1, seconds);
    let rounds = seconds / round_seconds;
    let levels: Vec<usize> = std::env::var("BENCH_CONCURRENCY")
        .unwrap_or_else(|_| "1,8,32".to_owned())
        .split(',')
        .filter_map(|c| c.trim().parse().ok())
        .filter(|c| (1..=ZONES).contains(c))
        .collect();
    let round = Duration::from_secs(round_seconds);

    let db = TestDatabase::create_empty().await.expect("database");
    let broker = TestBroker::new();
    let mut settings = test_settings("centres", &db, &broker);
    // Nothing here reads the grid's log: background workers stay off (so
    // the replica's catch-up and its queues are never started on the shared
    // broker); the outbox rows are still written in every booking.
    settings
        .event_sources
        .insert("grid".to_owned(), "http://127.0.0.1:1".to_owned());
    let _telemetry =
        civicgrid_runtime::telemetry::init("centres", &settings.log_filter).expect("telemetry");
    let app = Application::build(settings, Default::default())
        .await
        .expect("centres");
    let addr = app.grpc_addr();
    seed(app.pool()).await;
    let shutdown = CancellationToken::new();
    tokio::spawn(app.run(shutdown.clone()));
    create_centre(addr).await;

    let pg = Arc::new(
        TestDatabase::create_empty()
            .await
            .expect("pgbench database"),
    );
    prepare_pgbench(&pg).await;

    println!(
        "CreateBooking over gRPC (auth, hours, zone queue, exclusion constraint, outbox) vs pgbench booking + outbox insert"
    );
    println!(
        "{} s each per scenario and concurrency, alternating in {} s rounds; outbox rows written, relay off\n",
        rounds * round_seconds,
        round_seconds
    );
    println!(
        "{:>15} {:>11} {:>12} {:>10} {:>10} {:>14} {:>7}",
        "scenario", "concurrency", "bookings/s", "p50 ms", "p99 ms", "pgbench tps", "ratio"
    );
    // One counter hands every booking its own minute, so no booking of the
    // bench overlaps another and every call commits.
    let slots = Arc::new(AtomicU64::new(0));
    drive(
        addr,
        Scenario::DistinctRooms,
        1,
        Duration::from_secs(1),
        &slots,
    )
    .await;
    pgbench(pg.clone(), Scenario::DistinctRooms, 1, 1).await;
    for scenario in [Scenario::DistinctRooms, Scenario::OneRoom] {
        for &concurrency in &levels {
            let (mut bookings, mut elapsed, mut tps_sum) = (0u64, 0f64, 0f64);
            let mut histogram = Histogram::<u64>::new(3).expect("histogram");
            for _ in 0..rounds {
                let run = drive(addr, scenario, concurrency, round, &slots).await;
                bookings += run.bookings;
                elapsed += run.elapsed;
                histogram.add(run.histogram).expect("merge");
                tps_sum += pgbench(pg.clone(), scenario, concurrency, round_seconds).await;
            }
            let rate = bookings as f64 / elapsed;
            let tps = tps_sum / rounds as f64;
            println!(
                "{:>15} {:>11} {:>12.0} {:>10.2} {:>10.2} {:>14.0} {:>7.2}",
                scenario.label(),
                concurrency,
                rate,
                histogram.value_at_quantile(0.50) as f64 / 1000.0,
                histogram.value_at_quantile(0.99) as f64 / 1000.0,
                tps,
                if tps > 0.0 { rate / tps } else { 0.0 }
            );
        }
    }
    shutdown.cancel();
}

/// A county, street and community in the replica, as the grid's events
/// would leave them.
async fn seed(pool: &sqlx::PgPool) {
    for (id, parent, level, path) in [
        ("c", None, 1i16, "/c/"),
        ("s", Some("c"), 2, "/c/s/"),
        ("m", Some("s"), 3, "/c/s/m/"),
    ] {
        sqlx::query(
            "INSERT INTO cells (id, parent_id, level, display_name, path, version, create_time, update_time) \
             VALUES ($1, $2, $3, $1, $4, 1, now(), now())",
        )
        .bind(id)
        .bind(parent)
        .bind(level)
        .bind(path)
        .execute(pool)
        .await
        .expect("cell");
    }
}

/// A community centre open all day every day with [`ZONES`] zones.
async fn create_centre(addr: std::net::SocketAddr) {
    let mut client = CentresServiceClient::connect(endpoint(addr))
        .await
        .expect("connect");
    let centre = pb::Centre {
        display_name: "Bench centre".into(),
        category: pb::CentreCategory::Community as i32,
        owner_organisation: "organisations/bench".into(),
        cell: "cells/m".into(),
        floor_area_square_metres: 1000,
        opening_hours: (1..=7)
            .map(|weekday| pb::OpeningPeriod {
                weekday,
                opens: "00:00".into(),
                closes: "24:00".into(),
                kind: pb::OpeningKind::Regular as i32,
            })
            .collect(),
        zones: (0..ZONES)
            .map(|z| pb::Zone {
                zone_id: format!("z{z}"),
                display_name: format!("Room {z}"),
                function: pb::CentreFunction::PartyMassActivity as i32,
                area_square_metres: 20,
                capacity: 10,
            })
            .collect(),
        ..Default::default()
    };
    client
        .create_centre(with_token(
            pb::CreateCentreRequest {
                centre_id: "bench".into(),
                centre: Some(centre),
                request_id: String::new(),
            },
            &TestKeys::get().county_admin(),
        ))
        .await
        .expect("centre");
}

/// The `n`th one-minute range, within one local day (never across midnight).
fn slot(n: u64) -> (prost_types::Timestamp, prost_types::Timestamp) {
    let base: DateTime<Utc> = DateTime::parse_from_rfc3339("2027-01-04T00:00:00+08:00")
        .expect("base")
        .with_timezone(&Utc);
    let (day, minute) = (n / 1439, n % 1439);
    let start =
        base + chrono::Duration::days(day as i64) + chrono::Duration::minutes(minute as i64);
    let at = |t: DateTime<Utc>| prost_types::Timestamp {
        seconds: t.timestamp(),
        nanos: 0,
    };
    (at(start), at(start + chrono::Duration::minutes(1)))
}

struct Round {
    bookings: u64,
    elapsed: f64,
    histogram: Histogram<u64>,
}

/// Books as fast as `concurrency` clients can for `duration`.
async fn drive(
    addr: std::net::SocketAddr,
    scenario: Scenario,
    concurrency: usize,
    duration: Duration,
    slots: &Arc<AtomicU64>,
) -> Round {
    let token = TestKeys::get().county_admin();
    let stop = Arc::new(AtomicBool::new(false));
    let channel = tonic::transport::Endpoint::from_shared(endpoint(addr))
        .expect("endpoint")
        .connect()
        .await
        .expect("connect");
    let started = Instant::now();
    let mut workers = Vec::new();
    for worker in 0..concurrency {
        let (stop, channel, slots) = (stop.clone(), channel.clone(), slots.clone());
        let bearer: tonic::metadata::MetadataValue<tonic::metadata::Ascii> =
            format!("Bearer {token}").parse().expect("a token is ASCII");
        let zone = match scenario {
            Scenario::DistinctRooms => format!("z{worker}"),
            Scenario::OneRoom => "z0".to_owned(),
        };
        workers.push(tokio::spawn(async move {
            let mut client = CentresServiceClient::new(channel);
            let mut histogram = Histogram::<u64>::new(3).expect("histogram");
            let mut count = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let (start, end) = slot(slots.fetch_add(1, Ordering::Relaxed));
                let request = pb::CreateBookingRequest {
                    parent: "centres/bench".into(),
                    booking: Some(pb::Booking {
                        zone_id: zone.clone(),
                        start_time: Some(start),
                        end_time: Some(end),
                        purpose: "Branch meeting".into(),
                        ..Default::default()
                    }),
                    request_id: uuid::Uuid::new_v4().to_string(),
                };
                let sent = Instant::now();
                let mut request = tonic::Request::new(request);
                request
                    .metadata_mut()
                    .insert("authorization", bearer.clone());
                client.create_booking(request).await.expect("booking");
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
    let mut bookings = 0;
    let mut merged = Histogram::<u64>::new(3).expect("histogram");
    for worker in workers {
        let (count, histogram) = worker.await.expect("worker");
        bookings += count;
        merged.add(histogram).expect("merge");
    }
    Round {
        bookings,
        elapsed: started.elapsed().as_secs_f64(),
        histogram: merged,
    }
}

async fn prepare_pgbench(db: &TestDatabase) {
    for statement in [
        "CREATE EXTENSION IF NOT EXISTS btree_gist",
        "CREATE SEQUENCE bench_slots",
        "CREATE TABLE bench_bookings (id UUID PRIMARY KEY, zone_id TEXT NOT NULL, during TSTZRANGE NOT NULL, \
           purpose TEXT NOT NULL, state TEXT NOT NULL, request_id UUID UNIQUE, create_time TIMESTAMPTZ NOT NULL, \
           EXCLUDE USING gist (zone_id WITH =, during WITH &&) WHERE (state = 'confirmed'))",
        "CREATE TABLE bench_outbox (id BIGSERIAL PRIMARY KEY, event_id UUID NOT NULL UNIQUE, routing_key TEXT NOT NULL, \
           payload BYTEA NOT NULL, created_at TIMESTAMPTZ NOT NULL DEFAULT now(), published_at TIMESTAMPTZ)",
    ] {
        sqlx::query(statement)
            .execute(&db.pool)
            .await
            .expect("create bench table");
    }
}

async fn pgbench(db: Arc<TestDatabase>, scenario: Scenario, clients: usize, seconds: u64) -> f64 {
    let zone = match scenario {
        Scenario::DistinctRooms => "'z' || :client_id",
        Scenario::OneRoom => "'z0'",
    };
    let script = format!(
        "BEGIN;\n\
         INSERT INTO bench_bookings VALUES (gen_random_uuid(), {zone}, \
           tstzrange('2027-01-04'::timestamptz + nextval('bench_slots') * interval '1 minute', \
                     '2027-01-04'::timestamptz + (currval('bench_slots') + 1) * interval '1 minute'), \
           'Branch meeting', 'confirmed', gen_random_uuid(), now());\n\
         INSERT INTO bench_outbox (event_id, routing_key, payload) VALUES (gen_random_uuid(), 'centres.booking.confirmed', '\\x0a0b0c');\n\
         END;\n"
    );
    pgbench_tps(db, script, clients, seconds).await
}
