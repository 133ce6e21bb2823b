//! Two-way assessment: when a whistling street or community may rate a
//! department's response to a task, and what a rating counts for.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::facts::{Fact, TaskEvent, TaskEventBody};
use super::metric::{DepartmentMetric, Metric};

/// A street's or community's grade of a department's response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grade {
    /// 满意
    Satisfied,
    /// 基本满意
    BasicallySatisfied,
    /// 不满意
    Dissatisfied,
}

impl Grade {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Grade::Satisfied => "satisfied",
            Grade::BasicallySatisfied => "basically_satisfied",
            Grade::Dissatisfied => "dissatisfied",
        }
    }

    /// The grade stored as `name`.
    pub fn parse(name: &str) -> Option<Grade> {
        [
            Grade::Satisfied,
            Grade::BasicallySatisfied,
            Grade::Dissatisfied,
        ]
        .into_iter()
        .find(|g| g.as_str() == name)
    }

    fn metric(self) -> DepartmentMetric {
        match self {
            Grade::Satisfied => DepartmentMetric::RatingsSatisfied,
            Grade::BasicallySatisfied => DepartmentMetric::RatingsBasicallySatisfied,
            Grade::Dissatisfied => DepartmentMetric::RatingsDissatisfied,
        }
    }
}

/// What the stored grid events say about a task, for rating it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RatedTask {
    /// "cells/{id}": where it was reported.
    pub cell: String,
    /// When: the periods its ratings count in.
    pub reported_at: DateTime<Utc>,
    /// "departments/{id}" of every department whistled for it.
    pub whistled: BTreeSet<String>,
    /// Whether it was resolved (by the grid or the departments).
    pub resolved: bool,
}

/// The task as its stored events describe it; None without any
/// `grid.task.*` event (a task assessment has not heard of).
pub fn rated_task(events: &[TaskEvent]) -> Option<RatedTask> {
    let mut latest: Option<(i64, &civicgrid_proto::grid::v1::Task)> = None;
    let mut whistled = BTreeSet::new();
    let mut resolved = false;
    for event in events {
        let TaskEventBody::Changed {
            action,
            event: body,
        } = &event.body
        else {
            continue;
        };
        let Some(task) = body.task.as_ref() else {
            continue;
        };
        if latest.is_none_or(|(version, _)| event.version > version) {
            latest = Some((event.version, task));
        }
        if action == "whistled" {
            whistled.extend(task.assignments.iter().map(|a| a.department.clone()));
        }
        resolved |= matches!(action.as_str(), "resolved" | "resolved_by_grid");
    }
    let (_, task) = latest?;
    let created = task.create_time.as_ref()?;
    Some(RatedTask {
        cell: task.cell.clone(),
        reported_at: DateTime::from_timestamp(created.seconds, u32::try_from(created.nanos).ok()?)?,
        whistled,
        resolved,
    })
}

/// Why a rating is refused by the task's state.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RatingRefusal {
    /// The department had no part in the task.
    #[error("{department} was never whistled for {task}")]
    NotWhistled { task: String, department: String },
    /// Too early.
    #[error("{task} is not resolved yet; rate the departments after its resolution")]
    NotResolved { task: String },
}

/// Whether `department` may be rated for `task` now.
pub fn check(task_name: &str, task: &RatedTask, department: &str) -> Result<(), RatingRefusal> {
    if !task.whistled.contains(department) {
        return Err(RatingRefusal::NotWhistled {
            task: task_name.to_owned(),
            department: department.to_owned(),
        });
    }
    if !task.resolved {
        return Err(RatingRefusal::NotResolved {
            task: task_name.to_owned(),
        });
    }
    Ok(())
}

/// What one rating counts: one rating, and one of its grade, for the
/// department, in the periods the task was reported in.
pub fn facts(
    department: &str,
    grade: Grade,
    event_id: Uuid,
    reported_at: DateTime<Utc>,
) -> BTreeSet<Fact> {
    [DepartmentMetric::Ratings, grade.metric()]
        .into_iter()
        .map(|metric| Fact {
            subject: department.to_owned(),
            metric: Metric::Department(metric),
            event_id,
            reported_at,
            amount: 1,
        })
        .collect()
}
