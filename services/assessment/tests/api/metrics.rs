//! Metrics from the grid's events: exact numbers for the scripted tasks,
//! the roll-up, explainability, rebuild equality, order and duplicate
//! independence, bad input and scope.

use civicgrid_messaging::Outcome;
use civicgrid_proto::assessment::v1 as pb;
use civicgrid_runtime::auth::Role;
use civicgrid_testkit::{TestKeys, invalid_fields, with_token};
use proptest::prelude::*;
use tonic::Code;

use crate::fixture::{self, Event};
use crate::{TestApp, spawn_app};

const CELLS: usize = 0;
const TASKS: usize = 2;
const SUPERVISION: usize = 3;

pub(crate) async fn publish(app: &TestApp, event: &Event) {
    match event {
        Event::Task(key, e) => app.publish(key, event.id(), e).await,
        Event::Supervision(key, e) => app.publish(key, event.id(), e).await,
    }
}

/// The tree, then every scripted event in reverse order (supervision
/// before the task it concerns, every task's last step first), each twice.
pub(crate) async fn seeded() -> (TestApp, Vec<Event>) {
    let app = spawn_app().await;
    for cell in fixture::cells() {
        app.publish("grid.cell.created", uuid::Uuid::now_v7(), &cell)
            .await;
    }
    app.consumers[CELLS].drain().await.unwrap();
    let events: Vec<Event> = fixture::tasks()
        .into_iter()
        .flat_map(|s| s.events)
        .collect();
    for event in events.iter().rev() {
        publish(&app, event).await;
        publish(&app, event).await;
    }
    let mut outcomes = app.consumers[TASKS].drain().await.unwrap();
    outcomes.extend(app.consumers[SUPERVISION].drain().await.unwrap());
    let applied = outcomes.iter().filter(|o| **o == Outcome::Applied).count();
    let duplicates = outcomes
        .iter()
        .filter(|o| **o == Outcome::Duplicate)
        .count();
    assert_eq!((applied, duplicates), (events.len(), events.len()));
    (app, events)
}

pub(crate) fn admin<T>(message: T) -> tonic::Request<T> {
    with_token(message, &TestKeys::get().county_admin())
}

pub(crate) fn as_street<T>(street: &str, message: T) -> tonic::Request<T> {
    let token = TestKeys::get().token(&[Role::StreetAdmin], &[&format!("cells/{street}")], None);
    with_token(message, &token)
}

async fn cell_metrics(app: &TestApp, name: &str, rolled_up: bool) -> pb::CellMetrics {
    app.client
        .clone()
        .get_cell_metrics(admin(pb::GetCellMetricsRequest {
            name: name.to_owned(),
            rolled_up,
        }))
        .await
        .unwrap()
        .into_inner()
        .metrics
        .unwrap()
}

/// (reported, accepted, accepted on time, resolved, resolved on time, rated,
/// satisfied, reopenings, returns, whistles, warnings, orders, red)
fn counts(m: &pb::CellMetrics) -> [i64; 13] {
    [
        m.tasks_reported,
        m.tasks_accepted,
        m.tasks_accepted_on_time,
        m.tasks_resolved,
        m.tasks_resolved_on_time,
        m.tasks_rated,
        m.tasks_satisfied,
        m.reopenings,
        m.returns,
        m.whistles,
        m.supervision_warnings,
        m.supervision_orders,
        m.supervision_red,
    ]
}

#[tokio::test]
async fn scripted_tasks_delivered_twice_in_reverse_give_the_hand_computed_metrics_of_a_grid() {
    let (app, _) = seeded().await;
    let g1 = cell_metrics(&app, "cells/g1/metrics/2026-11", false).await;
    assert_eq!(counts(&g1), [2, 2, 1, 2, 2, 2, 2, 1, 0, 0, 0, 0, 0]);
    assert_eq!(g1.response_rate, Some(0.5));
    assert_eq!(g1.on_time_resolution_rate, Some(1.0));
    assert_eq!(g1.satisfaction_rate, Some(1.0));
    assert_eq!(g1.name, "cells/g1/metrics/2026-11");
    let g2 = cell_metrics(&app, "cells/g2/metrics/2026-11", false).await;
    assert_eq!(counts(&g2), [1, 0, 0, 1, 0, 0, 0, 0, 1, 2, 0, 1, 0]);
    assert_eq!(g2.on_time_resolution_rate, Some(0.0));
    assert_eq!(g2.satisfaction_rate, None, "no rating, no rate");
}

