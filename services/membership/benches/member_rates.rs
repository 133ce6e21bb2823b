//! `make bench`: member lookup by ID number (through the blind index) and
//! member registration (sealing, blind index, outbox row), over gRPC at
//! several concurrencies, each beside what pgbench does straight against
//! PostgreSQL in the same run: a primary-key select of an equally wide
//! row, and an insert of the sealed row plus an outbox row in one
//! transaction. Ratios are the service's rate over pgbench's.
//!
//! BENCH_SECONDS (default 10) sets how long each side runs per workload
//! and concurrency, in alternating rounds of BENCH_ROUND_SECONDS (default
//! 2); BENCH_CONCURRENCY (default "1,8,32") the concurrencies;
//! BENCH_MEMBERS (default 20000) how many members are registered (by
//! ImportMembers) before the lookups.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use civicgrid_host::Service;
use civicgrid_membership::Application;
use civicgrid_membership::domain::id_number::check_character;
use civicgrid_proto::membership::v1 as pb;
use civicgrid_proto::membership::v1::membership_service_client::MembershipServiceClient;
use civicgrid_runtime::CancellationToken;
use civicgrid_testkit::bench::{env_number, pgbench_tps};
use civicgrid_testkit::{TestBroker, TestDatabase, TestKeys, endpoint, test_settings, with_token};
use hdrhistogram::Histogram;
use tonic::transport::Channel;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(run());
}

