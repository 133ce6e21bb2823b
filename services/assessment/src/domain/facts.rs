//! What a task's events count for: the metric facts derived from every
//! grid event of one task that the service has stored.
//!
//! The facts are a function of the *set* of stored events, never of the
//! order they arrived in: a late, duplicated or reordered event changes
//! which facts the set yields only once it is in the set, so every
//! delivery order converges to the same facts and a rebuild from the store
//! yields exactly what incremental application did.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use civicgrid_proto::grid::v1 as grid;
use uuid::Uuid;

use super::metric::{CellMetric, DepartmentMetric, Metric};

/// A grid event of one task, decoded.
#[derive(Debug, Clone)]
pub struct TaskEvent {
    /// The grid's event id.
    pub event_id: Uuid,
    /// The task's version the event carries.
    pub version: i64,
    /// What it says.
    pub body: TaskEventBody,
}

/// The two kinds of grid event about a task.
#[derive(Debug, Clone)]
pub enum TaskEventBody {
    /// `grid.task.<action>`: the action and the whole task after it.
    Changed {
        /// The routing key's last segment, e.g. "accepted".
        action: String,
        /// The payload.
        event: Box<grid::TaskChanged>,
    },
    /// `grid.supervision.<change>`.
    Supervision {
        /// "issued", "escalated" or "cleared".
        change: String,
        /// The payload.
        event: Box<grid::SupervisionChanged>,
    },
}

/// One count: `subject` ("cells/…" or "departments/…") gets one of
/// `metric` because of event `event_id`, in the periods of `reported_at`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Fact {
    /// "cells/{id}" or "departments/{id}".
    pub subject: String,
    /// What is counted.
    pub metric: Metric,
    /// The event behind the count.
    pub event_id: Uuid,
    /// When the task was reported: the periods it counts in.
    pub reported_at: DateTime<Utc>,
    /// What it adds to the count: 1, except for sums such as volunteer
    /// minutes.
    pub amount: i64,
}

type Time = (i64, i32);

fn time(timestamp: Option<&prost_types::Timestamp>) -> Option<Time> {
    timestamp.map(|t| (t.seconds, t.nanos))
}

/// The time in microseconds, as PostgreSQL keeps it: a fact read back
/// from the store must equal the one computed again, or every
/// recomputation would replace all of a task's facts.
fn utc(timestamp: Option<&prost_types::Timestamp>) -> Option<DateTime<Utc>> {
    let t = timestamp?;
    let nanos = u32::try_from(t.nanos).ok()?;
    DateTime::from_timestamp(t.seconds, nanos - nanos % 1_000)
}

/// Whether something done at `done` met `due`; unknown deadlines are not met.
fn met(done: Option<Time>, due: Option<Time>) -> bool {
    matches!((done, due), (Some(done), Some(due)) if done <= due)
}

