//! The task state machine: every allowed and forbidden transition, and a
//! property test against a deliberately simple reference model.

use chrono::{Duration, TimeZone};
use proptest::prelude::*;

use super::*;

/// Fixed allowances: accept 30 min, check in 60, resolve 120, return 90.
struct Fixed;

impl DeadlineRules for Fixed {
    fn accept_due(&self, from: DateTime<Utc>) -> DateTime<Utc> {
        from + Duration::minutes(30)
    }
    fn check_in_due(&self, from: DateTime<Utc>) -> DateTime<Utc> {
        from + Duration::minutes(60)
    }
    fn resolve_due(&self, from: DateTime<Utc>) -> DateTime<Utc> {
        from + Duration::minutes(120)
    }
    fn return_due(&self, from: DateTime<Utc>) -> DateTime<Utc> {
        from + Duration::minutes(90)
    }
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 1, 0, 0)
        .single()
        .unwrap_or_default()
}

fn run(actions: &[Action]) -> Result<Lifecycle, TransitionError> {
    let mut task = Lifecycle::reported(t0(), &Fixed);
    for action in actions {
        task = apply(&task, action, t0() + Duration::minutes(1), &Fixed)?.lifecycle;
    }
    Ok(task)
}

fn whistle(lead: &str, assisting: &[&str]) -> Action {
    Action::Whistle {
        lead: lead.into(),
        assisting: assisting.iter().map(|d| (*d).to_owned()).collect(),
    }
}
fn check_in(d: &str) -> Action {
    Action::CheckIn {
        department: d.into(),
    }
}
fn resolve_part(d: &str) -> Action {
    Action::ResolvePart {
        department: d.into(),
    }
}
fn give_back(d: &str) -> Action {
    Action::Return {
        department: d.into(),
        reason: "not ours".into(),
    }
}
fn release(d: &str) -> Action {
    Action::Release {
        department: d.into(),
    }
}
fn rate(satisfied: bool) -> Action {
    Action::Rate {
        satisfied,
        reason: if satisfied {
            String::new()
        } else {
            "still broken".into()
        },
    }
}
fn reject() -> Action {
    Action::Reject {
        kind: RejectionKind::Invalid,
        reason: "prank".into(),
    }
}
fn merge() -> Action {
    Action::MergeAsDuplicate {
        duplicate_of: "other".into(),
    }
}

/// A path of actions that reaches each state.
fn reach(state: TaskState) -> Vec<Action> {
    use TaskState as S;
    match state {
        S::Reported => vec![],
        S::Accepted => vec![Action::Accept],
        S::InProgress => vec![Action::Accept, Action::Start],
        S::Whistled => vec![whistle("housing", &["water"])],
        S::Returned => vec![whistle("housing", &["water"]), give_back("housing")],
        S::Resolved => vec![Action::Accept, Action::ResolveByGrid],
        S::Closed => vec![Action::Accept, Action::ResolveByGrid, rate(true)],
        S::Rejected => vec![reject()],
        S::Merged => vec![merge()],
    }
}

/// Each action with the states it is allowed in (department actions on a
/// whistled task whose departments are housing (lead) and water (assisting)).
fn table() -> Vec<(&'static str, Action, Vec<TaskState>)> {
    use TaskState as S;
    vec![
        ("accept", Action::Accept, vec![S::Reported]),
        ("start", Action::Start, vec![S::Accepted]),
        (
            "resolve by grid",
            Action::ResolveByGrid,
            vec![S::Accepted, S::InProgress],
        ),
        (
            "whistle",
            whistle("transport", &[]),
            vec![S::Reported, S::Accepted, S::InProgress, S::Returned],
        ),
        ("check in", check_in("water"), vec![S::Whistled]),
        ("return", give_back("water"), vec![S::Whistled]),
        ("release", release("water"), vec![S::Whistled]),
        ("rate satisfied", rate(true), vec![S::Resolved]),
        ("rate dissatisfied", rate(false), vec![S::Resolved]),
        ("reject", reject(), vec![S::Reported, S::Accepted]),
        ("merge", merge(), vec![S::Reported, S::Accepted]),
    ]
}

