//! `civicgrid county load` end to end: the built binary loading a small
//! county into the four services running in this process, killed half-way
//! and rerun.

#![allow(clippy::unwrap_used)]

use std::process::{Command, Stdio};
use std::time::Duration;

use civicgrid_e2e::{County, Workers};
use civicgrid_runtime::auth::Role;
use civicgrid_testkit::{TestKeys, eventually};
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;

/// The grid's side only (these counties' relays and consumers are driven
/// by the test, so membership would never learn the cells).
fn load(county: &County, seed: &str) -> Command {
    let mut command = load_all(county, seed);
    command.arg("--without-members");
    command
}

fn load_all(county: &County, seed: &str) -> Command {
    load_at(county, seed, "small", "2")
}

fn load_at(county: &County, seed: &str, scale: &str, concurrency: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_civicgrid"));
    command.args([
        "county",
        "load",
        "--scale",
        scale,
        "--seed",
        seed,
        "--quiet",
        "--output",
        "json",
        "--concurrency",
        concurrency,
        "--grid",
        &format!("http://{}", county.grid.addr),
        "--membership",
        &format!("http://{}", county.replicas[0].addr),
        "--centres",
        &format!("http://{}", county.replicas[1].addr),
        "--assessment",
        &format!("http://{}", county.replicas[2].addr),
        // The loader administers the county and, as its streets, rates
        // the departments.
        "--token",
        &TestKeys::get().token(&[Role::CountyAdmin, Role::StreetAdmin], &["*"], None),
    ]);
    command
}

/// What `civicgrid county generate` plans for small scale and `seed`.
fn generated(seed: &str) -> serde_json::Value {
    json(
        &Command::new(env!("CARGO_BIN_EXE_civicgrid"))
            .args([
                "county", "generate", "--scale", "small", "--seed", seed, "--output", "json",
            ])
            .output()
            .unwrap(),
    )
}

/// A county whose services keep small pools. Two whole counties at the
/// services' default (16 connections each) beside `make up`'s running
/// stack passed PostgreSQL's 100 connections: "too many clients", seen by
/// the tests as PoolTimedOut.
async fn small_county(workers: Workers) -> County {
    County::start_with(workers, |settings| settings.database_max_connections = 4).await
}

/// What the four services hold: the grid's cells, compounds, tasks and
/// `grid.task.reported` events; membership's organisations and members;
/// centres' centres, activities (and their `scheduled` events),
/// registrations and check-ins (and their events); assessment's ratings.
async fn everything(county: &County) -> Vec<i64> {
    // Connections of its own, not the services' pools: a count taken
    // while a county's consumers catch up after the kill must not wait for
    // (and time out on) the connections they hold.
    let connect = |url: &str| {
        PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(60))
            .connect_lazy(url)
            .unwrap()
    };
    let one = |pool: &PgPool, sql: &'static str| {
        let pool = pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>(sql)
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    let pools = (
        connect(county.grid.database_url()),
        connect(county.replicas[0].database_url()),
        connect(county.replicas[1].database_url()),
        connect(county.replicas[2].database_url()),
    );
    let (grid, membership, centres, assessment) = (&pools.0, &pools.1, &pools.2, &pools.3);
    vec![
        one(grid, "SELECT count(*) FROM cells").await,
        one(grid, "SELECT count(*) FROM compounds").await,
        one(grid, "SELECT count(*) FROM tasks").await,
        one(
            grid,
            "SELECT count(*) FROM outbox WHERE routing_key = 'grid.task.reported'",
        )
        .await,
        one(membership, "SELECT count(*) FROM organisations").await,
        one(membership, "SELECT count(*) FROM members").await,
        one(membership, "SELECT count(*) FROM unit_reports").await,
        one(membership, "SELECT count(*) FROM member_reports").await,
        one(
            membership,
            "SELECT count(*) FROM outbox WHERE routing_key = 'membership.report.member_registered'",
        )
        .await,
        one(centres, "SELECT count(*) FROM centres").await,
        one(centres, "SELECT count(*) FROM activities").await,
        one(
            centres,
            "SELECT count(*) FROM outbox WHERE routing_key = 'centres.activity.scheduled'",
        )
        .await,
        one(centres, "SELECT count(*) FROM registrations").await,
        one(centres, "SELECT count(*) FROM checkins").await,
        one(
            centres,
            "SELECT count(*) FROM outbox WHERE routing_key = 'centres.checkin.recorded'",
        )
        .await,
        one(assessment, "SELECT count(*) FROM department_ratings").await,
    ]
}

