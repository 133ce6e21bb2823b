//! The task lifecycle as an explicit state machine: every action is a
//! guarded transition that either yields the next task and the history it
//! appends, or an error that changes nothing. No I/O: deadlines come from
//! a [`DeadlineRules`] the caller builds from policy and calendar.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::cell::CellId;
use super::directory::{CategoryId, Urgency};
use super::report::Channel;

/// Where a task is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TaskState {
    /// Waiting for the grid to accept it.
    Reported,
    /// Accepted by the grid, which handles it or whistles.
    Accepted,
    /// The grid is handling it itself.
    InProgress,
    /// Departments were whistled.
    Whistled,
    /// The lead department returned it; the street must whistle again.
    Returned,
    /// Handled, waiting for the resident's rating.
    Resolved,
    /// Final: rated satisfied.
    Closed,
    /// Final: refused.
    Rejected,
    /// Final: merged into another task.
    Merged,
}

impl TaskState {
    /// Every state, in proto order.
    pub const ALL: [TaskState; 9] = [
        TaskState::Reported,
        TaskState::Accepted,
        TaskState::InProgress,
        TaskState::Whistled,
        TaskState::Returned,
        TaskState::Resolved,
        TaskState::Closed,
        TaskState::Rejected,
        TaskState::Merged,
    ];

    /// The stored (and proto) number, 1-9.
    pub fn number(self) -> i16 {
        match self {
            TaskState::Reported => 1,
            TaskState::Accepted => 2,
            TaskState::InProgress => 3,
            TaskState::Whistled => 4,
            TaskState::Returned => 5,
            TaskState::Resolved => 6,
            TaskState::Closed => 7,
            TaskState::Rejected => 8,
            TaskState::Merged => 9,
        }
    }

    /// The state for a stored number.
    pub fn from_number(number: i32) -> Option<TaskState> {
        TaskState::ALL
            .into_iter()
            .find(|state| i32::from(state.number()) == number)
    }

    /// Closed, rejected and merged tasks never change again.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            TaskState::Closed | TaskState::Rejected | TaskState::Merged
        )
    }

    /// Lower-case name for messages.
    pub fn label(self) -> &'static str {
        match self {
            TaskState::Reported => "reported",
            TaskState::Accepted => "accepted",
            TaskState::InProgress => "in progress",
            TaskState::Whistled => "whistled",
            TaskState::Returned => "returned",
            TaskState::Resolved => "resolved",
            TaskState::Closed => "closed",
            TaskState::Rejected => "rejected",
            TaskState::Merged => "merged",
        }
    }
}

/// A department's part in a whistled task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Answers for the whole task.
    Lead,
    /// Resolves its own part.
    Assisting,
}

/// Where a department's assignment is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AssignmentState {
    /// Whistled, not yet checked in.
    Assigned,
    /// Checked in, working.
    CheckedIn,
    /// Its part is done.
    Resolved,
    /// Returned as not its business.
    Returned,
    /// Released from the task.
    Released,
}

impl AssignmentState {
    /// Whether the department still owes work.
    pub fn is_open(self) -> bool {
        matches!(self, AssignmentState::Assigned | AssignmentState::CheckedIn)
    }

    /// Whether the assignment stays on the task after a later whistle or a
    /// reopening: who bounced a task, or was let go, is part of its record
    /// (the command centre reads it off the task, not only the history).
    pub fn outlives_its_whistle(self) -> bool {
        matches!(self, AssignmentState::Returned | AssignmentState::Released)
    }
}

/// An extension a department asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtensionRequest {
    /// The new resolve deadline asked for.
    pub until: DateTime<Utc>,
    /// Why.
    pub reason: String,
}

