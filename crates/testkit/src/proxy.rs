//! A TCP fault proxy: the service under test talks to the broker or the
//! database through it, and the test cuts, black-holes and restores the link
//! without touching the shared servers.

use std::net::SocketAddr;

use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// What the proxy does with traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Forward both ways.
    Pass,
    /// Close every connection and refuse new ones.
    Cut,
    /// Close every connection; accept new ones but never answer.
    BlackHole,
}

/// A proxy from a local port to `target`.
pub struct FaultProxy {
    /// Where clients connect instead of the target.
    pub addr: SocketAddr,
    mode: watch::Sender<Mode>,
    task: JoinHandle<()>,
}

impl FaultProxy {
    /// Starts forwarding to `target`.
    pub async fn start(target: SocketAddr) -> anyhow::Result<FaultProxy> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (mode, watcher) = watch::channel(Mode::Pass);
        let task = tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    continue;
                };
                let current = *watcher.borrow();
                match current {
                    Mode::Cut => drop(client),
                    Mode::BlackHole => {
                        let mut watcher = watcher.clone();
                        tokio::spawn(async move {
                            // Hold the socket silently until the mode changes.
                            let _client = client;
                            let _ = watcher.changed().await;
                        });
                    }
                    Mode::Pass => {
                        tokio::spawn(pump(client, target, watcher.clone()));
                    }
                }
            }
        });
        Ok(FaultProxy { addr, mode, task })
    }

    /// Closes every connection and refuses new ones.
    pub fn cut(&self) {
        self.mode.send_replace(Mode::Cut);
    }

    /// Closes every connection and accepts new ones without ever answering.
    pub fn black_hole(&self) {
        self.mode.send_replace(Mode::BlackHole);
    }

    /// Forwards again.
    pub fn restore(&self) {
        self.mode.send_replace(Mode::Pass);
    }

    /// `amqp://guest:guest@<proxy>/%2f`, for a broker proxy.
    pub fn amqp_url(&self) -> String {
        format!("amqp://guest:guest@{}/%2f", self.addr)
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.mode.send_replace(Mode::Cut);
        self.task.abort();
    }
}

async fn pump(mut client: TcpStream, target: SocketAddr, mut watcher: watch::Receiver<Mode>) {
    let Ok(mut server) = TcpStream::connect(target).await else {
        let _ = client.shutdown().await;
        return;
    };
    tokio::select! {
        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
        // Any change away from Pass ends this connection: both sides see a close.
        _ = async { while watcher.changed().await.is_ok() { if *watcher.borrow() != Mode::Pass { break; } } } => {}
    }
}
