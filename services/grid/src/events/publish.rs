//! Domain changes into versioned protobuf events for the outbox.

use civicgrid_cell_tree::{
    CELL_CREATED, CELL_UPDATED, COMPOUND_CREATED, COMPOUND_UPDATED, CellRow, CompoundRow,
    compound_name, resource_name,
};
use civicgrid_messaging::NewEvent;
use civicgrid_messaging::event::meta;
use civicgrid_proto::grid::v1 as pb;

use crate::convert;
use crate::domain::task::{HistoryEntry, Task, TaskId};
use crate::store::supervision::OrderRow;

const PRODUCER: &str = "grid";

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
    let (event_id, meta) = meta(
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
