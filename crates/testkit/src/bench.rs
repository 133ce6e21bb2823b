//! What every `make bench` harness shares: its settings from the
//! environment and pgbench, the raw PostgreSQL figure each bench prints
//! beside its own, run on the same server in the same run.

use std::sync::Arc;

use crate::TestDatabase;

/// The number in environment variable `name`, or `default` when unset or
/// not a number.
pub fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// pgbench's tps for `script` (a pgbench script: SQL and `\set` lines) on
/// `db` at `clients` for `seconds`. It runs off the runtime's workers, so
/// a service in this process keeps them while pgbench runs; 0 when
/// pgbench printed no rate.
pub async fn pgbench_tps(
    db: Arc<TestDatabase>,
    script: String,
    clients: usize,
    seconds: u64,
) -> f64 {
    tokio::task::spawn_blocking(move || run(&db.name, &script, clients, seconds))
        .await
        .expect("pgbench thread")
}

fn run(database: &str, script: &str, clients: usize, seconds: u64) -> f64 {
    let file = tempfile::NamedTempFile::new().expect("pgbench script file");
    std::fs::write(file.path(), script).expect("write pgbench script");
    let jobs = clients.min(2).to_string();
    let output = std::process::Command::new("pgbench")
        .args([
            "-n",
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-c",
            &clients.to_string(),
            "-j",
            &jobs,
            "-T",
            &seconds.to_string(),
            "-f",
        ])
        .arg(file.path())
        .arg(database)
        .output()
        .expect("pgbench (Debian package postgresql) must be installed");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .find(|line| line.starts_with("tps = "))
        .and_then(|line| line.trim_start_matches("tps = ").split_whitespace().next())
        .and_then(|tps| tps.parse().ok())
        .unwrap_or(0.0)
}
