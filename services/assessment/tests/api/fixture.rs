//! A small scripted history of four tasks, built from the grid's published
//! contract, with the numbers it must give worked out by hand.
//!
//! Tree: county c1 > street st1 > communities cm1, cm2; grids g1, g2 in cm1,
//! g3 in cm2; street st2 (empty). Every task is reported in November 2026
//! (Asia/Shanghai).
//!
//! - T1 in g1: accepted on time, resolved by the grid on time, rated satisfied.
//! - T2 in g1: accepted late, resolved late, rated dissatisfied (reopened),
//!   resolved again on time, rated satisfied.
//! - T3 in g2: whistled to housing, which returns it; whistled to urban,
//!   which checks in on time, gets a supervision order, resolves late.
//! - T4 in g3: reported only; a supervision warning on its acceptance.

use civicgrid_proto::common::v1::EventMeta;
use civicgrid_proto::grid::v1 as grid;
use uuid::Uuid;

/// An event as the grid would publish it.
#[derive(Clone, Debug)]
#[allow(clippy::large_enum_variant)]
pub enum Event {
    Task(String, grid::TaskChanged),
    Supervision(String, grid::SupervisionChanged),
}

impl Event {
    pub fn id(&self) -> Uuid {
        let meta = match self {
            Event::Task(_, e) => e.meta.as_ref(),
            Event::Supervision(_, e) => e.meta.as_ref(),
        };
        Uuid::parse_str(&meta.unwrap().event_id).unwrap()
    }
    pub fn key(&self) -> &str {
        match self {
            Event::Task(k, _) | Event::Supervision(k, _) => k,
        }
    }
}

/// 2026-11-10 10:00 Shanghai plus `minutes`.
pub fn at(minutes: i64) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: 1_794_276_000 + minutes * 60,
        nanos: 0,
    }
}

const HOUR: i64 = 60;
const DAY: i64 = 24 * 60;

fn meta(key: &str, task: &str, version: i64, time: i64) -> EventMeta {
    EventMeta {
        event_id: Uuid::now_v7().to_string(),
        occurred_at: Some(at(time)),
        producer: "grid".to_owned(),
        aggregate_id: format!("tasks/{task}"),
        aggregate_version: version,
        event_type: key.to_owned(),
        ..Default::default()
    }
}

/// Builds one task's history step by step, keeping the snapshot.
pub struct Script {
    task: grid::Task,
    id: String,
    pub events: Vec<Event>,
}

impl Script {
    pub fn reported(id: &str, cell: &str, accept_due: i64) -> Script {
        let task = grid::Task {
            name: format!("tasks/{id}"),
            cell: format!("cells/{cell}"),
            state: grid::TaskState::Reported as i32,
            accept_due: Some(at(accept_due)),
            version: 1,
            create_time: Some(at(0)),
            ..Default::default()
        };
        let mut script = Script {
            task,
            id: id.to_owned(),
            events: Vec::new(),
        };
        script.emit("reported", 1, 0, "", grid::TaskState::Reported);
        script
    }

    fn emit(
        &mut self,
        action: &str,
        version: i64,
        time: i64,
        department: &str,
        to: grid::TaskState,
    ) {
        let key = format!("grid.task.{action}");
        self.task.version = version;
        self.task.state = to as i32;
        self.events.push(Event::Task(
            key.clone(),
            grid::TaskChanged {
                meta: Some(meta(&key, &self.id, version, time)),
                task: Some(self.task.clone()),
                history: Some(grid::TaskHistoryEntry {
                    sequence: self.events.len() as i64 + 1,
                    action: action.to_owned(),
                    to_state: to as i32,
                    department: department.to_owned(),
                    time: Some(at(time)),
                    ..Default::default()
                }),
            },
        ));
    }

    pub fn accepted(mut self, version: i64, time: i64, resolve_due: i64) -> Script {
        self.task.accept_due = None;
        self.task.resolve_due = Some(at(resolve_due));
        self.emit("accepted", version, time, "", grid::TaskState::Accepted);
        self
    }

    pub fn resolved_by_grid(mut self, version: i64, time: i64) -> Script {
        self.task.resolve_due = None;
        self.task.resolve_time = Some(at(time));
        self.emit(
            "resolved_by_grid",
            version,
            time,
            "",
            grid::TaskState::Resolved,
        );
        self
    }

    pub fn rated(mut self, version: i64, time: i64, satisfied: bool, resolve_due: i64) -> Script {
        self.task.satisfied = Some(satisfied);
        if satisfied {
            self.emit("rated", version, time, "", grid::TaskState::Closed);
            self.emit("closed", version, time, "", grid::TaskState::Closed);
        } else {
            self.task.reopen_count += 1;
            self.task.resolve_due = Some(at(resolve_due));
            self.emit("rated", version, time, "", grid::TaskState::Accepted);
            self.emit("reopened", version, time, "", grid::TaskState::Accepted);
        }
        self
    }

    pub fn rejected(mut self, version: i64, time: i64) -> Script {
        self.task.accept_due = None;
        self.emit("rejected", version, time, "", grid::TaskState::Rejected);
        self
    }

    pub fn merged(mut self, version: i64, time: i64, into: &str) -> Script {
        self.task.accept_due = None;
        self.task.merged_into = format!("tasks/{into}");
        self.emit("merged", version, time, "", grid::TaskState::Merged);
        self
    }