/// The `n`th valid ID number: region 110105, born on the `n / 1000`th day
/// after 1950-01-01, sequence `n % 1000`.
fn id_number(n: u64) -> String {
    let born = chrono::NaiveDate::from_ymd_opt(1950, 1, 1).expect("date")
        + chrono::Duration::days(i64::try_from(n / 1000).expect("small"));
    let body = format!("110105{}{:03}", born.format("%Y%m%d"), n % 1000);
    let check = check_character(body.as_bytes());
    format!("{body}{}", char::from(check))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Workload {
    Lookup,
    Register,
}

async fn run() {
    let seconds: u64 = env_number("BENCH_SECONDS", 10).max(1);
    let round_seconds: u64 = env_number("BENCH_ROUND_SECONDS", 2).clamp(1, seconds);
    let rounds = seconds / round_seconds;
    let members = env_number("BENCH_MEMBERS", 20_000).max(1);
    let levels: Vec<usize> = std::env::var("BENCH_CONCURRENCY")
        .unwrap_or_else(|_| "1,8,32".to_owned())
        .split(',')
        .filter_map(|c| c.trim().parse().ok())
        .collect();
    let round = Duration::from_secs(round_seconds);

    let db = TestDatabase::create_empty().await.expect("database");
    let broker = TestBroker::new();
    let mut settings = test_settings("membership", &db, &broker);
    // The service's own telemetry, as its binary installs it: the
    // benchmark pays what production pays.
    let _telemetry =
        civicgrid_runtime::telemetry::init("membership", &settings.log_filter).expect("telemetry");
    settings.background_workers = false;
    settings
        .event_sources
        .insert("grid".to_owned(), "http://127.0.0.1:1".to_owned());
    let config = civicgrid_membership::config::MembershipSettings {
        membership_data_key_path: TestKeys::get().data_key_path.clone(),
        ..Default::default()
    };
    let app = Application::build(settings, config)
        .await
        .expect("membership");
    let addr = app.grpc_addr();
    let pool = app.pool().clone();
    let shutdown = CancellationToken::new();
    tokio::spawn(app.run(shutdown.clone()));
    seed(addr, &pool, members).await;

    let pg = Arc::new(
        TestDatabase::create_empty()
            .await
            .expect("pgbench database"),
    );
    prepare_pgbench(&pg, members).await;

    println!(
        "member lookup by ID number (blind index) vs pgbench primary-key select; \
         member registration (sealed, indexed, outbox row) vs pgbench insert + outbox insert"
    );
    println!(
        "{} s each per workload and concurrency, alternating in {} s rounds; {members} members\n",
        rounds * round_seconds,
        round_seconds
    );
    println!(
        "{:>10} {:>11} {:>10} {:>9} {:>9} {:>13} {:>7}",
        "workload", "concurrency", "calls/s", "p50 ms", "p99 ms", "pgbench tps", "ratio"
    );
    let next = Arc::new(AtomicU64::new(members));
    drive(
        addr,
        Workload::Lookup,
        1,
        Duration::from_secs(1),
        members,
        &next,
    )
    .await;
    pgbench(pg.clone(), Workload::Lookup, 1, 1, members).await;
    for workload in [Workload::Lookup, Workload::Register] {
        for &concurrency in &levels {
            let (mut calls, mut elapsed, mut tps_sum) = (0u64, 0f64, 0f64);
            let mut histogram = Histogram::<u64>::new(3).expect("histogram");
            for _ in 0..rounds {
                let run = drive(addr, workload, concurrency, round, members, &next).await;
                calls += run.calls;
                elapsed += run.elapsed;
                histogram.add(run.histogram).expect("merge");
                tps_sum += pgbench(pg.clone(), workload, concurrency, round_seconds, members).await;
            }
            let rate = calls as f64 / elapsed;
            let tps = tps_sum / rounds as f64;
            println!(
                "{:>10} {:>11} {:>10.0} {:>9.2} {:>9.2} {:>13.0} {:>7.2}",
                match workload {
                    Workload::Lookup => "lookup",
                    Workload::Register => "register",
                },
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

/// A county cell in the replica, its committee, and `members` members
/// registered by ImportMembers in rolls of 5000.
async fn seed(addr: SocketAddr, pool: &sqlx::PgPool, members: u64) {
    // The grid is not running: its one cell goes into the replica as the
    // replica consumer would write it.
    sqlx::query(
        "INSERT INTO cells (id, parent_id, level, display_name, path, version, create_time, update_time) \
         VALUES ('c', NULL, 1, 'County', '/c/', 1, now(), now())",
    )
    .execute(pool)
    .await
    .expect("cell");
    let admin = TestKeys::get().county_admin();
    let mut client = MembershipServiceClient::connect(endpoint(addr))
        .await
        .expect("connect");
    client
        .create_organisation(with_token(
            pb::CreateOrganisationRequest {
                organisation_id: "cc".into(),
                organisation: Some(pb::Organisation {
                    display_name: "County committee".into(),
                    kind: pb::OrganisationKind::CountyCommittee as i32,
                    cell: "cells/c".into(),
                    ..Default::default()
                }),
                request_id: String::new(),
            },
            &admin,
        ))
        .await
        .expect("organisation");
    let mut n = 0;
    while n < members {
        let end = (n + 5000).min(members);
        let mut roll = String::from(
            "full_name,id_number,phone,organisation,standing,flow_member,residence_cell,work_unit\n",
        );
        for i in n..end {
            roll.push_str(&format!(
                "党员{i},{},139{:08},cc,full,,,\n",
                id_number(i),
                i % 100_000_000
            ));
        }
        client
            .import_members(with_token(
                pb::ImportMembersRequest {
                    content: roll.into_bytes(),
                    validate_only: false,
                },
                &admin,
            ))
            .await
            .expect("import");
        n = end;
    }
}

/// One measured round of the gRPC side.
struct Round {
    calls: u64,
    elapsed: f64,
    histogram: Histogram<u64>,
}

/// Callers sharing one HTTP/2 connection.
const CLIENTS_PER_CONNECTION: usize = 4;

/// Calls as fast as `concurrency` clients can for `duration`: lookups of
/// random seeded members, or registrations of new numbers from `next`.
async fn drive(
    addr: SocketAddr,
    workload: Workload,
    concurrency: usize,
    duration: Duration,
    members: u64,
    next: &Arc<AtomicU64>,
) -> Round {
    let token = TestKeys::get().county_admin();
    let stop = Arc::new(AtomicBool::new(false));
    // A client pool as integrators run one: an HTTP/2 connection per
    // CLIENTS_PER_CONNECTION callers. On one connection every frame of
    // every caller passes through that connection's single task on both
    // sides, which caps the rate however many callers wait.
    let mut channels: Vec<Channel> = Vec::new();
    for _ in 0..concurrency.div_ceil(CLIENTS_PER_CONNECTION) {
        channels.push(
            tonic::transport::Endpoint::from_shared(endpoint(addr))
                .expect("endpoint")
                .tcp_nodelay(true)
                .connect()
                .await
                .expect("connect"),
        );
    }
    let started = Instant::now();
    let mut workers = Vec::new();
    for worker in 0..concurrency {
        let channel = channels[worker / CLIENTS_PER_CONNECTION].clone();
        let (stop, next) = (stop.clone(), next.clone());
        // Made once, as a real client keeps its credentials, not per call.
        let bearer: tonic::metadata::MetadataValue<tonic::metadata::Ascii> =
            format!("Bearer {token}").parse().expect("a token is ASCII");
        workers.push(tokio::spawn(async move {
            let mut client = MembershipServiceClient::new(channel);
            let mut histogram = Histogram::<u64>::new(3).expect("histogram");
            let mut count = 0u64;
            // A cheap per-worker sequence spreads lookups over the roll.
            let mut pick = (worker as u64).wrapping_mul(7919) % members;
            while !stop.load(Ordering::Relaxed) {
                let sent = Instant::now();
                match workload {
                    Workload::Lookup => {
                        pick = (pick + 104_729) % members;
                        let mut request = tonic::Request::new(pb::LookupMemberRequest {
                            id_number: id_number(pick),
                        });
                        request
                            .metadata_mut()
                            .insert("authorization", bearer.clone());
                        client.lookup_member(request).await.expect("lookup");
                    }
                    Workload::Register => {
                        let n = next.fetch_add(1, Ordering::Relaxed);
                        let mut request = tonic::Request::new(pb::RegisterMemberRequest {
                            member: Some(pb::Member {
                                full_name: "王小明".into(),
                                id_number: id_number(n),
                                phone: format!("138{:08}", n % 100_000_000),
                                organisation: "organisations/cc".into(),
                                standing: pb::Standing::Full as i32,
                                ..Default::default()
                            }),
                            request_id: String::new(),
                        });
                        request
                            .metadata_mut()
                            .insert("authorization", bearer.clone());
                        client.register_member(request).await.expect("register");
                    }
                }
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
    let mut calls = 0;
    let mut merged = Histogram::<u64>::new(3).expect("histogram");
    for worker in workers {
        let (count, histogram) = worker.await.expect("worker");
        calls += count;
        merged.add(histogram).expect("merge");
    }
    Round {
        calls,
        elapsed: started.elapsed().as_secs_f64(),
        histogram: merged,
    }
}

/// A table shaped like `members` (sealed values of the same sizes) with
/// `members` rows keyed 1..=members, and an outbox like the service's.
async fn prepare_pgbench(db: &TestDatabase, members: u64) {
    for statement in [
        "CREATE TABLE bench_members (id BIGSERIAL PRIMARY KEY, full_name_sealed BYTEA NOT NULL, \
           id_number_sealed BYTEA NOT NULL, id_number_index BYTEA NOT NULL UNIQUE, phone_sealed BYTEA NOT NULL, \
           organisation_id TEXT NOT NULL, standing SMALLINT NOT NULL, flow_member BOOLEAN NOT NULL, \
           version BIGINT NOT NULL, create_time TIMESTAMPTZ NOT NULL, update_time TIMESTAMPTZ NOT NULL)",
        "CREATE TABLE bench_outbox (id BIGSERIAL PRIMARY KEY, event_id UUID NOT NULL UNIQUE, routing_key TEXT NOT NULL, \
           payload BYTEA NOT NULL, created_at TIMESTAMPTZ NOT NULL DEFAULT now(), published_at TIMESTAMPTZ)",
    ] {
        sqlx::query(statement)
            .execute(&db.pool)
            .await
            .expect("create bench table");
    }
    sqlx::query(
        "INSERT INTO bench_members (full_name_sealed, id_number_sealed, id_number_index, phone_sealed, \
           organisation_id, standing, flow_member, version, create_time, update_time) \
         SELECT decode(repeat('ab', 37), 'hex'), decode(repeat('cd', 46), 'hex'), sha256(i::text::bytea), \
           decode(repeat('ef', 39), 'hex'), 'cc', 1, false, 1, now(), now() FROM generate_series(1, $1) AS i",
    )
    .bind(i64::try_from(members).expect("small"))
    .execute(&db.pool)
    .await
    .expect("fill bench table");
}

/// pgbench's tps for the workload's statement at `clients`.
async fn pgbench(
    db: Arc<TestDatabase>,
    workload: Workload,
    clients: usize,
    seconds: u64,
    members: u64,
) -> f64 {
    let script = match workload {
        Workload::Lookup => format!(
            "\\set id random(1, {members})\n\
             SELECT * FROM bench_members WHERE id = :id;\n"
        ),
        Workload::Register => "BEGIN;\n\
             INSERT INTO bench_members (full_name_sealed, id_number_sealed, id_number_index, phone_sealed, \
               organisation_id, standing, flow_member, version, create_time, update_time) \
             VALUES (decode(repeat('ab', 37), 'hex'), decode(repeat('cd', 46), 'hex'), \
               sha256(gen_random_uuid()::text::bytea), decode(repeat('ef', 39), 'hex'), 'cc', 1, false, 1, now(), now());\n\
             INSERT INTO bench_outbox (event_id, routing_key, payload) \
             VALUES (gen_random_uuid(), 'membership.member.registered', decode(repeat('0a', 180), 'hex'));\n\
             END;\n"
            .to_owned(),
    };
    pgbench_tps(db, script, clients, seconds).await
}
