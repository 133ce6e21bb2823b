//! A PostgreSQL server of the test's own, for tests that must restart the
//! real thing (the shared server on 5432 is never stopped: parallel tests
//! would fail at random).
//!
//! `initdb` into a temporary directory, then `pg_ctl start` on a free port,
//! listening on 127.0.0.1 only with its unix socket in that directory and
//! trust authentication. PostgreSQL refuses to run as root, so when the
//! tests do, every server command runs as the `postgres` user (`runuser`)
//! and the directory is handed to that user. Dropping the instance stops it
//! and removes the directory, also when the test panics.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Output;

use anyhow::Context;

use crate::TestDatabase;

/// A throwaway PostgreSQL server.
pub struct PrivatePostgres {
    bin: PathBuf,
    /// `Some(user)` when commands must run as another user.
    run_as: Option<String>,
    port: u16,
    // Dropped after `Drop::drop` has stopped the server.
    dir: tempfile::TempDir,
}

impl PrivatePostgres {
    /// Creates and starts a fresh server on a free port.
    pub async fn start() -> anyhow::Result<PrivatePostgres> {
        let bin = bin_dir()?;
        let dir = tempfile::Builder::new().prefix("civicgrid-pg-").tempdir()?;
        let run_as = if is_root()? {
            let user = "postgres".to_owned();
            let (uid, gid) = (id(&["-u", &user]).await?, id(&["-g", &user]).await?);
            std::os::unix::fs::chown(dir.path(), Some(uid), Some(gid))
                .context("handing the instance directory to postgres")?;
            Some(user)
        } else {
            None
        };
        let mut instance = PrivatePostgres {
            bin,
            run_as,
            port: 0,
            dir,
        };
        let data = instance.data_dir();
        instance
            .run(
                "initdb",
                &[
                    "-D".as_ref(),
                    data.as_os_str(),
                    "-A".as_ref(),
                    "trust".as_ref(),
                    "-U".as_ref(),
                    "postgres".as_ref(),
                    "-E".as_ref(),
                    "UTF8".as_ref(),
                    "--no-locale".as_ref(),
                    // A throwaway cluster need not survive a power cut.
                    "--no-sync".as_ref(),
                ],
            )
            .await?;
        // The free port can be taken between probing and binding; try a few.
        let mut last_error = None;
        for _ in 0..3 {
            instance.port = free_port()?;
            match instance.start_server().await {
                Ok(()) => return Ok(instance),
                Err(error) => last_error = Some(error),
            }
        }
        Err(last_error.unwrap_or_else(|| anyhow::anyhow!("PostgreSQL did not start")))
    }