    pub fn whistled(mut self, version: i64, time: i64, department: &str) -> Script {
        self.task.resolve_due = None;
        self.task.assignments.insert(
            0,
            grid::DepartmentAssignment {
                department: format!("departments/{department}"),
                role: grid::AssignmentRole::Lead as i32,
                state: grid::AssignmentState::Assigned as i32,
                whistle_time: Some(at(time)),
                check_in_due: Some(at(time + 2 * HOUR)),
                return_due: Some(at(time + 2 * HOUR)),
                ..Default::default()
            },
        );
        self.emit("whistled", version, time, "", grid::TaskState::Whistled);
        self
    }

    fn lead(&mut self) -> &mut grid::DepartmentAssignment {
        &mut self.task.assignments[0]
    }

    pub fn returned(mut self, version: i64, time: i64) -> Script {
        let department = self.lead().department.clone();
        self.lead().state = grid::AssignmentState::Returned as i32;
        self.lead().return_time = Some(at(time));
        self.emit(
            "returned",
            version,
            time,
            &department,
            grid::TaskState::Returned,
        );
        self
    }

    pub fn checked_in(mut self, version: i64, time: i64, resolve_due: i64) -> Script {
        let department = self.lead().department.clone();
        self.lead().state = grid::AssignmentState::CheckedIn as i32;
        self.lead().check_in_time = Some(at(time));
        self.lead().resolve_due = Some(at(resolve_due));
        self.emit(
            "checked_in",
            version,
            time,
            &department,
            grid::TaskState::Whistled,
        );
        self
    }

    pub fn department_resolved(mut self, version: i64, time: i64) -> Script {
        let department = self.lead().department.clone();
        self.lead().state = grid::AssignmentState::Resolved as i32;
        self.lead().resolve_time = Some(at(time));
        self.emit(
            "department_resolved",
            version,
            time,
            &department,
            grid::TaskState::Whistled,
        );
        self.task.resolve_time = Some(at(time));
        self.emit(
            "resolved",
            version,
            time,
            &department,
            grid::TaskState::Resolved,
        );
        self
    }

    pub fn supervision(
        mut self,
        version: i64,
        time: i64,
        level: grid::SupervisionLevel,
        department: &str,
    ) -> Script {
        let key = match level {
            grid::SupervisionLevel::Red => "grid.supervision.escalated",
            _ => "grid.supervision.issued",
        };
        self.events.push(Event::Supervision(
            key.to_owned(),
            grid::SupervisionChanged {
                meta: Some(meta(key, &self.id, version, time)),
                task: format!("tasks/{}", self.id),
                order: Some(grid::SupervisionOrder {
                    name: format!("tasks/{}/supervisionOrders/{}", self.id, Uuid::now_v7()),
                    department: if department.is_empty() {
                        String::new()
                    } else {
                        format!("departments/{department}")
                    },
                    level: level as i32,
                    issue_time: Some(at(time)),
                    ..Default::default()
                }),
            },
        ));
        self
    }
}

/// The four scripted tasks, each task's events in the grid's order.
pub fn tasks() -> Vec<Script> {
    let t1 = Script::reported("t1", "g1", HOUR)
        .accepted(2, 30, DAY)
        .resolved_by_grid(3, 2 * HOUR)
        .rated(4, 3 * HOUR, true, 0);
    let t2 = Script::reported("t2", "g1", HOUR)
        .accepted(2, 3 * HOUR, 4 * HOUR)
        .resolved_by_grid(3, DAY)
        .rated(4, DAY + HOUR, false, 3 * DAY)
        .resolved_by_grid(5, 2 * DAY)
        .rated(6, 2 * DAY + HOUR, true, 0);
    let t3 = Script::reported("t3", "g2", HOUR)
        .whistled(2, 10, "housing")
        .returned(3, HOUR)
        .whistled(4, 2 * HOUR, "urban")
        .checked_in(5, 3 * HOUR, DAY)
        .supervision(5, DAY, grid::SupervisionLevel::Order, "urban")
        .department_resolved(6, 2 * DAY);
    let t4 =
        Script::reported("t4", "g3", HOUR).supervision(1, 50, grid::SupervisionLevel::Warning, "");
    vec![t1, t2, t3, t4]
}

/// The cells, parents first, each with every ancestor as the grid
/// publishes them (county first).
pub fn cells() -> Vec<grid::CellCreated> {
    use grid::CellLevel as L;
    let tree: [(&str, &[&str], L); 8] = [
        ("c1", &[], L::County),
        ("st1", &["c1"], L::Street),
        ("st2", &["c1"], L::Street),
        ("cm1", &["c1", "st1"], L::Community),
        ("cm2", &["c1", "st1"], L::Community),
        ("g1", &["c1", "st1", "cm1"], L::Grid),
        ("g2", &["c1", "st1", "cm1"], L::Grid),
        ("g3", &["c1", "st1", "cm2"], L::Grid),
    ];
    tree.iter()
        .map(|(id, ancestors, level)| grid::CellCreated {
            meta: None,
            cell: Some(grid::Cell {
                name: format!("cells/{id}"),
                parent: ancestors
                    .last()
                    .map(|p| format!("cells/{p}"))
                    .unwrap_or_default(),
                level: *level as i32,
                display_name: id.to_uppercase(),
                ancestors: ancestors.iter().map(|a| format!("cells/{a}")).collect(),
                version: 1,
                ..Default::default()
            }),
        })
        .collect()
}
