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

#[test]
fn an_empty_list_request_asks_for_the_first_default_page_of_everything() {
    let parsed = list_tasks(&pb::ListTasksRequest::default()).expect("valid");
    assert_eq!(parsed.query, TaskQuery::default());
    assert_eq!(parsed.page.size, paging::DEFAULT_PAGE_SIZE);
    assert_eq!(parsed.page.after, None);
}

#[test]
fn a_list_request_is_typed_and_its_page_token_continues_the_same_query() {
    let mut request = pb::ListTasksRequest {
        ancestor: "cells/s-1".into(),
        state: pb::TaskState::Whistled as i32,
        department: "departments/water".into(),
        category: "categories/leak".into(),
        overdue: true,
        reported_after: Some(prost_types::Timestamp {
            seconds: 1_700_000_000,
            nanos: 0,
        }),
        page_size: 5000,
        ..Default::default()
    };
    let first = list_tasks(&request).expect("valid");
    assert_eq!(
        first.query,
        TaskQuery {
            ancestor: Some("s-1".into()),
            state: Some(TaskState::Whistled),
            department: Some("water".into()),
            category: Some("leak".into()),
            overdue: true,
            reported_after: DateTime::from_timestamp(1_700_000_000, 0),
            reported_before: None,
        }
    );
    assert_eq!(first.page.size, paging::MAX_PAGE_SIZE);
    let at = DateTime::from_timestamp_micros(1_700_000_000_000_001).expect("time");
    let id = Uuid::now_v7();
    request.page_token = paging::encode(&encode_key(at, id), &first.page.fingerprint);
    assert_eq!(
        list_tasks(&request).expect("valid").page.after,
        Some((at, id))
    );
    // The same token with another filter is refused.
    request.overdue = false;
    assert_eq!(
        fields(list_tasks(&request).expect_err("other query")),
        vec!["page_token"]
    );
}

#[test]
fn every_bad_field_of_a_list_request_is_named() {
    let request = pb::ListTasksRequest {
        ancestor: "streets/s-1".into(),
        state: 99,
        department: "water".into(),
        category: "leak".into(),
        page_size: -1,
        page_token: "garbage".into(),
        ..Default::default()
    };
    assert_eq!(
        fields(list_tasks(&request).expect_err("invalid")),
        vec![
            "ancestor",
            "state",
            "department",
            "category",
            "page_size",
            "page_token"
        ]
    );
}

#[test]
fn a_work_queue_page_token_must_be_one_the_queue_issued() {
    let first = work_queue(&pb::ListWorkQueueRequest {
        page_size: 10,
        ..Default::default()
    })
    .expect("valid");
    assert_eq!(first.size, 10);
    assert_eq!(first.after, None);
    let listed = list_tasks(&pb::ListTasksRequest::default()).expect("valid");
    let foreign = paging::encode("1|x", &listed.page.fingerprint);
    assert_eq!(
        fields(
            work_queue(&pb::ListWorkQueueRequest {
                page_size: -3,
                page_token: foreign,
            })
            .expect_err("invalid")
        ),
        vec!["page_size", "page_token"]
    );
    // A token of the queue whose key is not a task key is named too.
    let broken = paging::encode("not-a-key", &first.fingerprint);
    assert_eq!(
        fields(
            work_queue(&pb::ListWorkQueueRequest {
                page_size: 0,
                page_token: broken,
            })
            .expect_err("invalid")
        ),
        vec!["page_token"]
    );
}

#[test]
fn statistics_filter_by_cell_department_and_time_and_name_bad_names() {
    let query = statistics(&pb::GetTaskStatisticsRequest {
        ancestor: "cells/m-1".into(),
        department: "departments/roads".into(),
        reported_before: Some(prost_types::Timestamp {
            seconds: 1_800_000_000,
            nanos: 0,
        }),
        ..Default::default()
    })
    .expect("valid");
    assert_eq!(
        query,
        TaskQuery {
            ancestor: Some("m-1".into()),
            department: Some("roads".into()),
            reported_before: DateTime::from_timestamp(1_800_000_000, 0),
            ..TaskQuery::default()
        }
    );
    assert_eq!(
        fields(
            statistics(&pb::GetTaskStatisticsRequest {
                ancestor: "m-1".into(),
                department: "departments/".into(),
                ..Default::default()
            })
            .expect_err("invalid")
        ),
        vec!["ancestor", "department"]
    );
}

#[test]
fn supervision_orders_filter_by_task_and_department_and_page_by_order_id() {
    let mut request = pb::ListSupervisionOrdersRequest {
        parent: "tasks/0190a6d4-0000-7000-8000-000000000000".into(),
        department: "departments/water".into(),
        open_only: true,
        ..Default::default()
    };
    let first = supervision_orders(&request).expect("valid");
    assert_eq!(
        first.task,
        Some(Uuid::parse_str("0190a6d4-0000-7000-8000-000000000000").expect("uuid"))
    );
    assert_eq!(first.department.as_deref(), Some("water"));
    assert!(first.open_only);
    let order = Uuid::now_v7();
    request.page_token = paging::encode(&order.to_string(), &first.page.fingerprint);
    assert_eq!(
        supervision_orders(&request).expect("valid").page.after,
        Some(order)
    );
    request.page_token = paging::encode("not-a-uuid", &first.page.fingerprint);
    assert_eq!(
        fields(supervision_orders(&request).expect_err("invalid")),
        vec!["page_token"]
    );
    let bad = pb::ListSupervisionOrdersRequest {
        parent: "tasks/nope".into(),
        department: "water".into(),
        page_size: -1,
        ..Default::default()
    };
    assert_eq!(
        fields(supervision_orders(&bad).expect_err("invalid")),
        vec!["parent", "department", "page_size"]
    );
}