#[test]
fn every_action_is_allowed_exactly_in_its_states_and_a_refusal_changes_nothing() {
    for (name, action, allowed) in table() {
        for state in TaskState::ALL {
            let before = run(&reach(state)).expect("the path to each state is valid");
            assert_eq!(before.state, state);
            let outcome = apply(&before, &action, t0() + Duration::minutes(2), &Fixed);
            match outcome {
                Ok(transition) => {
                    assert!(
                        allowed.contains(&state),
                        "{name} must be refused when {state:?}"
                    );
                    assert_eq!(transition.lifecycle.version, before.version + 1);
                    assert!(!transition.steps.is_empty());
                }
                Err(error) => {
                    assert!(
                        !allowed.contains(&state),
                        "{name} must be allowed when {state:?}: {error}"
                    );
                }
            }
        }
    }
}

#[test]
fn final_states_refuse_every_action() {
    for state in [TaskState::Closed, TaskState::Rejected, TaskState::Merged] {
        let task = run(&reach(state)).expect("path");
        for (_, action, _) in table() {
            assert!(apply(&task, &action, t0(), &Fixed).is_err());
        }
    }
}

#[test]
fn a_whistled_task_is_resolved_when_the_lead_and_every_assisting_department_are_done() {
    let task = run(&[
        whistle("housing", &["water", "power"]),
        check_in("housing"),
        check_in("water"),
    ])
    .expect("path");
    let task = apply(&task, &resolve_part("housing"), t0(), &Fixed)
        .expect("lead resolves")
        .lifecycle;
    assert_eq!(
        task.state,
        TaskState::Whistled,
        "water and power still owe work"
    );
    let task = apply(&task, &resolve_part("water"), t0(), &Fixed)
        .expect("water resolves")
        .lifecycle;
    let done = apply(&task, &release("power"), t0(), &Fixed).expect("power released");
    assert_eq!(done.lifecycle.state, TaskState::Resolved);
    let actions: Vec<&str> = done.steps.iter().map(|s| s.action).collect();
    assert_eq!(actions, vec!["released", "resolved"]);
}

#[test]
fn a_department_must_check_in_before_resolving_and_cannot_act_twice() {
    let task = run(&[whistle("housing", &[])]).expect("path");
    assert!(matches!(
        apply(&task, &resolve_part("housing"), t0(), &Fixed),
        Err(TransitionError::Department { .. })
    ));
    let task = apply(&task, &check_in("housing"), t0(), &Fixed)
        .expect("check in")
        .lifecycle;
    assert!(apply(&task, &check_in("housing"), t0(), &Fixed).is_err());
    assert!(
        apply(&task, &check_in("water"), t0(), &Fixed).is_err(),
        "not assigned"
    );
}

#[test]
fn the_lead_returning_sends_the_task_back_to_the_street_and_the_lead_cannot_be_released() {
    let task = run(&[whistle("housing", &["water"])]).expect("path");
    assert!(apply(&task, &release("housing"), t0(), &Fixed).is_err());
    let returned = apply(&task, &give_back("housing"), t0(), &Fixed)
        .expect("return")
        .lifecycle;
    assert_eq!(returned.state, TaskState::Returned);
    let again = apply(&returned, &whistle("transport", &[]), t0(), &Fixed)
        .expect("whistle again")
        .lifecycle;
    // The new whistle is the only open part; the returned lead stays on
    // the record (issue 8) and the earlier assisting part ends.
    let open: Vec<&str> = again
        .assignments
        .iter()
        .filter(|a| a.state.is_open())
        .map(|a| a.department.as_str())
        .collect();
    assert_eq!(open, vec!["transport"]);
    assert_eq!(again.assignments[0].department, "transport");
}

#[test]
fn a_returned_lead_stays_on_the_task_with_its_reason_and_times_after_another_whistle() {
    let whistled_at = t0() + Duration::minutes(1);
    let task = run(&[whistle("housing", &["water"])]).expect("path");
    let returned_at = t0() + Duration::minutes(20);
    let returned = apply(&task, &give_back("housing"), returned_at, &Fixed)
        .expect("return")
        .lifecycle;
    let again_at = t0() + Duration::minutes(40);
    let again = apply(
        &returned,
        &whistle("transport", &["power"]),
        again_at,
        &Fixed,
    )
    .expect("whistle again")
    .lifecycle;
    let listed: Vec<(&str, Role, AssignmentState)> = again
        .assignments
        .iter()
        .map(|a| (a.department.as_str(), a.role, a.state))
        .collect();
    assert_eq!(
        listed,
        vec![
            ("transport", Role::Lead, AssignmentState::Assigned),
            ("power", Role::Assisting, AssignmentState::Assigned),
            ("housing", Role::Lead, AssignmentState::Returned),
        ]
    );
    let housing = again.assignment("housing").expect("still listed");
    assert_eq!(housing.return_reason.as_deref(), Some("not ours"));
    assert_eq!(housing.return_time, Some(returned_at));
    assert_eq!(housing.whistle_time, whistled_at);
    assert_eq!(housing.return_due, whistled_at + Duration::minutes(90));
    assert_eq!(again.assignments[0].whistle_time, again_at);
}