/// One department's part, on its own clock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    /// The department's id.
    pub department: String,
    /// Lead or assisting.
    pub role: Role,
    /// Where it is.
    pub state: AssignmentState,
    /// When it was whistled.
    pub whistle_time: DateTime<Utc>,
    /// Check in by then.
    pub check_in_due: DateTime<Utc>,
    /// Return (if not its business) by then.
    pub return_due: DateTime<Utc>,
    /// Resolve by then; set at check-in, moved by a granted extension.
    pub resolve_due: Option<DateTime<Utc>>,
    /// When it checked in.
    pub check_in_time: Option<DateTime<Utc>>,
    /// When it resolved its part.
    pub resolve_time: Option<DateTime<Utc>>,
    /// Why it returned the task.
    pub return_reason: Option<String>,
    /// When it returned the task.
    pub return_time: Option<DateTime<Utc>>,
    /// When it was released from the task.
    pub release_time: Option<DateTime<Utc>>,
    /// A pending extension request.
    pub extension: Option<ExtensionRequest>,
}

/// Why a task was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RejectionKind {
    /// Not a real matter.
    Invalid,
    /// Not this county's or grid's business.
    OutsideJurisdiction,
}

/// The lifecycle-relevant part of a task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lifecycle {
    /// Where it is.
    pub state: TaskState,
    /// The grid must accept by then (while reported).
    pub accept_due: Option<DateTime<Utc>>,
    /// The grid must resolve by then (while it handles the task itself).
    pub resolve_due: Option<DateTime<Utc>>,
    /// Departments of the current whistle, lead first in the order named,
    /// then those of earlier whistles that returned the task or were
    /// released, the latest whistle first. A department appears again when
    /// it is whistled again after returning; at most one of its assignments
    /// is open.
    pub assignments: Vec<Assignment>,
    /// How often dissatisfaction reopened it.
    pub reopen_count: i32,
    /// The last rating.
    pub satisfied: Option<bool>,
    /// The task it was merged into.
    pub merged_into: Option<String>,
    /// Why it was rejected.
    pub rejection: Option<(RejectionKind, String)>,
    /// When it was last resolved.
    pub resolve_time: Option<DateTime<Utc>>,
    /// When it was closed.
    pub close_time: Option<DateTime<Utc>>,
    /// Optimistic-concurrency version, +1 per transition.
    pub version: i64,
}

impl Lifecycle {
    /// A newly reported task.
    pub fn reported(now: DateTime<Utc>, rules: &dyn DeadlineRules) -> Lifecycle {
        Lifecycle {
            state: TaskState::Reported,
            accept_due: Some(rules.accept_due(now)),
            resolve_due: None,
            assignments: Vec::new(),
            reopen_count: 0,
            satisfied: None,
            merged_into: None,
            rejection: None,
            resolve_time: None,
            close_time: None,
            version: 1,
        }
    }

    /// The open assignment of `department`, or else its latest one.
    pub fn assignment(&self, department: &str) -> Option<&Assignment> {
        let mut of_department = self
            .assignments
            .iter()
            .filter(|a| a.department == department);
        of_department
            .clone()
            .find(|a| a.state.is_open())
            .or_else(|| of_department.next())
    }
}

/// Deadlines for one task, from its category's policy and the calendar.
pub trait DeadlineRules {
    /// The grid's acceptance deadline for a task reported at `from`.
    fn accept_due(&self, from: DateTime<Utc>) -> DateTime<Utc>;
    /// A department's check-in deadline for a whistle at `from`.
    fn check_in_due(&self, from: DateTime<Utc>) -> DateTime<Utc>;
    /// The resolve deadline counted from check-in (or acceptance) at `from`.
    fn resolve_due(&self, from: DateTime<Utc>) -> DateTime<Utc>;
    /// A department's deadline to return a task whistled at `from`.
    fn return_due(&self, from: DateTime<Utc>) -> DateTime<Utc>;
}

