//! Process signals.

use tokio_util::sync::CancellationToken;

/// Cancels `token` on the first SIGTERM or SIGINT.
pub async fn cancel_on_signal(token: CancellationToken) {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT: shutting down"),
        () = terminate => tracing::info!("SIGTERM: shutting down"),
    }
    token.cancel();
}

/// Waits `duration` unless `stop` is cancelled first; true when the wait
/// ran its course, false when the caller should stop. The one pause of
/// every background loop (sweeps, folds, retries with backoff), so each
/// wakes at once on shutdown instead of sleeping its interval out.
pub async fn pause(duration: std::time::Duration, stop: &CancellationToken) -> bool {
    tokio::select! {
        () = stop.cancelled() => false,
        () = tokio::time::sleep(duration) => true,
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn a_pause_runs_its_course_unless_stopped() {
        let stop = CancellationToken::new();
        assert!(pause(Duration::from_millis(1), &stop).await);
        stop.cancel();
        assert!(!pause(Duration::from_secs(3600), &stop).await);
    }
}