#[test]
fn a_department_whistled_again_after_returning_acts_on_its_new_assignment() {
    let task = run(&[
        whistle("housing", &[]),
        give_back("housing"),
        whistle("water", &["housing"]),
    ])
    .expect("path");
    assert_eq!(task.assignments.len(), 3);
    let new = task.assignment("housing").expect("open");
    assert_eq!(new.state, AssignmentState::Assigned);
    assert_eq!(new.role, Role::Assisting);

    let checked_in = apply(&task, &check_in("housing"), t0(), &Fixed)
        .expect("the new assignment checks in")
        .lifecycle;
    let states: Vec<(&str, AssignmentState)> = checked_in
        .assignments
        .iter()
        .map(|a| (a.department.as_str(), a.state))
        .collect();
    assert_eq!(
        states,
        vec![
            ("water", AssignmentState::Assigned),
            ("housing", AssignmentState::CheckedIn),
            ("housing", AssignmentState::Returned),
        ]
    );
    // Once its new part is done too, nothing of it is open any more.
    let done = apply(&checked_in, &resolve_part("housing"), t0(), &Fixed)
        .expect("resolve part")
        .lifecycle;
    assert!(matches!(
        apply(&done, &check_in("housing"), t0(), &Fixed),
        Err(TransitionError::Department { problem, .. }) if problem == "has finished its part already"
    ));
    assert!(matches!(
        apply(&done, &check_in("transport"), t0(), &Fixed),
        Err(TransitionError::Department { problem, .. }) if problem == "is not assigned to this task"
    ));
}

#[test]
fn releases_and_returns_stay_across_a_reopening_but_resolved_parts_do_not() {
    let resolved = run(&[
        whistle("housing", &["water", "power"]),
        give_back("water"),
        release("power"),
        check_in("housing"),
        resolve_part("housing"),
    ])
    .expect("path");
    assert_eq!(resolved.state, TaskState::Resolved);
    let reopened = apply(&resolved, &rate(false), t0(), &Fixed)
        .expect("reopen")
        .lifecycle;
    let kept: Vec<(&str, AssignmentState)> = reopened
        .assignments
        .iter()
        .map(|a| (a.department.as_str(), a.state))
        .collect();
    assert_eq!(
        kept,
        vec![
            ("water", AssignmentState::Returned),
            ("power", AssignmentState::Released),
        ]
    );
    assert!(reopened.assignments[1].release_time.is_some());
}

#[test]
fn returning_after_the_return_deadline_is_refused() {
    let task = run(&[whistle("housing", &[])]).expect("path");
    let late = t0() + Duration::minutes(1) + Duration::minutes(91);
    assert!(matches!(
        apply(&task, &give_back("housing"), late, &Fixed),
        Err(TransitionError::Department { .. })
    ));
}

#[test]
fn dissatisfaction_reopens_and_counts_while_satisfaction_closes() {
    let resolved = run(&reach(TaskState::Resolved)).expect("path");
    let reopened = apply(&resolved, &rate(false), t0(), &Fixed).expect("reopen");
    assert_eq!(reopened.lifecycle.state, TaskState::Accepted);
    assert_eq!(reopened.lifecycle.reopen_count, 1);
    assert_eq!(
        reopened.steps.iter().map(|s| s.action).collect::<Vec<_>>(),
        vec!["rated", "reopened"]
    );
    let unexplained = Action::Rate {
        satisfied: false,
        reason: " ".into(),
    };
    assert!(
        apply(&resolved, &unexplained, t0(), &Fixed).is_err(),
        "dissatisfaction needs a reason"
    );
}