#[tokio::test]
async fn metrics_roll_up_to_the_community_and_the_street_and_keep_to_their_period() {
    let (app, _) = seeded().await;
    let cm1 = cell_metrics(&app, "cells/cm1/metrics/2026-11", true).await;
    assert_eq!(counts(&cm1), [3, 2, 1, 3, 2, 2, 2, 1, 1, 2, 0, 1, 0]);
    let own = cell_metrics(&app, "cells/cm1/metrics/2026-11", false).await;
    assert_eq!(
        counts(&own),
        [0; 13],
        "no task was reported in the community cell itself"
    );
    for period in ["2026-11", "2026-q4", "2026"] {
        let st1 = cell_metrics(&app, &format!("cells/st1/metrics/{period}"), true).await;
        assert_eq!(
            counts(&st1),
            [4, 2, 1, 3, 2, 2, 2, 1, 1, 2, 1, 1, 0],
            "{period}"
        );
        assert_eq!(st1.response_rate, Some(0.25));
        assert_eq!(st1.resolution_rate, Some(0.75));
        assert_eq!(st1.whistles_per_task, Some(0.5));
    }
    let october = cell_metrics(&app, "cells/st1/metrics/2026-10", true).await;
    assert_eq!(counts(&october), [0; 13]);
    assert_eq!(october.response_rate, None);
    let st2 = cell_metrics(&app, "cells/st2/metrics/2026-11", true).await;
    assert_eq!(st2.tasks_reported, 0);

    let listed = app
        .client
        .clone()
        .list_cell_metrics(admin(pb::ListCellMetricsRequest {
            ancestor: "cells/st1".to_owned(),
            level: civicgrid_proto::grid::v1::CellLevel::Community as i32,
            period: "2026-11".to_owned(),
            rolled_up: true,
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    let reported: Vec<(String, i64)> = listed
        .metrics
        .iter()
        .map(|m| (m.cell.clone(), m.tasks_reported))
        .collect();
    assert_eq!(
        reported,
        [("cells/cm1".to_owned(), 3), ("cells/cm2".to_owned(), 1)]
    );
}

#[tokio::test]
async fn department_metrics_count_check_ins_parts_returns_and_supervision_orders() {
    let (app, _) = seeded().await;
    let get = |name: &str| {
        let mut client = app.client.clone();
        let name = name.to_owned();
        async move {
            client
                .get_department_metrics(admin(pb::GetDepartmentMetricsRequest { name }))
                .await
                .unwrap()
                .into_inner()
                .metrics
                .unwrap()
        }
    };
    let urban = get("departments/urban/metrics/2026-11").await;
    assert_eq!(
        [
            urban.parts_assigned,
            urban.check_ins,
            urban.check_ins_on_time,
            urban.parts_resolved,
            urban.parts_resolved_on_time,
            urban.returns,
            urban.supervision_orders
        ],
        [1, 1, 1, 1, 0, 0, 1]
    );
    assert_eq!(urban.check_in_on_time_rate, Some(1.0));
    assert_eq!(urban.resolution_on_time_rate, Some(0.0));
    let housing = get("departments/housing/metrics/2026-11").await;
    assert_eq!(
        [
            housing.parts_assigned,
            housing.check_ins,
            housing.returns,
            housing.supervision_orders
        ],
        [1, 0, 1, 0]
    );
}

#[tokio::test]
async fn explaining_a_metric_lists_exactly_the_events_behind_it_page_by_page() {
    let (app, events) = seeded().await;
    // T1's only resolution and T2's second one were on time.
    let resolutions: Vec<&Event> = events
        .iter()
        .filter(|e| e.key() == "grid.task.resolved_by_grid")
        .collect();
    let mut expected = [
        resolutions[0].id().to_string(),
        resolutions[2].id().to_string(),
    ];
    expected.sort();
    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let page = app
            .client
            .clone()
            .explain_metric(admin(pb::ExplainMetricRequest {
                name: "cells/cm1/metrics/2026-11".to_owned(),
                metric: "tasks_resolved_on_time".to_owned(),
                rolled_up: true,
                page_size: 1,
                page_token: token,
            }))
            .await
            .unwrap()
            .into_inner();
        assert!(page.evidence.len() <= 1);
        for evidence in &page.evidence {
            assert_eq!(evidence.subject, "cells/g1");
            assert_eq!(evidence.event_type, "grid.task.resolved_by_grid");
            assert!(evidence.occurred_at.is_some());
        }
        seen.extend(
            page.evidence
                .into_iter()
                .map(|e| (e.event_id, e.aggregate_id)),
        );
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    let ids: Vec<&String> = seen.iter().map(|(id, _)| id).collect();
    assert_eq!(ids, expected.iter().collect::<Vec<_>>());
    assert_eq!(
        seen.iter()
            .map(|(_, task)| task.as_str())
            .collect::<Vec<_>>(),
        ["tasks/t1", "tasks/t2"]
    );

    let orders = app
        .client
        .clone()
        .explain_metric(admin(pb::ExplainMetricRequest {
            name: "departments/urban/metrics/2026".to_owned(),
            metric: "supervision_orders".to_owned(),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    let supervision: Vec<String> = events
        .iter()
        .filter(|e| matches!(e, Event::Supervision(_, s) if s.order.as_ref().unwrap().department == "departments/urban"))
        .map(|e| e.id().to_string())
        .collect();
    assert_eq!(
        orders
            .evidence
            .iter()
            .map(|e| e.event_id.clone())
            .collect::<Vec<_>>(),
        supervision
    );
}

#[tokio::test]
async fn a_rebuild_from_the_event_store_gives_exactly_the_incremental_metrics() {
    let (app, events) = seeded().await;
    let before = civicgrid_assessment::store::metrics::all_values(&app.pool)
        .await
        .unwrap();
    assert!(!before.is_empty());
    let rebuilt = app
        .client
        .clone()
        .rebuild_metrics(admin(pb::RebuildMetricsRequest {}))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(rebuilt.events, events.len() as i64);
    assert_eq!(rebuilt.tasks, 4);
    let after = civicgrid_assessment::store::metrics::all_values(&app.pool)
        .await
        .unwrap();
    assert_eq!(before, after);
    let stored: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT event_id::text, routing_key, aggregate_version FROM grid_events ORDER BY event_id",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    let mut expected: Vec<(String, String, i64)> = events
        .iter()
        .map(|e| {
            let version = match e {
                Event::Task(_, t) => t.meta.as_ref().unwrap().aggregate_version,
                Event::Supervision(_, s) => s.meta.as_ref().unwrap().aggregate_version,
            };
            (e.id().to_string(), e.key().to_owned(), version)
        })
        .collect();
    expected.sort();
    assert_eq!(stored, expected, "the store keeps every event once");
}

#[tokio::test]
async fn bad_names_and_callers_outside_scope_get_precise_statuses() {
    let (app, _) = seeded().await;
    let mut client = app.client.clone();
    let bad = client
        .get_cell_metrics(admin(pb::GetCellMetricsRequest {
            name: "cells/g1/metrics/2026-13".to_owned(),
            rolled_up: false,
        }))
        .await
        .unwrap_err();
    assert_eq!(invalid_fields(bad), ["name"]);
    let bad = client
        .list_cell_metrics(admin(pb::ListCellMetricsRequest {
            period: "november".to_owned(),
            page_size: -1,
            ..Default::default()
        }))
        .await
        .unwrap_err();
    assert_eq!(invalid_fields(bad), ["period", "page_size"]);
    let bad = client
        .explain_metric(admin(pb::ExplainMetricRequest {
            name: "cells/g1/metrics/2026".to_owned(),
            metric: "check_ins".to_owned(),
            ..Default::default()
        }))
        .await
        .unwrap_err();
    assert_eq!(invalid_fields(bad), ["metric"]);

    let unknown = client
        .get_cell_metrics(admin(pb::GetCellMetricsRequest {
            name: "cells/nowhere/metrics/2026".to_owned(),
            rolled_up: true,
        }))
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Code::NotFound);
    let foreign = client
        .get_cell_metrics(as_street(
            "st2",
            pb::GetCellMetricsRequest {
                name: "cells/cm1/metrics/2026".to_owned(),
                rolled_up: true,
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(
        foreign.code(),
        Code::NotFound,
        "another street's cells look unknown"
    );
    let own = client
        .get_cell_metrics(as_street(
            "st1",
            pb::GetCellMetricsRequest {
                name: "cells/cm1/metrics/2026".to_owned(),
                rolled_up: true,
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(own.metrics.unwrap().tasks_reported, 3);
    let foreign = client
        .explain_metric(as_street(
            "st2",
            pb::ExplainMetricRequest {
                name: "cells/g1/metrics/2026".to_owned(),
                metric: "tasks_reported".to_owned(),
                ..Default::default()
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(foreign.code(), Code::NotFound);

    let other_department = TestKeys::get().token(&[Role::DepartmentOperator], &[], Some("housing"));
    let denied = client
        .get_department_metrics(with_token(
            pb::GetDepartmentMetricsRequest {
                name: "departments/urban/metrics/2026".to_owned(),
            },
            &other_department,
        ))
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    let own = client
        .get_department_metrics(with_token(
            pb::GetDepartmentMetricsRequest {
                name: "departments/housing/metrics/2026".to_owned(),
            },
            &other_department,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(own.metrics.unwrap().returns, 1);

    let before = civicgrid_assessment::store::metrics::all_values(&app.pool)
        .await
        .unwrap();
    let denied = client
        .rebuild_metrics(as_street("st1", pb::RebuildMetricsRequest {}))
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    assert_eq!(
        civicgrid_assessment::store::metrics::all_values(&app.pool)
            .await
            .unwrap(),
        before
    );
}

/// The scripted events as the store receives them.
pub(crate) fn stored(events: &[Event]) -> Vec<civicgrid_assessment::store::events::StoredEvent> {
    events
        .iter()
        .map(|e| {
            let (meta, payload) = match e {
                Event::Task(_, t) => (t.meta.clone().unwrap(), prost::Message::encode_to_vec(t)),
                Event::Supervision(_, s) => {
                    (s.meta.clone().unwrap(), prost::Message::encode_to_vec(s))
                }
            };
            let occurred = meta.occurred_at.unwrap();
            civicgrid_assessment::store::events::StoredEvent {
                event_id: e.id(),
                routing_key: e.key().to_owned(),
                aggregate_id: meta.aggregate_id,
                aggregate_version: meta.aggregate_version,
                occurred_at: chrono::DateTime::from_timestamp(occurred.seconds, 0).unwrap(),
                position: None,
                payload,
            }
        })
        .collect()
}

/// A random history: a random subset of the scripted tasks, their events
/// in any order with any duplicates. Applied incrementally it gives the
/// metrics of the same tasks applied once in the grid's order, and a
/// replay from scratch (RebuildMetrics' command, from the event store)
/// gives exactly the incremental metrics.
#[test]
fn any_history_in_any_order_with_duplicates_gives_the_grids_order_metrics_and_replay_equals_incremental()
 {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let app = runtime.block_on(spawn_app());
    let scripts = fixture::tasks();
    let task_of: Vec<usize> = scripts
        .iter()
        .enumerate()
        .flat_map(|(task, s)| std::iter::repeat_n(task, s.events.len()))
        .collect();
    let events = stored(
        &scripts
            .into_iter()
            .flat_map(|s| s.events)
            .collect::<Vec<_>>(),
    );
    let apply_all = |order: Vec<usize>, replay: bool| {
        let pool = app.pool.clone();
        let events = events.clone();
        runtime.block_on(async move {
            sqlx::query("TRUNCATE grid_events, metric_facts, metric_values")
                .execute(&pool)
                .await
                .unwrap();
            for index in order {
                let mut tx = pool.begin().await.unwrap();
                civicgrid_assessment::commands::apply_grid_event::apply_grid_event(
                    &mut tx,
                    &events[index],
                )
                .await
                .unwrap();
                tx.commit().await.unwrap();
            }
            let incremental = civicgrid_assessment::store::metrics::all_values(&pool)
                .await
                .unwrap();
            if replay {
                let mut tx = pool.begin().await.unwrap();
                civicgrid_assessment::commands::rebuild_metrics::rebuild_metrics(&mut tx)
                    .await
                    .unwrap();
                tx.commit().await.unwrap();
                let replayed = civicgrid_assessment::store::metrics::all_values(&pool)
                    .await
                    .unwrap();
                assert_eq!(
                    replayed, incremental,
                    "a replay from scratch equals the incremental metrics"
                );
            }
            incremental
        })
    };
    let whole = apply_all((0..events.len()).collect(), true);
    assert_eq!(
        whole.get(&(
            "cells/g1".to_owned(),
            "2026-11".to_owned(),
            "tasks_reported".to_owned()
        )),
        Some(&2)
    );
    let n = events.len();
    let histories = (
        proptest::collection::vec(any::<bool>(), 4),
        Just((0..n).collect::<Vec<_>>()).prop_shuffle(),
        proptest::collection::vec(0..n, 0..10),
    )
        .prop_map(|(tasks, mut order, duplicates)| {
            order.extend(duplicates);
            (tasks, order)
        });
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: 16,
        ..ProptestConfig::default()
    });
    runner
        .run(&histories, |(tasks, order)| {
            let kept = |index: &usize| tasks[task_of[*index]];
            let in_grid_order: Vec<usize> = (0..n).filter(kept).collect();
            let shuffled: Vec<usize> = order.into_iter().filter(kept).collect();
            let reference = apply_all(in_grid_order, false);
            prop_assert_eq!(apply_all(shuffled, true), reference);
            Ok(())
        })
        .unwrap();
}

#[tokio::test]
async fn rejected_and_merged_tasks_count_only_as_such_whatever_arrives_first() {
    let (app, _) = seeded().await;
    let before = cell_metrics(&app, "cells/g3/metrics/2026-11", false).await;
    let t7 = fixture::Script::reported("t7", "g3", 60).rejected(2, 30);
    let t8 = fixture::Script::reported("t8", "g3", 60)
        .accepted(2, 10, 600)
        .merged(3, 40, "t4");
    // The closing events first, then the rest.
    let mut events: Vec<Event> = t7.events.into_iter().chain(t8.events).collect();
    events.reverse();
    for event in &events {
        publish(&app, event).await;
    }
    app.consumers[TASKS].drain().await.unwrap();
    let g3 = cell_metrics(&app, "cells/g3/metrics/2026-11", false).await;
    assert_eq!((g3.tasks_rejected, g3.tasks_merged), (1, 1));
    assert_eq!(counts(&g3), counts(&before), "no other count moves");
    assert_eq!(g3.response_rate, before.response_rate);
}

#[tokio::test]
async fn a_task_rejected_or_merged_after_it_was_counted_takes_its_earlier_counts_back() {
    let (app, _) = seeded().await;
    let before = cell_metrics(&app, "cells/g3/metrics/2026-11", false).await;
    let t7 = fixture::Script::reported("t7", "g3", 60).rejected(2, 30);
    let t8 = fixture::Script::reported("t8", "g3", 60)
        .accepted(2, 10, 600)
        .merged(3, 40, "t4");
    // In order, each applied before the next arrives: the report and the
    // acceptance are counted first, then the closing event takes them
    // back (a count moving down, to zero, must not trip `value >= 0`).
    for event in t7.events.iter().chain(&t8.events) {
        publish(&app, event).await;
        app.consumers[TASKS].drain().await.unwrap();
    }
    let g3 = cell_metrics(&app, "cells/g3/metrics/2026-11", false).await;
    assert_eq!((g3.tasks_rejected, g3.tasks_merged), (1, 1));
    assert_eq!(counts(&g3), counts(&before), "no other count moves");
    assert_eq!(g3.response_rate, before.response_rate);
}