    /// The server's URL without a database, e.g. `postgres://postgres@127.0.0.1:41234`.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}", self.port)
    }

    /// The port it listens on (the same across restarts).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The instance's directory (data, unix socket, server log); removed on drop.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// A fresh database on this server, as [`TestDatabase::create_empty`]
    /// makes on the shared one.
    pub async fn create_database(&self) -> anyhow::Result<TestDatabase> {
        TestDatabase::create_empty_on(&self.url()).await
    }

    /// Stops the server the way an operator's restart does (`-m fast`):
    /// every session is terminated with 57P01 and new connections are refused.
    pub async fn stop(&self) -> anyhow::Result<()> {
        let data = self.data_dir();
        self.run(
            "pg_ctl",
            &[
                "-D".as_ref(),
                data.as_os_str(),
                "-m".as_ref(),
                "fast".as_ref(),
                "-w".as_ref(),
                "stop".as_ref(),
            ],
        )
        .await
        .map(drop)
    }

    /// Starts the stopped server again on the same port; returns once it
    /// accepts connections.
    pub async fn start_again(&self) -> anyhow::Result<()> {
        self.start_server().await
    }

    /// Stops and starts the server on the same port.
    pub async fn restart(&self) -> anyhow::Result<()> {
        self.stop().await?;
        self.start_again().await
    }

    async fn start_server(&self) -> anyhow::Result<()> {
        let data = self.data_dir();
        let log = self.dir.path().join("server.log");
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c shared_buffers=32MB",
            self.port,
            self.dir.path().display()
        );
        let started = self
            .run(
                "pg_ctl",
                &[
                    "-D".as_ref(),
                    data.as_os_str(),
                    "-l".as_ref(),
                    log.as_os_str(),
                    "-o".as_ref(),
                    options.as_ref(),
                    "-w".as_ref(),
                    "-t".as_ref(),
                    "30".as_ref(),
                    "start".as_ref(),
                ],
            )
            .await;
        started.map(drop).map_err(|error| {
            let tail = std::fs::read_to_string(&log).unwrap_or_default();
            let tail: Vec<&str> = tail.lines().rev().take(10).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            error.context(format!("server log:\n{}", tail.join("\n")))
        })
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Runs one of the server's programs (as `postgres` when we are root),
    /// failing with its output when it fails.
    async fn run(&self, program: &str, args: &[&std::ffi::OsStr]) -> anyhow::Result<Output> {
        let output = self
            .command(program, args)
            .kill_on_drop(true)
            .output()
            .await
            .with_context(|| format!("running {program}"))?;
        if output.status.success() {
            Ok(output)
        } else {
            anyhow::bail!(
                "{program} failed ({}): {}{}",
                output.status,
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            )
        }
    }

    fn command(&self, program: &str, args: &[&std::ffi::OsStr]) -> tokio::process::Command {
        let path = self.bin.join(program);
        let mut command = match &self.run_as {
            Some(user) => {
                let mut command = tokio::process::Command::new("runuser");
                command.args(["-u", user, "--"]).arg(path);
                command
            }
            None => tokio::process::Command::new(path),
        };
        // The programs look up their own directory; the test's working
        // directory may be closed to the postgres user.
        command.args(args).current_dir(self.dir.path());
        command
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        if self.port == 0 {
            return; // never started
        }
        // Synchronous: Drop may run while a panic unwinds, outside any
        // runtime. Immediate mode: nothing here is worth a checkpoint.
        let data = self.data_dir();
        let stop = self
            .command(
                "pg_ctl",
                &[
                    "-D".as_ref(),
                    data.as_os_str(),
                    "-m".as_ref(),
                    "immediate".as_ref(),
                    "-w".as_ref(),
                    "stop".as_ref(),
                ],
            )
            .as_std_mut()
            .output();
        if let Ok(output) = stop
            && !output.status.success()
            && data.join("postmaster.pid").exists()
        {
            eprintln!(
                "stopping the private PostgreSQL in {} failed: {}",
                self.dir.path().display(),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        // The TempDir field removes the directory next.
    }
}

/// `PG_BIN_DIR`, or the newest `/usr/lib/postgresql/<version>/bin`.
fn bin_dir() -> anyhow::Result<PathBuf> {
    if let Ok(dir) = std::env::var("PG_BIN_DIR") {
        return Ok(PathBuf::from(dir));
    }
    let root = Path::new("/usr/lib/postgresql");
    let newest = std::fs::read_dir(root)
        .with_context(|| format!("listing {}", root.display()))?
        .filter_map(|entry| entry.ok())
        .filter_map(|entry| {
            let version: u32 = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("pg_ctl").exists().then_some((version, bin))
        })
        .max_by_key(|(version, _)| *version);
    newest
        .map(|(_, bin)| bin)
        .ok_or_else(|| anyhow::anyhow!("no PostgreSQL under {}; set PG_BIN_DIR", root.display()))
}

/// Whether this process runs as root (the owner of `/proc/self` is our
/// effective user; no `unsafe` geteuid needed).
fn is_root() -> anyhow::Result<bool> {
    Ok(std::fs::metadata("/proc/self")?.uid() == 0)
}

async fn id(args: &[&str]) -> anyhow::Result<u32> {
    let output = tokio::process::Command::new("id")
        .args(args)
        .output()
        .await?;
    anyhow::ensure!(output.status.success(), "id {args:?} failed");
    Ok(String::from_utf8(output.stdout)?.trim().parse()?)
}

/// A port nothing listens on right now.
fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}