#[test]
fn an_extension_moves_the_resolve_deadline_only_when_granted() {
    let task = run(&[whistle("housing", &[]), check_in("housing")]).expect("path");
    let due = task
        .assignment("housing")
        .and_then(|a| a.resolve_due)
        .expect("due set at check-in");
    let ask = Action::RequestExtension {
        department: "housing".into(),
        until: due + Duration::days(2),
        reason: "parts".into(),
    };
    let asked = apply(&task, &ask, t0(), &Fixed).expect("request").lifecycle;
    assert!(
        apply(&asked, &ask, t0(), &Fixed).is_err(),
        "one pending request at a time"
    );
    let refuse = Action::DecideExtension {
        department: "housing".into(),
        grant: false,
        reason: "no".into(),
    };
    let refused = apply(&asked, &refuse, t0(), &Fixed)
        .expect("refuse")
        .lifecycle;
    assert_eq!(
        refused.assignment("housing").and_then(|a| a.resolve_due),
        Some(due)
    );
    let grant = Action::DecideExtension {
        department: "housing".into(),
        grant: true,
        reason: String::new(),
    };
    let granted = apply(&asked, &grant, t0(), &Fixed)
        .expect("grant")
        .lifecycle;
    assert_eq!(
        granted.assignment("housing").and_then(|a| a.resolve_due),
        Some(due + Duration::days(2))
    );
    let shorter = Action::RequestExtension {
        department: "housing".into(),
        until: due,
        reason: "x".into(),
    };
    assert!(apply(&task, &shorter, t0(), &Fixed).is_err());
}

#[test]
fn a_whistle_names_each_department_once() {
    let task = run(&[]).expect("path");
    assert!(apply(&task, &whistle("housing", &["housing"]), t0(), &Fixed).is_err());
    assert!(
        apply(
            &task,
            &whistle("housing", &["water", "water"]),
            t0(),
            &Fixed
        )
        .is_err()
    );
}

// ---------------------------------------------------------------- model

/// The reference model: just the states, as a table anyone can check by eye.
#[derive(Debug, Clone, PartialEq)]
struct Model {
    state: TaskState,
    /// (department, is_lead, state, whistled at minute)
    departments: Vec<(String, bool, AssignmentState, i64)>,
    reopen_count: i32,
    version: i64,
}

impl Model {
    /// `Some(next)` when the model allows `action` at minute `now`.
    fn step(&self, action: &Action, now: i64) -> Option<Model> {
        use AssignmentState as A;
        use TaskState as S;
        let mut m = self.clone();
        m.version += 1;
        // A department's open assignment, else any of its (a refusal then).
        let find = |m: &mut Model, d: &str| {
            let open = |st: &A| matches!(st, A::Assigned | A::CheckedIn);
            m.departments
                .iter()
                .position(|(name, _, st, _)| name == d && open(st))
                .or_else(|| m.departments.iter().position(|(name, ..)| name == d))
        };
        // What stays on a task after its whistle ends: returns and releases.
        let kept = |m: &Model| -> Vec<(String, bool, AssignmentState, i64)> {
            m.departments
                .iter()
                .filter(|(_, _, st, _)| matches!(st, A::Returned | A::Released))
                .cloned()
                .collect()
        };
        let settle = |m: &mut Model| {
            let lead_done = m
                .departments
                .iter()
                .any(|(_, lead, st, _)| *lead && *st == A::Resolved);
            let open = m
                .departments
                .iter()
                .any(|(_, _, st, _)| matches!(st, A::Assigned | A::CheckedIn));
            if lead_done && !open {
                m.state = S::Resolved;
            }
        };
        match (self.state, action) {
            (S::Reported, Action::Accept) => m.state = S::Accepted,
            (S::Accepted, Action::Start) => m.state = S::InProgress,
            (S::Accepted | S::InProgress, Action::ResolveByGrid) => m.state = S::Resolved,
            (
                S::Reported | S::Accepted | S::InProgress | S::Returned,
                Action::Whistle { lead, assisting },
            ) => {
                let mut all: Vec<&String> = std::iter::once(lead).chain(assisting).collect();
                all.sort();
                all.dedup();
                if all.len() != 1 + assisting.len() {
                    return None;
                }
                m.departments = std::iter::once((lead.clone(), true, A::Assigned, now))
                    .chain(
                        assisting
                            .iter()
                            .map(|d| (d.clone(), false, A::Assigned, now)),
                    )
                    .chain(kept(self))
                    .collect();
                m.state = S::Whistled;
            }
            (S::Whistled, Action::CheckIn { department }) => {
                let i = find(&mut m, department)?;
                if m.departments[i].2 != A::Assigned {
                    return None;
                }
                m.departments[i].2 = A::CheckedIn;
            }
            (S::Whistled, Action::ResolvePart { department }) => {
                let i = find(&mut m, department)?;
                if m.departments[i].2 != A::CheckedIn {
                    return None;
                }
                m.departments[i].2 = A::Resolved;
                settle(&mut m);
            }
            (S::Whistled, Action::Return { department, reason }) => {
                let i = find(&mut m, department)?;
                let open = matches!(m.departments[i].2, A::Assigned | A::CheckedIn);
                if !open || reason.trim().is_empty() || now > m.departments[i].3 + 90 {
                    return None;
                }
                m.departments[i].2 = A::Returned;
                if m.departments[i].1 {
                    m.state = S::Returned;
                } else {
                    settle(&mut m);
                }
            }
            (S::Whistled, Action::Release { department }) => {
                let i = find(&mut m, department)?;
                if m.departments[i].1 || !matches!(m.departments[i].2, A::Assigned | A::CheckedIn) {
                    return None;
                }
                m.departments[i].2 = A::Released;
                settle(&mut m);
            }
            (
                S::Resolved,
                Action::Rate {
                    satisfied: true, ..
                },
            ) => m.state = S::Closed,
            (
                S::Resolved,
                Action::Rate {
                    satisfied: false,
                    reason,
                },
            ) if !reason.trim().is_empty() => {
                m.state = S::Accepted;
                m.reopen_count += 1;
                m.departments = kept(self);
            }
            (S::Reported | S::Accepted, Action::Reject { reason, .. })
                if !reason.trim().is_empty() =>
            {
                m.state = S::Rejected
            }
            (S::Reported | S::Accepted, Action::MergeAsDuplicate { .. }) => m.state = S::Merged,
            _ => return None,
        }
        Some(m)
    }
}

