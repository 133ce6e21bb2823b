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

/// pgbench's average latency in milliseconds for `script` on the database
/// named `database` at `clients` for `seconds`, run on this thread; `None`
/// when pgbench printed no latency.
pub fn pgbench_latency_ms(
    database: &str,
    script: &str,
    clients: usize,
    seconds: u64,
) -> Option<f64> {
    figure(
        &pgbench_output(database, script, clients, seconds),
        "latency average = ",
    )
}

fn run(database: &str, script: &str, clients: usize, seconds: u64) -> f64 {
    figure(
        &pgbench_output(database, script, clients, seconds),
        "tps = ",
    )
    .unwrap_or(0.0)
}

/// The number after `label` at the start of a line of pgbench's report.
fn figure(output: &str, label: &str) -> Option<f64> {
    output
        .lines()
        .find_map(|line| line.strip_prefix(label))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|number| number.parse().ok())
}

/// What pgbench prints for `script` against `database` (no vacuum, `-j`
/// at most the machine's two cores).
fn pgbench_output(database: &str, script: &str, clients: usize, seconds: u64) -> String {
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
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[cfg(test)]
mod tests {
    use super::figure;

    #[test]
    fn figures_are_read_from_pgbench_report_lines() {
        let report = "number of failed transactions: 0 (0.000%)\n\
                      latency average = 0.193 ms\n\
                      initial connection time = 3.1 ms\n\
                      tps = 5168.420 (without initial connection time)\n";
        assert_eq!(figure(report, "tps = "), Some(5168.42));
        assert_eq!(figure(report, "latency average = "), Some(0.193));
        assert_eq!(figure("pgbench: error: connection failed", "tps = "), None);
    }
}
