//! Stored tasks and orders into protobuf messages, shared by the API and
//! the published events so both always say the same thing.

pub mod directory;

use civicgrid_cell_tree::row::{etag, timestamp};
use civicgrid_proto::grid::v1 as pb;

use crate::domain::task::{Assignment, HistoryEntry, Role, Task, TaskId};
use crate::store::supervision::OrderRow;
use crate::store::tasks::{assignment_state_number, rejection_number};

/// A task as the API and events show it (the contact is masked).
pub fn task(row: &Task) -> pb::Task {
    let lifecycle = &row.lifecycle;
    pb::Task {
        name: row.id.resource_name(),
        cell: format!("cells/{}", row.cell),
        category: row.category.resource_name(),
        urgency: i32::from(row.urgency.number()),
        channel: i32::from(row.channel.number()),
        description: row.description.clone(),
        attachments: row.attachments.clone(),
        reporter_contact: row.reporter_contact_masked.clone(),
        fields: row.fields.clone().into_iter().collect(),
        state: i32::from(lifecycle.state.number()),
        assignments: lifecycle.assignments.iter().map(assignment).collect(),
        accept_due: lifecycle.accept_due.map(timestamp),
        resolve_due: lifecycle.resolve_due.map(timestamp),
        reopen_count: lifecycle.reopen_count,
        satisfied: lifecycle.satisfied,
        merged_into: lifecycle
            .merged_into
            .as_deref()
            .map(|id| format!("tasks/{id}"))
            .unwrap_or_default(),
        rejection_kind: lifecycle
            .rejection
            .as_ref()
            .map(|(kind, _)| i32::from(rejection_number(*kind)))
            .unwrap_or_default(),
        rejection_reason: lifecycle
            .rejection
            .as_ref()
            .map(|(_, reason)| reason.clone())
            .unwrap_or_default(),
        version: lifecycle.version,
        etag: etag(lifecycle.version),
        create_time: Some(timestamp(row.create_time)),
        update_time: Some(timestamp(row.update_time)),
        resolve_time: lifecycle.resolve_time.map(timestamp),
        close_time: lifecycle.close_time.map(timestamp),
        imported: row.imported,
    }
}

fn assignment(a: &Assignment) -> pb::DepartmentAssignment {
    pb::DepartmentAssignment {
        department: format!("departments/{}", a.department),
        role: match a.role {
            Role::Lead => pb::AssignmentRole::Lead as i32,
            Role::Assisting => pb::AssignmentRole::Assisting as i32,
        },
        state: i32::from(assignment_state_number(a.state)),
        whistle_time: Some(timestamp(a.whistle_time)),
        check_in_due: Some(timestamp(a.check_in_due)),
        return_due: Some(timestamp(a.return_due)),
        resolve_due: a.resolve_due.map(timestamp),
        check_in_time: a.check_in_time.map(timestamp),
        resolve_time: a.resolve_time.map(timestamp),
        return_reason: a.return_reason.clone().unwrap_or_default(),
        return_time: a.return_time.map(timestamp),
        release_time: a.release_time.map(timestamp),
        extension_requested_until: a.extension.as_ref().map(|e| timestamp(e.until)),
        extension_reason: a
            .extension
            .as_ref()
            .map(|e| e.reason.clone())
            .unwrap_or_default(),
    }
}

/// One history entry.
pub fn history(row: &HistoryEntry) -> pb::TaskHistoryEntry {
    pb::TaskHistoryEntry {
        sequence: row.sequence,
        action: row.action.clone(),
        from_state: row
            .from_state
            .map(|s| i32::from(s.number()))
            .unwrap_or_default(),
        to_state: i32::from(row.to_state.number()),
        actor: row.actor.clone(),
        department: row
            .department
            .as_deref()
            .map(|d| format!("departments/{d}"))
            .unwrap_or_default(),
        reason: row.reason.clone().unwrap_or_default(),
        time: Some(timestamp(row.time)),
    }
}

/// A supervision order.
pub fn order(row: &OrderRow) -> pb::SupervisionOrder {
    pb::SupervisionOrder {
        name: format!(
            "{}/supervisionOrders/{}",
            TaskId::from_uuid(row.task_id).resource_name(),
            row.id
        ),
        department: if row.department.is_empty() {
            String::new()
        } else {
            format!("departments/{}", row.department)
        },
        step: row.step as i32,
        level: row.level as i32,
        due: Some(timestamp(row.due)),
        issue_time: Some(timestamp(row.issue_time)),
        clear_time: row.clear_time.map(timestamp),
    }
}
