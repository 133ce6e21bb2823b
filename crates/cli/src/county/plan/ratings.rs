//! The assessment side of the generated county: the whistling community's
//! ratings of the departments on resolved tasks (two-way assessment).

use chrono::{DateTime, Duration, Utc};
use civicgrid_proto::assessment::v1 as apb;
use civicgrid_proto::grid::v1::transition_task_request::Action as A;

use super::{Rng, Shape, task};

const RATING_KIND: u64 = 4;

/// A rating to record: the community's grade of one department's part in
/// one task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedRating {
    /// "tasks/{id}".
    pub task: String,
    /// "departments/{id}".
    pub department: String,
    pub grade: apb::RatingGrade,
    pub comment: String,
}

/// Ratings of tasks `first..last`: of the tasks whose planned life has a
/// department resolve its part at least a day before `now` (so a rerun,
/// whose `now` is later, plans the same ones and assessment has them
/// resolved), `shape.rated_percent` percent are rated, every department
/// whistled for them once. Mostly satisfied, as a county's are.
pub fn ratings(
    seed: u64,
    root: &str,
    shape: &Shape,
    now: DateTime<Utc>,
    tasks: std::ops::Range<u64>,
) -> Vec<PlannedRating> {
    let settled = (now - Duration::days(1)).timestamp();
    let mut out = Vec::new();
    for index in tasks {
        let mut rng = Rng::for_object(seed, RATING_KIND, index);
        if rng.below(100) >= u64::from(shape.rated_percent) {
            continue;
        }
        let planned = task(seed, index, root, shape, now);
        let mut whistled: Vec<String> = Vec::new();
        let mut resolved = false;
        for step in &planned.steps {
            let at = step.time.as_ref().map_or(i64::MAX, |t| t.seconds);
            match step.transition.as_ref().and_then(|t| t.action.as_ref()) {
                Some(A::Whistle(whistle)) => {
                    for department in std::iter::once(&whistle.lead).chain(&whistle.assisting) {
                        if !whistled.contains(department) {
                            whistled.push(department.clone());
                        }
                    }
                }
                Some(A::ResolvePart(_)) => resolved = at <= settled,
                _ => {}
            }
        }
        if !resolved {
            continue;
        }
        for department in whistled {
            let (grade, comment) = match rng.below(10) {
                0 => (apb::RatingGrade::Dissatisfied, "响应慢，需要多次催办"),
                1 | 2 => (
                    apb::RatingGrade::BasicallySatisfied,
                    "按时报到，处理基本到位",
                ),
                _ => (apb::RatingGrade::Satisfied, "及时报到，处理到位"),
            };
            out.push(PlannedRating {
                task: planned.name.clone(),
                department,
                grade,
                comment: comment.to_owned(),
            });
        }
    }
    out
}
