//! Loading the community's ratings of departments (two-way assessment)
//! through assessment's CreateDepartmentRating. A rating needs assessment
//! to have consumed the task's events, so the ratings start once it has
//! worked off the load's events (see `drain`); NOT_FOUND (task unknown so
//! far) and FAILED_PRECONDITION (not resolved so far), from the few
//! deliveries still in its hands then, are retried with backoff for a
//! bounded time. A rerun finds the first run's ratings ALREADY_EXISTS.

use std::time::{Duration, Instant};

use civicgrid_proto::assessment::v1 as apb;
use civicgrid_proto::assessment::v1::assessment_service_client::AssessmentServiceClient;
use tonic::Code;
use tonic::transport::Channel;

use super::load::{Count, Loader, internal};
use super::plan::{self, Shape};
use crate::endpoints::authorised;

/// How long assessment may take to apply the deliveries it holds once its
/// queues are empty.
const CONSUME_WAIT: Duration = Duration::from_secs(600);

/// Tasks planned for ratings at a time, so a million never sit in memory.
const TASK_CHUNK: u64 = 20_000;

impl Loader {
    /// Records the planned ratings with `rater_token` (a street admin or
    /// community staff token: only they rate their departments).
    pub async fn ratings(
        &self,
        assessment: &Channel,
        rater_token: &str,
        seed: u64,
        root: &str,
        shape: &Shape,
    ) -> anyhow::Result<Count> {
        self.wait_for_assessment(assessment).await?;
        let bar = self.bar("ratings", 0);
        let mut count = Count {
            kind: "ratings",
            ..Count::default()
        };
        let client = AssessmentServiceClient::new(assessment.clone());
        let now = chrono::Utc::now();
        for first in (0..shape.tasks).step_by(usize::try_from(TASK_CHUNK)?) {
            let last = (first + TASK_CHUNK).min(shape.tasks);
            let planned = plan::ratings(seed, root, shape, now, first..last);
            count.planned += planned.len() as u64;
            bar.inc_length(planned.len() as u64);
            self.create_each(
                &planned,
                &bar,
                &mut count,
                |rating| format!("rating of {} on {}", rating.department, rating.task),
                |rating| {
                    let client = client.clone();
                    async move {
                        let started = Instant::now();
                        let mut delay = Duration::from_millis(200);
                        loop {
                            let request = authorised(
                                apb::CreateDepartmentRatingRequest {
                                    parent: rating.task.clone(),
                                    department_rating: Some(apb::DepartmentRating {
                                        department: rating.department.clone(),
                                        grade: rating.grade as i32,
                                        comment: rating.comment.clone(),
                                        ..Default::default()
                                    }),
                                },
                                rater_token,
                            )
                            .map_err(internal)?;
                            match client.clone().create_department_rating(request).await {
                                Err(status)
                                    if matches!(
                                        status.code(),
                                        Code::NotFound | Code::FailedPrecondition
                                    ) && started.elapsed() < CONSUME_WAIT =>
                                {
                                    tokio::time::sleep(delay).await;
                                    delay = (delay * 2).min(Duration::from_secs(5));
                                }
                                other => return other,
                            }
                        }
                    }
                },
            )
            .await?;
        }
        bar.finish();
        Ok(count)
    }
}