/// What someone wants done to a task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// The grid accepts it.
    Accept,
    /// The grid starts handling it.
    Start,
    /// The grid resolved it itself.
    ResolveByGrid,
    /// The street or community whistles a lead and assisting departments.
    Whistle {
        /// Answers for the task.
        lead: String,
        /// Resolve their own parts.
        assisting: Vec<String>,
    },
    /// A department checks in.
    CheckIn {
        /// The department.
        department: String,
    },
    /// A department resolved its part.
    ResolvePart {
        /// The department.
        department: String,
    },
    /// A department returns the task as not its business.
    Return {
        /// The department.
        department: String,
        /// Why.
        reason: String,
    },
    /// An assisting department is released.
    Release {
        /// The department.
        department: String,
    },
    /// The resident rates the result.
    Rate {
        /// Satisfied or not.
        satisfied: bool,
        /// Required when dissatisfied.
        reason: String,
    },
    /// A department asks for more time.
    RequestExtension {
        /// The department.
        department: String,
        /// The new resolve deadline.
        until: DateTime<Utc>,
        /// Why.
        reason: String,
    },
    /// The command centre decides a pending extension.
    DecideExtension {
        /// The department.
        department: String,
        /// Grant (true) or refuse.
        grant: bool,
        /// Required when refusing.
        reason: String,
    },
    /// Refuse the task.
    Reject {
        /// Why, in kind.
        kind: RejectionKind,
        /// Why, in words.
        reason: String,
    },
    /// Merge into another open task.
    MergeAsDuplicate {
        /// The task it duplicates.
        duplicate_of: String,
    },
}

/// A history entry a transition appends (the store adds sequence, actor, time).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// e.g. "accepted"; also the event's routing key suffix.
    pub action: &'static str,
    /// State before.
    pub from: TaskState,
    /// State after.
    pub to: TaskState,
    /// The department it concerns, if any.
    pub department: Option<String>,
    /// Why, when given.
    pub reason: Option<String>,
    /// For acceptances, check-ins and resolutions: whether they met their deadline.
    pub on_time: Option<bool>,
}

/// Why a transition is refused. Nothing changes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    /// The action does not apply in the current state.
    #[error("cannot {action} a task that is {state}")]
    WrongState {
        /// The action.
        action: &'static str,
        /// The current state's label.
        state: &'static str,
    },
    /// The department is not (or no longer) on the task, or not in a state for it.
    #[error("departments/{department} {problem}")]
    Department {
        /// The department.
        department: String,
        /// What is wrong.
        problem: &'static str,
    },
    /// A rule about the action's arguments.
    #[error("{0}")]
    Rule(&'static str),
}

/// The result of a successful transition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    /// The task after it.
    pub lifecycle: Lifecycle,
    /// What it appends to the history (and publishes), in order.
    pub steps: Vec<Step>,
}

