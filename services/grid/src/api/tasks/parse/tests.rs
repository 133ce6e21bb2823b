use civicgrid_proto::grid::v1::transition_task_request as tr;
use civicgrid_runtime::auth::Role;
use civicgrid_testkit::invalid_fields as fields;

use super::*;

fn caller(roles: &[Role], department: Option<&str>) -> Caller {
    Caller {
        subject: "tester".into(),
        roles: roles.to_vec(),
        scope: Vec::new(),
        department: department.map(str::to_owned),
    }
}

fn good_report() -> pb::ReportTaskRequest {
    pb::ReportTaskRequest {
        task: Some(pb::Task {
            cell: "cells/g-1".into(),
            category: "categories/leak".into(),
            urgency: pb::Urgency::Urgent as i32,
            channel: pb::Channel::Resident as i32,
            description: "  water through the ceiling  ".into(),
            attachments: vec!["s3://photos/1.jpg".into()],
            fields: [("floor".to_owned(), " 3 ".to_owned())].into(),
            ..Default::default()
        }),
        reporter_contact: " 555-0100 ".into(),
        request_id: "0190a6d4-0000-7000-8000-000000000000".into(),
    }
}

fn transition(action: Option<tr::Action>, reason: &str) -> pb::TransitionTaskRequest {
    pb::TransitionTaskRequest {
        name: "tasks/0190a6d4-0000-7000-8000-000000000000".into(),
        etag: "\"3\"".into(),
        reason: reason.into(),
        action,
    }
}

#[test]
fn a_valid_report_is_trimmed_and_typed() {
    let input = report(&good_report()).expect("valid");
    assert_eq!(input.report.cell.as_str(), "g-1");
    assert_eq!(input.report.category.as_str(), "leak");
    assert_eq!(input.report.urgency, Urgency::Urgent);
    assert_eq!(input.report.channel, Channel::Resident);
    assert_eq!(
        input.report.description.as_str(),
        "water through the ceiling"
    );
    assert_eq!(input.report.fields["floor"], "3");
    assert_eq!(input.report.reporter_contact.as_deref(), Some("555-0100"));
    assert!(input.request_id.is_some());
}

#[test]
fn every_bad_field_of_a_report_is_named_by_its_path() {
    let mut request = good_report();
    request.request_id = "not-a-uuid".into();
    request.reporter_contact = "call\u{7}me".into();
    if let Some(task) = request.task.as_mut() {
        task.cell = "g-1".into();
        task.category = "leak".into();
        task.urgency = 0;
        task.channel = 9;
        task.description = "   ".into();
        task.attachments = vec!["s3://ok".into(), "no scheme".into()];
        task.fields = [("floor".to_owned(), "x".repeat(501))].into();
    }
    assert_eq!(
        fields(report(&request).expect_err("invalid")),
        vec![
            "request_id",
            "reporter_contact",
            "task.cell",
            "task.category",
            "task.urgency",
            "task.channel",
            "task.description",
            "task.attachments[1]",
            "task.fields[floor]",
        ]
    );
}

#[test]
fn a_report_without_a_task_names_the_task_and_the_fields_before_it() {
    let request = pb::ReportTaskRequest {
        task: None,
        reporter_contact: String::new(),
        request_id: "nope".into(),
    };
    assert_eq!(
        fields(report(&request).expect_err("invalid")),
        vec!["request_id", "task"]
    );
}

#[test]
fn too_many_attachments_are_refused_as_a_whole() {
    let mut request = good_report();
    if let Some(task) = request.task.as_mut() {
        task.attachments = (0..=MAX_ATTACHMENTS)
            .map(|i| format!("s3://b/{i}"))
            .collect();
    }
    assert_eq!(
        fields(report(&request).expect_err("invalid")),
        vec!["task.attachments"]
    );
}

#[test]
fn a_transition_without_name_etag_or_action_names_all_three() {
    let request = pb::TransitionTaskRequest {
        name: "task/1".into(),
        etag: "W/x".into(),
        reason: String::new(),
        action: None,
    };
    assert_eq!(
        fields(transition_of(&request, &caller(&[Role::CountyAdmin], None))),
        vec!["name", "etag", "action"]
    );
}