fn json(output: &std::process::Output) -> serde_json::Value {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

fn count_of(report: &serde_json::Value, kind: &str) -> (u64, u64, u64) {
    let c = report["counts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == kind)
        .unwrap();
    (
        c["planned"].as_u64().unwrap(),
        c["created"].as_u64().unwrap(),
        c["existing"].as_u64().unwrap(),
    )
}

// Multi-threaded: the services in this process answer while a thread
// waits for the binary.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_load_killed_half_way_and_rerun_ends_with_the_counts_of_a_clean_load() {
    // Background workers: membership and centres learn the cells, and
    // assessment the tasks, by events, as in production.
    let killed = small_county(Workers::Background).await;
    let clean = small_county(Workers::Background).await;
    let plan = generated("11");
    let planned = |kind| count_of(&plan, kind).0;
    let kinds = [
        "unit reports",
        "member reports",
        "centres",
        "activities",
        "registrations",
        "check-ins",
        "ratings",
    ];
    assert_eq!(planned("centres"), 34);
    assert_eq!(planned("activities"), 102);
    assert!(
        planned("check-ins") > 100 && planned("ratings") > 50,
        "{plan}"
    );

    // Killed while it schedules the activities: some done, some not.
    let mut child = load_all(&killed, "11")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Its own connection, as in `everything`.
    let centres = PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(60))
        .connect_lazy(killed.replicas[1].database_url())
        .unwrap();
    eventually(
        Duration::from_secs(300),
        "some activities scheduled",
        || {
            let centres = centres.clone();
            async move {
                let n: i64 = sqlx::query_scalar("SELECT count(*) FROM activities")
                    .fetch_one(&centres)
                    .await
                    .unwrap();
                (n >= 20).then_some(())
            }
        },
    )
    .await;
    child.kill().unwrap();
    child.wait().unwrap();
    let part = everything(&killed).await;
    assert!(part[10] < 102, "killed before the last activity ({part:?})");

    let rerun = json(&load_all(&killed, "11").output().unwrap());
    assert_eq!(count_of(&rerun, "tasks"), (1_000, 0, 1_000));
    assert_eq!(count_of(&rerun, "cells"), (91, 0, 91));
    assert_eq!(count_of(&rerun, "centres"), (34, 0, 34));
    let (_, created, existing) = count_of(&rerun, "activities");
    assert_eq!(created + existing, 102);
    assert!(existing >= 20, "the rerun found the first run's activities");
    for kind in kinds {
        let (planned_here, created, existing) = count_of(&rerun, kind);
        assert_eq!(planned_here, planned(kind), "{kind}");
        assert_eq!(created + existing, planned(kind), "{kind}");
    }

    let first_clean = json(&load_all(&clean, "11").output().unwrap());
    for kind in kinds {
        // Created, unless an answer lost on a loaded machine was retried
        // and found it there: the services' counts below are exact.
        let (planned_here, created, existing) = count_of(&first_clean, kind);
        assert_eq!(
            (planned_here, created + existing),
            (planned(kind), planned(kind)),
            "{kind}"
        );
        assert!(created > 0, "{kind}");
    }
    let expected = vec![
        91,
        8,
        1_000,
        1_000,
        13,
        40,
        12,
        planned("member reports") as i64,
        planned("member reports") as i64,
        34,
        102,
        102,
        planned("registrations") as i64,
        planned("check-ins") as i64,
        planned("check-ins") as i64,
        planned("ratings") as i64,
    ];
    assert_eq!(everything(&clean).await, expected);
    assert_eq!(everything(&killed).await, expected, "no duplicates");

    // And a third run changes nothing.
    let again = json(&load_all(&clean, "11").output().unwrap());
    for kind in ["tasks", "members"].into_iter().chain(kinds) {
        let (planned_here, created, existing) = count_of(&again, kind);
        assert_eq!((created, existing), (0, planned_here), "{kind}");
    }
    assert_eq!(everything(&clean).await, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_load_puts_tasks_in_every_state_spread_over_the_months_behind_us() {
    let county = small_county(Workers::Driven).await;
    json(&load(&county, "3").output().unwrap());
    let states: Vec<(i16, i64)> =
        sqlx::query_as("SELECT state, count(*) FROM tasks GROUP BY state ORDER BY state")
            .fetch_all(&county.grid.pool)
            .await
            .unwrap();
    // Reported, accepted, in progress, whistled, resolved?, closed, rejected...
    let present: Vec<i16> = states.iter().map(|(s, _)| *s).collect();
    assert!(present.len() >= 6, "states {states:?}");
    let (oldest, imported): (chrono::DateTime<chrono::Utc>, i64) =
        sqlx::query_as("SELECT min(create_time), count(*) FILTER (WHERE imported) FROM tasks")
            .fetch_one(&county.grid.pool)
            .await
            .unwrap();
    assert!(oldest < chrono::Utc::now() - chrono::Duration::days(60));
    assert_eq!(imported, 1_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_load_registers_the_party_organisations_and_members_once_even_when_rerun() {
    let county = small_county(Workers::Background).await;
    let first = json(&load_all(&county, "5").output().unwrap());
    // The county committee, 2 street committees, 4 community committees
    // and each street's 3 work units.
    assert_eq!(count_of(&first, "organisations"), (13, 13, 0));
    assert_eq!(count_of(&first, "members"), (40, 40, 0));
    // Each work unit reports to both communities of its street.
    assert_eq!(count_of(&first, "unit reports"), (12, 12, 0));
    let (reporting, created, _) = count_of(&first, "member reports");
    assert!(reporting > 0 && reporting < 40, "{first}");
    assert_eq!(created, reporting);
    let again = json(&load_all(&county, "5").output().unwrap());
    assert_eq!(count_of(&again, "organisations"), (13, 0, 13));
    assert_eq!(count_of(&again, "members"), (40, 0, 40));
    assert_eq!(count_of(&again, "unit reports"), (12, 0, 12));
    assert_eq!(
        count_of(&again, "member reports"),
        (reporting, 0, reporting)
    );
    let pool = &county.replicas[0].pool;
    let members: i64 = sqlx::query_scalar("SELECT count(*) FROM members")
        .fetch_one(pool)
        .await
        .unwrap();
    let registered: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM outbox WHERE routing_key = 'membership.member.registered'",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!((members, registered), (40, 40));
    // Every reporting member is in service at a work unit of their street,
    // and reports to the community of their organisation of record.
    let (reports, in_service, at_home): (i64, i64, i64) = sqlx::query_as(
        "SELECT count(*), count(r.work_unit_id), \
                count(*) FILTER (WHERE o.id = r.community_id || '-pc') \
         FROM member_reports r JOIN members m ON m.id = r.member_id \
         JOIN organisations o ON o.id = m.organisation_id",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!(
        (reports, in_service, at_home),
        (reporting as i64, reporting as i64, reporting as i64)
    );
}

/// How long `make up`'s load takes: run once with `--run-ignored only`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "minutes: measures the demo scale's load, for make up"]
async fn the_demo_scale_loads_completely_into_a_test_county() {
    let county = small_county(Workers::Background).await;
    let started = std::time::Instant::now();
    let report = json(&load_at(&county, "2026", "demo", "4").output().unwrap());
    eprintln!(
        "demo load: {:.1}s\n{report:#}",
        started.elapsed().as_secs_f64()
    );
    for kind in [
        "cells",
        "compounds",
        "tasks",
        "organisations",
        "members",
        "unit reports",
        "member reports",
        "centres",
        "activities",
        "registrations",
        "check-ins",
        "ratings",
    ] {
        // A batch whose answer was lost on a loaded machine and retried
        // counts as already there: created and existing add up.
        let (planned, created, existing) = count_of(&report, kind);
        assert_eq!(created + existing, planned, "{kind}");
    }
}