/// Applies `action` at `now`: the next lifecycle and its steps, or why not.
pub fn apply(
    current: &Lifecycle,
    action: &Action,
    now: DateTime<Utc>,
    rules: &dyn DeadlineRules,
) -> Result<Transition, TransitionError> {
    let mut next = current.clone();
    let from = current.state;
    let mut steps = Steps {
        from,
        now,
        list: Vec::new(),
    };
    let wrong_state = |action: &'static str| TransitionError::WrongState {
        action,
        state: from.label(),
    };
    use TaskState as S;

    match action {
        Action::Accept => {
            if from != S::Reported {
                return Err(wrong_state("accept"));
            }
            next.state = S::Accepted;
            next.accept_due = None;
            next.resolve_due = Some(rules.resolve_due(now));
            steps.push("accepted", S::Accepted, None, None);
            steps.timed(current.accept_due);
        }
        Action::Start => {
            if from != S::Accepted {
                return Err(wrong_state("start"));
            }
            next.state = S::InProgress;
            steps.push("started", S::InProgress, None, None);
        }
        Action::ResolveByGrid => {
            if !matches!(from, S::Accepted | S::InProgress) {
                return Err(wrong_state("resolve"));
            }
            next.state = S::Resolved;
            next.resolve_due = None;
            next.resolve_time = Some(now);
            steps.push("resolved_by_grid", S::Resolved, None, None);
            steps.timed(current.resolve_due);
        }
        Action::Whistle { lead, assisting } => {
            if !matches!(
                from,
                S::Reported | S::Accepted | S::InProgress | S::Returned
            ) {
                return Err(wrong_state("whistle"));
            }
            let mut named: Vec<&String> = std::iter::once(lead).chain(assisting.iter()).collect();
            named.sort();
            if named.windows(2).any(|pair| pair[0] == pair[1]) {
                return Err(TransitionError::Rule(
                    "a department can be named only once in a whistle",
                ));
            }
            let assign = |department: &String, role| Assignment {
                department: department.clone(),
                role,
                state: AssignmentState::Assigned,
                whistle_time: now,
                check_in_due: rules.check_in_due(now),
                return_due: rules.return_due(now),
                resolve_due: None,
                check_in_time: None,
                resolve_time: None,
                return_reason: None,
                return_time: None,
                release_time: None,
                extension: None,
            };
            // The earlier whistle's open and resolved parts end with it; its
            // returns and releases stay on the record.
            let earlier = current
                .assignments
                .iter()
                .filter(|a| a.state.outlives_its_whistle())
                .cloned();
            next.assignments = std::iter::once(assign(lead, Role::Lead))
                .chain(assisting.iter().map(|d| assign(d, Role::Assisting)))
                .chain(earlier)
                .collect();
            next.state = S::Whistled;
            next.accept_due = None;
            next.resolve_due = None;
            steps.push("whistled", S::Whistled, Some(lead), None);
        }
        Action::CheckIn { department } => {
            let assignment = open_assignment(&mut next, from, "check in", department)?;
            if assignment.state != AssignmentState::Assigned {
                return Err(department_error(department, "has already checked in"));
            }
            assignment.state = AssignmentState::CheckedIn;
            assignment.check_in_time = Some(now);
            assignment.resolve_due = Some(rules.resolve_due(now));
            let check_in_due = assignment.check_in_due;
            steps.push("checked_in", S::Whistled, Some(department), None);
            steps.timed(Some(check_in_due));
        }
        Action::ResolvePart { department } => {
            let assignment = open_assignment(&mut next, from, "resolve a part of", department)?;
            if assignment.state != AssignmentState::CheckedIn {
                return Err(department_error(
                    department,
                    "must check in before resolving",
                ));
            }
            assignment.state = AssignmentState::Resolved;
            assignment.resolve_time = Some(now);
            assignment.extension = None;
            let resolve_due = assignment.resolve_due;
            steps.push("department_resolved", S::Whistled, Some(department), None);
            steps.timed(resolve_due);
            finish_if_complete(&mut next, &mut steps, department);
        }
        Action::Return { department, reason } => {
            require_reason(reason)?;
            let assignment = open_assignment(&mut next, from, "return", department)?;
            if now > assignment.return_due {
                return Err(department_error(
                    department,
                    "missed its deadline to return the task",
                ));
            }
            assignment.state = AssignmentState::Returned;
            assignment.return_reason = Some(reason.clone());
            assignment.return_time = Some(now);
            assignment.extension = None;
            if assignment.role == Role::Lead {
                next.state = S::Returned;
                steps.push("returned", S::Returned, Some(department), Some(reason));
            } else {
                steps.push("returned", S::Whistled, Some(department), Some(reason));
                finish_if_complete(&mut next, &mut steps, department);
            }
        }
        Action::Release { department } => {
            let assignment =
                open_assignment(&mut next, from, "release a department from", department)?;
            if assignment.role == Role::Lead {
                return Err(TransitionError::Rule(
                    "the lead department cannot be released; whistle again instead",
                ));
            }
            assignment.state = AssignmentState::Released;
            assignment.release_time = Some(now);
            assignment.extension = None;
            steps.push("released", S::Whistled, Some(department), None);
            finish_if_complete(&mut next, &mut steps, department);
        }
        Action::Rate { satisfied, reason } => {
            if from != S::Resolved {
                return Err(wrong_state("rate"));
            }
            next.satisfied = Some(*satisfied);
            if *satisfied {
                next.state = S::Closed;
                next.close_time = Some(now);
                steps.push("rated", S::Closed, None, None);
                steps.push("closed", S::Closed, None, None);
            } else {
                require_reason(reason)?;
                // Back with the grid, which handles it or whistles again.
                next.state = S::Accepted;
                next.reopen_count += 1;
                next.assignments.retain(|a| a.state.outlives_its_whistle());
                next.resolve_due = Some(rules.resolve_due(now));
                steps.push("rated", S::Accepted, None, Some(reason));
                steps.push("reopened", S::Accepted, None, Some(reason));
            }
        }
        Action::RequestExtension {
            department,
            until,
            reason,
        } => {
            require_reason(reason)?;
            let assignment = open_assignment(&mut next, from, "extend", department)?;
            let Some(due) = assignment
                .resolve_due
                .filter(|_| assignment.state == AssignmentState::CheckedIn)
            else {
                return Err(department_error(
                    department,
                    "must check in before asking for more time",
                ));
            };
            if *until <= due {
                return Err(TransitionError::Rule(
                    "an extension must move the resolve deadline later",
                ));
            }
            if assignment.extension.is_some() {
                return Err(department_error(
                    department,
                    "already has an extension request pending",
                ));
            }
            assignment.extension = Some(ExtensionRequest {
                until: *until,
                reason: reason.clone(),
            });
            steps.push(
                "extension_requested",
                S::Whistled,
                Some(department),
                Some(reason),
            );
        }
        Action::DecideExtension {
            department,
            grant,
            reason,
        } => {
            let assignment =
                open_assignment(&mut next, from, "decide an extension of", department)?;
            let Some(request) = assignment.extension.take() else {
                return Err(department_error(
                    department,
                    "has no extension request pending",
                ));
            };
            if *grant {
                assignment.resolve_due = Some(request.until);
                steps.push("extension_granted", S::Whistled, Some(department), None);
            } else {
                require_reason(reason)?;
                steps.push(
                    "extension_refused",
                    S::Whistled,
                    Some(department),
                    Some(reason),
                );
            }
        }
        Action::Reject { kind, reason } => {
            if !matches!(from, S::Reported | S::Accepted) {
                return Err(wrong_state("reject"));
            }
            require_reason(reason)?;
            next.state = S::Rejected;
            next.rejection = Some((*kind, reason.clone()));
            next.accept_due = None;
            next.resolve_due = None;
            next.close_time = Some(now);
            steps.push("rejected", S::Rejected, None, Some(reason));
        }
        Action::MergeAsDuplicate { duplicate_of } => {
            if !matches!(from, S::Reported | S::Accepted) {
                return Err(wrong_state("merge"));
            }
            next.state = S::Merged;
            next.merged_into = Some(duplicate_of.clone());
            next.accept_due = None;
            next.resolve_due = None;
            next.close_time = Some(now);
            steps.push("merged", S::Merged, None, None);
        }
    }
    next.version += 1;
    Ok(Transition {
        lifecycle: next,
        steps: steps.list,
    })
}

