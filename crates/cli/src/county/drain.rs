//! Waiting for assessment to consume what the load published. A rating
//! needs assessment to know its task (resolved, whistled, in a cell of its
//! replica), and a large load leaves it millions of events behind: longer
//! than any fixed timeout one could pick, yet each rating's own retries
//! would spin for all of it. So the loader watches the lag itself, the
//! same figures `civicgrid status` shows: the grid's outbox rows not yet
//! published plus the messages waiting in assessment's queues. It waits
//! while that shrinks and gives up only when it stands still.

use std::time::{Duration, Instant};

use civicgrid_proto::events::v1 as pb;
use civicgrid_proto::events::v1::subscription_admin_service_client::SubscriptionAdminServiceClient;
use tonic::transport::Channel;

use super::load::Loader;
use crate::endpoints::authorised;

/// How long the lag may stand still before the wait calls the consumer
/// stuck rather than slow.
const STALL: Duration = Duration::from_secs(600);

/// How often the lag is asked for.
const POLL: Duration = Duration::from_secs(2);

/// Readings of zero in a row that count as drained: messages a consumer
/// holds unacknowledged are not in the queue's ready count, and the next
/// reading sees whether they raised another batch.
const ZEROS: u32 = 2;

impl Loader {
    /// Waits until the grid's outbox is published and assessment's queues
    /// are empty, with a progress bar of the events worked off. Fails
    /// naming the lag when it has not shrunk for [`STALL`].
    pub async fn wait_for_assessment(&self, assessment: &Channel) -> anyhow::Result<()> {
        let bar = self.bar("assessing", 0);
        let (mut most, mut least) = (0_i64, i64::MAX);
        let mut progressed = Instant::now();
        let mut zeros = 0;
        loop {
            // A service restarting answers nothing for a while: that
            // reading is skipped, and counts against the stall like no
            // progress does.
            if let Ok(behind) = self.events_behind(assessment).await {
                most = most.max(behind);
                bar.set_length(u64::try_from(most).unwrap_or(0));
                bar.set_position(u64::try_from(most - behind).unwrap_or(0));
                if behind < least {
                    least = behind;
                    progressed = Instant::now();
                }
                zeros = if behind == 0 { zeros + 1 } else { 0 };
                if zeros >= ZEROS {
                    bar.finish();
                    return Ok(());
                }
            }
            anyhow::ensure!(
                progressed.elapsed() < STALL,
                "assessment is still {least} events behind the grid and has made no progress for {}s \
                 (see `civicgrid status`: a subscription without consumers, or dead letters)",
                STALL.as_secs()
            );
            tokio::time::sleep(POLL).await;
        }
    }

    /// The grid's unpublished outbox rows plus the messages ready in
    /// assessment's queues.
    async fn events_behind(&self, assessment: &Channel) -> anyhow::Result<i64> {
        let grid = self.event_status(&self.channel).await?;
        let assessment = self.event_status(assessment).await?;
        if let Some(failed) = assessment
            .subscriptions
            .iter()
            .find(|s| !s.broker_error.is_empty())
        {
            anyhow::bail!("{}: {}", failed.subscription, failed.broker_error);
        }
        let queued: i64 = assessment
            .subscriptions
            .iter()
            .map(|s| s.queued_messages)
            .sum();
        Ok(grid.outbox_backlog + queued)
    }

    async fn event_status(&self, channel: &Channel) -> anyhow::Result<pb::EventStatus> {
        let request = authorised(pb::GetEventStatusRequest {}, &self.token)?;
        let response = SubscriptionAdminServiceClient::new(channel.clone())
            .get_event_status(request)
            .await?;
        response
            .into_inner()
            .status
            .ok_or_else(|| anyhow::anyhow!("GetEventStatus answered without a status"))
    }
}