fn department() -> impl Strategy<Value = String> {
    prop::sample::select(vec!["housing", "water", "power"]).prop_map(str::to_owned)
}

fn reason() -> impl Strategy<Value = String> {
    prop::sample::select(vec!["", "because"]).prop_map(str::to_owned)
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        Just(Action::Accept),
        Just(Action::Start),
        Just(Action::ResolveByGrid),
        (department(), prop::collection::vec(department(), 0..3))
            .prop_map(|(lead, assisting)| Action::Whistle { lead, assisting }),
        department().prop_map(|department| Action::CheckIn { department }),
        department().prop_map(|department| Action::ResolvePart { department }),
        (department(), reason())
            .prop_map(|(department, reason)| Action::Return { department, reason }),
        department().prop_map(|department| Action::Release { department }),
        (any::<bool>(), reason())
            .prop_map(|(satisfied, reason)| Action::Rate { satisfied, reason }),
        reason().prop_map(|reason| Action::Reject {
            kind: RejectionKind::OutsideJurisdiction,
            reason
        }),
        Just(Action::MergeAsDuplicate {
            duplicate_of: "other".into()
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_command_sequences_follow_the_reference_model(
        commands in prop::collection::vec((action(), 0i64..40), 1..40)
    ) {
        let mut task = Lifecycle::reported(t0(), &Fixed);
        let mut model = Model { state: TaskState::Reported, departments: Vec::new(), reopen_count: 0, version: 1 };
        let mut minute = 0;
        for (action, wait) in commands {
            minute += wait;
            let now = t0() + Duration::minutes(minute);
            let expected = model.step(&action, minute);
            match (apply(&task, &action, now, &Fixed), expected) {
                (Ok(transition), Some(next)) => {
                    prop_assert_eq!(transition.lifecycle.state, next.state, "{:?}", action);
                    prop_assert_eq!(transition.lifecycle.version, next.version);
                    prop_assert_eq!(transition.lifecycle.reopen_count, next.reopen_count);
                    let states: Vec<_> = transition.lifecycle.assignments.iter().map(|a| (a.department.clone(), a.state)).collect();
                    let expected_states: Vec<_> = next.departments.iter().map(|(d, _, s, _)| (d.clone(), *s)).collect();
                    prop_assert_eq!(states, expected_states);
                    prop_assert_eq!(transition.steps.first().map(|s| s.from), Some(task.state));
                    prop_assert_eq!(transition.steps.last().map(|s| s.to), Some(next.state));
                    task = transition.lifecycle;
                    model = next;
                }
                (Err(_), None) => {}
                (outcome, expected) => {
                    prop_assert!(false, "{:?} from {:?}: machine {:?}, model {:?}", action, task.state, outcome.map(|t| t.lifecycle.state), expected.map(|m| m.state));
                }
            }
        }
    }
}