/// The open assignment of `department`, when the task is whistled.
fn open_assignment<'a>(
    next: &'a mut Lifecycle,
    from: TaskState,
    action: &'static str,
    department: &str,
) -> Result<&'a mut Assignment, TransitionError> {
    if from != TaskState::Whistled {
        return Err(TransitionError::WrongState {
            action,
            state: from.label(),
        });
    }
    // A department whistled again after returning has its returned
    // assignment too: act on the open one.
    let mut of_department = next
        .assignments
        .iter_mut()
        .filter(|a| a.department == department)
        .peekable();
    if of_department.peek().is_none() {
        return Err(department_error(department, "is not assigned to this task"));
    }
    of_department
        .find(|a| a.state.is_open())
        .ok_or_else(|| department_error(department, "has finished its part already"))
}

/// The task is resolved once the lead has resolved and no assisting
/// department still owes work (resolved, returned or released).
fn finish_if_complete(next: &mut Lifecycle, steps: &mut Steps, department: &str) {
    let lead_done = next
        .assignments
        .iter()
        .any(|a| a.role == Role::Lead && a.state == AssignmentState::Resolved);
    let nothing_open = next.assignments.iter().all(|a| !a.state.is_open());
    if lead_done && nothing_open {
        next.state = TaskState::Resolved;
        next.resolve_time = Some(steps.now);
        steps.push("resolved", TaskState::Resolved, Some(department), None);
    }
}