fn transition_of(request: &pb::TransitionTaskRequest, caller: &Caller) -> Status {
    super::transition(request, caller).expect_err("invalid")
}

#[test]
fn a_whistle_names_each_bad_department_by_its_position() {
    let request = transition(
        Some(tr::Action::Whistle(tr::Whistle {
            lead: "housing".into(),
            assisting: vec!["departments/water".into(), "power".into()],
        })),
        "",
    );
    assert_eq!(
        fields(transition_of(&request, &caller(&[Role::StreetAdmin], None))),
        vec!["whistle.lead", "whistle.assisting[1]"]
    );
}

#[test]
fn a_department_operator_who_names_no_department_acts_for_their_own() {
    let request = transition(
        Some(tr::Action::CheckIn(tr::CheckIn {
            department: String::new(),
        })),
        "",
    );
    let input = super::transition(
        &request,
        &caller(&[Role::DepartmentOperator], Some("housing")),
    )
    .expect("valid");
    assert_eq!(input.expected_version, 3);
    assert_eq!(
        input.action,
        Action::CheckIn {
            department: "housing".into()
        }
    );
    // Anyone else must name it.
    assert_eq!(
        fields(transition_of(
            &request,
            &caller(&[Role::CommandCentre], None)
        )),
        vec!["check_in.department"]
    );
}

#[test]
fn returns_rejections_refused_extensions_and_dissatisfaction_need_a_reason() {
    let operator = caller(&[Role::DepartmentOperator], Some("housing"));
    let actions = [
        tr::Action::Return(tr::Return {
            department: String::new(),
        }),
        tr::Action::Reject(tr::Reject {
            kind: pb::RejectionKind::Invalid as i32,
        }),
        tr::Action::Rate(tr::Rate { satisfied: false }),
        tr::Action::DecideExtension(tr::DecideExtension {
            department: String::new(),
            grant: false,
        }),
    ];
    for action in actions {
        let request = transition(Some(action.clone()), "  ");
        assert_eq!(
            fields(transition_of(&request, &operator)),
            vec!["reason"],
            "{action:?}"
        );
    }
    let long = transition(
        Some(tr::Action::Rate(tr::Rate { satisfied: true })),
        &"x".repeat(1001),
    );
    assert_eq!(fields(transition_of(&long, &operator)), vec!["reason"]);
}

#[test]
fn a_rejection_needs_its_kind_and_a_merge_a_task_name() {
    let request = transition(Some(tr::Action::Reject(tr::Reject { kind: 0 })), "not ours");
    assert_eq!(
        fields(transition_of(&request, &caller(&[Role::StreetAdmin], None))),
        vec!["reject.kind"]
    );
    let request = transition(
        Some(tr::Action::MergeAsDuplicate(tr::MergeAsDuplicate {
            duplicate_of: "tasks/nope".into(),
        })),
        "",
    );
    assert_eq!(
        fields(transition_of(&request, &caller(&[Role::StreetAdmin], None))),
        vec!["merge_as_duplicate.duplicate_of"]
    );
}

#[test]
fn an_extension_request_needs_its_new_deadline() {
    let request = transition(
        Some(tr::Action::RequestExtension(tr::RequestExtension {
            department: "departments/housing".into(),
            until: None,
        })),
        "waiting for parts",
    );
    assert_eq!(
        fields(transition_of(
            &request,
            &caller(&[Role::CommandCentre], None)
        )),
        vec!["request_extension.until"]
    );
}

#[test]
fn page_tokens_of_tasks_round_trip_and_garbage_is_named() {
    let at = DateTime::from_timestamp_micros(1_700_000_000_123_456).expect("time");
    let id = Uuid::now_v7();
    let mut violations = FieldViolations::new();
    assert_eq!(
        decode_key(&encode_key(at, id), &mut violations),
        Some((at, id))
    );
    assert!(violations.is_empty());
    assert_eq!(decode_key("12|nope", &mut violations), None);
    assert_eq!(violations.violations()[0].0, "page_token");
}