/// The facts the events of one task yield (events of other tasks must not
/// be in `events`; duplicates and order do not matter). Nothing before
/// any `grid.task.*` event of the task is known: its cell and report time
/// come from the task itself.
pub fn facts(events: &[TaskEvent]) -> BTreeSet<Fact> {
    let mut changes: Vec<(&TaskEvent, &str, &grid::TaskChanged)> = events
        .iter()
        .filter_map(|e| match &e.body {
            TaskEventBody::Changed { action, event } => Some((e, action.as_str(), &**event)),
            TaskEventBody::Supervision { .. } => None,
        })
        .collect();
    changes.sort_by_key(|(e, _, _)| (e.version, e.event_id));
    changes.dedup_by_key(|(e, _, _)| e.event_id);
    let Some(task) = changes.last().and_then(|(_, _, c)| c.task.as_ref()) else {
        return BTreeSet::new();
    };
    let Some(reported_at) = utc(task.create_time.as_ref()) else {
        return BTreeSet::new();
    };
    let cell = task.cell.clone();
    let mut out = BTreeSet::new();
    let mut add = |subject: &str, metric: Metric, event_id: Uuid| {
        out.insert(Fact {
            subject: subject.to_owned(),
            metric,
            event_id,
            reported_at,
            amount: 1,
        });
    };
    // A rejected task (invalid, outside jurisdiction) or a duplicate merged
    // into another is no request the grid or a department failed: it
    // counts as rejected or merged only, in no rate (the task a duplicate
    // went into carries the request).
    let closed_as = match grid::TaskState::try_from(task.state) {
        Ok(grid::TaskState::Rejected) => Some(CellMetric::TasksRejected),
        Ok(grid::TaskState::Merged) => Some(CellMetric::TasksMerged),
        _ => None,
    };
    if let (Some(metric), Some((last, _, _))) = (closed_as, changes.last()) {
        add(&cell, Metric::Cell(metric), last.event_id);
        return out;
    }
    let snapshot_at = |version: i64| {
        changes
            .iter()
            .find(|(e, _, _)| e.version == version)
            .and_then(|(_, _, c)| c.task.as_ref())
    };
    let accept_due = changes
        .iter()
        .find(|(_, action, _)| *action == "reported")
        .and_then(|(_, _, c)| c.task.as_ref())
        .and_then(|t| time(t.accept_due.as_ref()));
    let mut last_resolution = None;
    let mut last_rating = None;
    for &(event, action, change) in &changes {
        let id = event.event_id;
        let at = change.history.as_ref().and_then(|h| time(h.time.as_ref()));
        let department = change
            .history
            .as_ref()
            .map(|h| h.department.as_str())
            .unwrap_or_default();
        let snapshot = change.task.as_ref();
        let assignments = snapshot
            .map(|t| t.assignments.as_slice())
            .unwrap_or_default();
        let assignment_of =
            |department: &str, at_field: fn(&grid::DepartmentAssignment) -> Option<Time>| {
                assignments
                    .iter()
                    .find(|a| a.department == department && at_field(a) == at)
            };
        match action {
            "reported" => add(&cell, Metric::Cell(CellMetric::TasksReported), id),
            "accepted" => {
                add(&cell, Metric::Cell(CellMetric::TasksAccepted), id);
                if met(at, accept_due) {
                    add(&cell, Metric::Cell(CellMetric::TasksAcceptedOnTime), id);
                }
            }
            "whistled" => {
                add(&cell, Metric::Cell(CellMetric::Whistles), id);
                for a in assignments
                    .iter()
                    .filter(|a| time(a.whistle_time.as_ref()) == at)
                {
                    add(
                        &a.department,
                        Metric::Department(DepartmentMetric::PartsAssigned),
                        id,
                    );
                }
            }
            "checked_in" if !department.is_empty() => {
                add(
                    department,
                    Metric::Department(DepartmentMetric::CheckIns),
                    id,
                );
                if let Some(a) = assignment_of(department, |a| time(a.check_in_time.as_ref()))
                    && met(
                        time(a.check_in_time.as_ref()),
                        time(a.check_in_due.as_ref()),
                    )
                {
                    add(
                        department,
                        Metric::Department(DepartmentMetric::CheckInsOnTime),
                        id,
                    );
                }
            }
            "department_resolved" if !department.is_empty() => {
                add(
                    department,
                    Metric::Department(DepartmentMetric::PartsResolved),
                    id,
                );
                if let Some(a) = assignment_of(department, |a| time(a.resolve_time.as_ref()))
                    && met(time(a.resolve_time.as_ref()), time(a.resolve_due.as_ref()))
                {
                    add(
                        department,
                        Metric::Department(DepartmentMetric::PartsResolvedOnTime),
                        id,
                    );
                }
            }
            "returned" => {
                if !department.is_empty() {
                    add(
                        department,
                        Metric::Department(DepartmentMetric::Returns),
                        id,
                    );
                }
                // Only the lead's return sends the task back to the street.
                let to_state = change.history.as_ref().map(|h| h.to_state);
                if to_state == Some(grid::TaskState::Returned as i32) {
                    add(&cell, Metric::Cell(CellMetric::Returns), id);
                }
            }
            "extension_requested" if !department.is_empty() => add(
                department,
                Metric::Department(DepartmentMetric::ExtensionsRequested),
                id,
            ),
            "extension_granted" if !department.is_empty() => add(
                department,
                Metric::Department(DepartmentMetric::ExtensionsGranted),
                id,
            ),
            "reopened" => add(&cell, Metric::Cell(CellMetric::Reopenings), id),
            "resolved_by_grid" => {
                // The grid's deadline is cleared by the resolution itself:
                // it is the one the task carried just before.
                let due = snapshot_at(event.version - 1).and_then(|t| time(t.resolve_due.as_ref()));
                last_resolution = Some((id, met(at, due)));
            }
            "resolved" => {
                let resolved: Vec<_> = assignments
                    .iter()
                    .filter(|a| a.state == grid::AssignmentState::Resolved as i32)
                    .collect();
                let on_time = !resolved.is_empty()
                    && resolved
                        .iter()
                        .all(|a| met(time(a.resolve_time.as_ref()), time(a.resolve_due.as_ref())));
                last_resolution = Some((id, on_time));
            }
            "rated" => last_rating = Some((id, snapshot.and_then(|t| t.satisfied) == Some(true))),
            _ => {}
        }
    }
    if let Some((id, on_time)) = last_resolution {
        add(&cell, Metric::Cell(CellMetric::TasksResolved), id);
        if on_time {
            add(&cell, Metric::Cell(CellMetric::TasksResolvedOnTime), id);
        }
    }
    if let Some((id, satisfied)) = last_rating {
        add(&cell, Metric::Cell(CellMetric::TasksRated), id);
        if satisfied {
            add(&cell, Metric::Cell(CellMetric::TasksSatisfied), id);
        }
    }
    let mut seen = BTreeSet::new();
    for event in events {
        let TaskEventBody::Supervision {
            change,
            event: body,
        } = &event.body
        else {
            continue;
        };
        if !matches!(change.as_str(), "issued" | "escalated") || !seen.insert(event.event_id) {
            continue;
        }
        let Some(order) = body.order.as_ref() else {
            continue;
        };
        let level = grid::SupervisionLevel::try_from(order.level).ok();
        let metric = match level {
            Some(grid::SupervisionLevel::Warning) => CellMetric::SupervisionWarnings,
            Some(grid::SupervisionLevel::Order) => CellMetric::SupervisionOrders,
            Some(grid::SupervisionLevel::Red) => CellMetric::SupervisionRed,
            _ => continue,
        };
        add(&cell, Metric::Cell(metric), event.event_id);
        if metric != CellMetric::SupervisionWarnings && !order.department.is_empty() {
            add(
                &order.department,
                Metric::Department(DepartmentMetric::SupervisionOrders),
                event.event_id,
            );
        }
    }
    out
}