/// The steps a transition appends, all starting from the same state.
struct Steps {
    from: TaskState,
    now: DateTime<Utc>,
    list: Vec<Step>,
}

impl Steps {
    fn push(
        &mut self,
        action: &'static str,
        to: TaskState,
        department: Option<&str>,
        reason: Option<&str>,
    ) {
        self.list.push(Step {
            action,
            from: self.from,
            to,
            department: department.map(str::to_owned),
            reason: reason.filter(|r| !r.is_empty()).map(str::to_owned),
            on_time: None,
        });
    }

    /// Marks the last step as made on time (or not) against `due`.
    fn timed(&mut self, due: Option<DateTime<Utc>>) {
        if let (Some(last), Some(due)) = (self.list.last_mut(), due) {
            last.on_time = Some(self.now <= due);
        }
    }
}

fn department_error(department: &str, problem: &'static str) -> TransitionError {
    TransitionError::Department {
        department: department.to_owned(),
        problem,
    }
}

fn require_reason(reason: &str) -> Result<(), TransitionError> {
    if reason.trim().is_empty() {
        return Err(TransitionError::Rule(
            "a reason is required for this action",
        ));
    }
    Ok(())
}

/// A task's id (a UUID v7: ordered by creation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TaskId(Uuid);

impl TaskId {
    /// A new id, later than every id made before it here.
    pub fn new() -> TaskId {
        TaskId(Uuid::now_v7())
    }

    /// The id as stored.
    pub fn from_uuid(id: Uuid) -> TaskId {
        TaskId(id)
    }

    /// Accepts `tasks/{uuid}`.
    pub fn parse_name(name: &str) -> Option<TaskId> {
        name.strip_prefix("tasks/")
            .and_then(|id| Uuid::parse_str(id).ok())
            .map(TaskId)
    }

    /// The UUID.
    pub fn uuid(self) -> Uuid {
        self.0
    }

    /// `tasks/{uuid}`.
    pub fn resource_name(self) -> String {
        format!("tasks/{}", self.0)
    }
}

impl Default for TaskId {
    fn default() -> Self {
        TaskId::new()
    }
}

impl fmt::Display for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A task: what was reported, where, and where it is in its life.
#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    /// Its id.
    pub id: TaskId,
    /// The cell it happened in.
    pub cell: CellId,
    /// That cell's path, for scope checks.
    pub cell_path: String,
    /// Its category.
    pub category: CategoryId,
    /// How urgent.
    pub urgency: Urgency,
    /// How it came in.
    pub channel: Channel,
    /// What happened.
    pub description: String,
    /// Stored files.
    pub attachments: Vec<String>,
    /// The category's extra fields.
    pub fields: BTreeMap<String, String>,
    /// The reporter's contact, masked.
    pub reporter_contact_masked: String,
    /// Where it is in its life.
    pub lifecycle: Lifecycle,
    /// Reported at.
    pub create_time: DateTime<Utc>,
    /// Last changed at.
    pub update_time: DateTime<Utc>,
    /// Loaded with its history by ImportTasks, not reported live.
    pub imported: bool,
}

impl Task {
    /// The ids of the departments on it: the current whistle's, and those
    /// that returned it or were released (they may still read it; acting
    /// needs an open assignment).
    pub fn departments(&self) -> Vec<&str> {
        self.lifecycle
            .assignments
            .iter()
            .map(|a| a.department.as_str())
            .collect()
    }
}

/// One entry of a task's append-only history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryEntry {
    /// 1, 2, 3, ... per task.
    pub sequence: i64,
    /// e.g. "accepted".
    pub action: String,
    /// State before (none for the report itself).
    pub from_state: Option<TaskState>,
    /// State after.
    pub to_state: TaskState,
    /// Who acted.
    pub actor: String,
    /// The department concerned.
    pub department: Option<String>,
    /// Why.
    pub reason: Option<String>,
    /// When.
    pub time: DateTime<Utc>,
}

#[cfg(test)]
mod tests;
