//! Domain changes into versioned protobuf events for the outbox.

use civicgrid_cell_tree::{
    CELL_CREATED, CELL_UPDATED, COMPOUND_CREATED, COMPOUND_UPDATED, CellRow, CompoundRow,
    compound_name, resource_name,
};
use civicgrid_messaging::NewEvent;
use civicgrid_messaging::event::{meta, meta_at};
use civicgrid_proto::grid::v1 as pb;

use crate::convert;
use crate::convert::directory::{calendar_proto, category_proto, department_proto, policy_proto};
use crate::domain::calendar::YearCalendar;
use crate::domain::directory::{Category, DeadlinePolicy, Department, Versioned, calendar_name};
use crate::domain::task::{HistoryEntry, Task, TaskId};
use crate::store::supervision::OrderRow;

const PRODUCER: &str = "grid";

/// Routing key of [`department_created`].
pub const DEPARTMENT_CREATED: &str = "grid.department.created";
/// Routing key of [`category_created`].
pub const CATEGORY_CREATED: &str = "grid.category.created";
/// Routing key of [`deadline_policy_set`].
pub const DEADLINE_POLICY_SET: &str = "grid.deadline_policy.set";
/// Routing key of [`working_calendar_set`].
pub const WORKING_CALENDAR_SET: &str = "grid.working_calendar.set";

/// `grid.department.created` for a new department.
pub fn department_created(stored: &Versioned<Department>, actor: &str) -> NewEvent {
    let (event_id, meta) = meta(
        PRODUCER,
        DEPARTMENT_CREATED,
        &stored.value.id.resource_name(),
        stored.version,
        actor,
        "",
    );
    NewEvent::encode(
        event_id,
        DEPARTMENT_CREATED,
        &pb::DepartmentCreated {
            meta: Some(meta),
            department: Some(department_proto(stored)),
        },
    )
}

/// `grid.category.created` for a new category.
pub fn category_created(stored: &Versioned<Category>, actor: &str) -> NewEvent {
    let (event_id, meta) = meta(
        PRODUCER,
        CATEGORY_CREATED,
        &stored.value.id.resource_name(),
        stored.version,
        actor,
        "",
    );
    NewEvent::encode(
        event_id,
        CATEGORY_CREATED,
        &pb::CategoryCreated {
            meta: Some(meta),
            category: Some(category_proto(stored)),
        },
    )
}

/// `grid.deadline_policy.set` for a policy set (first or again).
pub fn deadline_policy_set(stored: &Versioned<DeadlinePolicy>, actor: &str) -> NewEvent {
    let (event_id, meta) = meta(
        PRODUCER,
        DEADLINE_POLICY_SET,
        &stored.value.resource_name(),
        stored.version,
        actor,
        "",
    );
    NewEvent::encode(
        event_id,
        DEADLINE_POLICY_SET,
        &pb::DeadlinePolicySet {
            meta: Some(meta),
            policy: Some(policy_proto(stored)),
        },
    )
}

/// `grid.working_calendar.set` for a year's calendar set (first or again).
pub fn working_calendar_set(stored: &Versioned<YearCalendar>, actor: &str) -> NewEvent {
    let (event_id, meta) = meta(
        PRODUCER,
        WORKING_CALENDAR_SET,
        &calendar_name(stored.value.year),
        stored.version,
        actor,
        "",
    );
    NewEvent::encode(
        event_id,
        WORKING_CALENDAR_SET,
        &pb::WorkingCalendarSet {
            meta: Some(meta),
            calendar: Some(calendar_proto(stored)),
        },
    )
}

/// `grid.cell.created` for a new cell.
pub fn cell_created(row: &CellRow, actor: &str, causation_id: &str) -> NewEvent {
    let (event_id, meta) = meta(
        PRODUCER,
        CELL_CREATED,
        &resource_name(&row.id),
        row.version,
        actor,
        causation_id,
    );
    NewEvent::encode(
        event_id,
        CELL_CREATED,
        &pb::CellCreated {
            meta: Some(meta),
            cell: Some(row.to_proto()),
        },
    )
}

/// `grid.cell.updated` for a changed cell and the paths that changed.
pub fn cell_updated(row: &CellRow, paths: Vec<String>, actor: &str) -> NewEvent {
    let (event_id, meta) = meta(
        PRODUCER,
        CELL_UPDATED,
        &resource_name(&row.id),
        row.version,
        actor,
        "",
    );
    NewEvent::encode(
        event_id,
        CELL_UPDATED,
        &pb::CellUpdated {
            meta: Some(meta),
            cell: Some(row.to_proto()),
            update_mask: Some(prost_types::FieldMask { paths }),
        },
    )
}

/// `grid.task.<action>` for one history entry of a task.
pub fn task_changed(
    task: &Task,
    entry: &HistoryEntry,
    actor: &str,
    causation_id: &str,
) -> NewEvent {
    let routing_key = format!("grid.task.{}", entry.action);
    // The entry's time, not the clock's: for an imported task that is when
    // the step really happened.
    let (event_id, meta) = meta_at(
        entry.time,
        PRODUCER,
        &routing_key,
        &task.id.resource_name(),
        task.lifecycle.version,
        actor,
        causation_id,
    );
    NewEvent::encode(
        event_id,
        &routing_key,
        &pb::TaskChanged {
            meta: Some(meta),
            task: Some(convert::task(task)),
            history: Some(convert::history(entry)),
        },
    )
}

/// `grid.supervision.issued|escalated|cleared` for an order.
pub fn supervision_changed(order: &OrderRow, change: &str, version: i64) -> NewEvent {
    let routing_key = format!("grid.supervision.{change}");
    let task = TaskId::from_uuid(order.task_id).resource_name();
    let (event_id, meta) = meta(
        PRODUCER,
        &routing_key,
        &task,
        version,
        "supervision-sweeper",
        "",
    );
    NewEvent::encode(
        event_id,
        &routing_key,
        &pb::SupervisionChanged {
            meta: Some(meta),
            task,
            order: Some(convert::order(order)),
        },
    )
}

/// `grid.compound.created` for a new compound.
pub fn compound_created(row: &CompoundRow, actor: &str, causation_id: &str) -> NewEvent {
    let (event_id, meta) = meta(
        PRODUCER,
        COMPOUND_CREATED,
        &compound_name(&row.id),
        row.version,
        actor,
        causation_id,
    );
    NewEvent::encode(
        event_id,
        COMPOUND_CREATED,
        &pb::CompoundCreated {
            meta: Some(meta),
            compound: Some(row.to_proto()),
        },
    )
}

/// `grid.compound.updated` for a changed compound and the paths that changed.
pub fn compound_updated(row: &CompoundRow, paths: Vec<String>, actor: &str) -> NewEvent {
    let (event_id, meta) = meta(
        PRODUCER,
        COMPOUND_UPDATED,
        &compound_name(&row.id),
        row.version,
        actor,
        "",
    );
    NewEvent::encode(
        event_id,
        COMPOUND_UPDATED,
        &pb::CompoundUpdated {
            meta: Some(meta),
            compound: Some(row.to_proto()),
            update_mask: Some(prost_types::FieldMask { paths }),
        },
    )
}
