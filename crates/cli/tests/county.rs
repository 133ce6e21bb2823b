//! `civicgrid county load` end to end: the built binary loading a small
//! county into a grid running in this process, killed half-way and rerun.

#![allow(clippy::unwrap_used)]

use std::process::{Command, Stdio};
use std::time::Duration;

use civicgrid_e2e::{County, Workers};
use civicgrid_testkit::{TestKeys, eventually};
use sqlx::PgPool;

/// The grid's side only (these counties' relays and consumers are driven
/// by the test, so membership would never learn the cells).
fn load(county: &County, seed: &str) -> Command {
    let mut command = load_all(county, seed);
    command.arg("--without-members");
    command
}

fn load_all(county: &County, seed: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_civicgrid"));
    command.args([
        "county",
        "load",
        "--scale",
        "small",
        "--seed",
        seed,
        "--quiet",
        "--output",
        "json",
        "--concurrency",
        "2",
        "--grid",
        &format!("http://{}", county.grid.addr),
        "--membership",
        &format!("http://{}", county.replicas[0].addr),
        "--token",
        &TestKeys::get().county_admin(),
    ]);
    command
}

/// (cells, compounds, tasks, `grid.task.reported` events) in the grid.
async fn counts(pool: &PgPool) -> (i64, i64, i64, i64) {
    let one = |sql: &'static str| async move {
        sqlx::query_scalar::<_, i64>(sql)
            .fetch_one(pool)
            .await
            .unwrap()
    };
    (
        one("SELECT count(*) FROM cells").await,
        one("SELECT count(*) FROM compounds").await,
        one("SELECT count(*) FROM tasks").await,
        one("SELECT count(*) FROM outbox WHERE routing_key = 'grid.task.reported'").await,
    )
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

// Multi-threaded: the grid in this process answers while a thread waits
// for the binary.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_load_killed_half_way_and_rerun_ends_with_the_counts_of_a_clean_load() {
    let killed = County::start(Workers::Driven).await;
    let clean = County::start(Workers::Driven).await;

    let mut child = load(&killed, "11")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    eventually(Duration::from_secs(120), "some tasks loaded", || async {
        (counts(&killed.grid.pool).await.2 >= 100).then_some(())
    })
    .await;
    child.kill().unwrap();
    child.wait().unwrap();
    let (_, _, part, _) = counts(&killed.grid.pool).await;
    assert!(part < 1_000, "killed before the end ({part} tasks)");

    let rerun = json(&load(&killed, "11").output().unwrap());
    let (planned, created, existing) = count_of(&rerun, "tasks");
    assert_eq!(planned, 1_000);
    assert_eq!(created + existing, 1_000);
    assert!(existing >= 100, "the rerun found the first run's tasks");
    assert_eq!(count_of(&rerun, "cells"), (91, 0, 91));

    let first_clean = json(&load(&clean, "11").output().unwrap());
    assert_eq!(count_of(&first_clean, "tasks"), (1_000, 1_000, 0));
    assert_eq!(
        counts(&killed.grid.pool).await,
        counts(&clean.grid.pool).await
    );
    assert_eq!(counts(&clean.grid.pool).await, (91, 8, 1_000, 1_000));

    // And a third run changes nothing.
    let again = json(&load(&clean, "11").output().unwrap());
    assert_eq!(count_of(&again, "tasks"), (1_000, 0, 1_000));
    assert_eq!(counts(&clean.grid.pool).await, (91, 8, 1_000, 1_000));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_load_puts_tasks_in_every_state_spread_over_the_months_behind_us() {
    let county = County::start(Workers::Driven).await;
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
    let county = County::start(Workers::Background).await;
    let first = json(&load_all(&county, "5").output().unwrap());
    assert_eq!(count_of(&first, "organisations"), (7, 7, 0));
    assert_eq!(count_of(&first, "members"), (40, 40, 0));
    let again = json(&load_all(&county, "5").output().unwrap());
    assert_eq!(count_of(&again, "organisations"), (7, 0, 7));
    assert_eq!(count_of(&again, "members"), (40, 0, 40));
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
}
