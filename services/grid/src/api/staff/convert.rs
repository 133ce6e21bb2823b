//! Staff assignments into protobuf messages.

use civicgrid_cell_tree::row::timestamp;
use civicgrid_proto::grid::v1 as pb;

use crate::commands::create_staff_assignment::assignment_name;
use crate::domain::staff::DepartmentId;
use crate::store::staff::StaffRow;

/// The proto of a stored assignment.
pub fn assignment(row: &StaffRow) -> pb::StaffAssignment {
    pb::StaffAssignment {
        name: assignment_name(&row.cell_id, row.id),
        person: row.person.clone(),
        person_display_name: row.person_display_name.clone(),
        role: i32::from(row.role.number()),
        home_department: row
            .home_department
            .clone()
            .map(|id| DepartmentId::from_stored(id).name())
            .unwrap_or_default(),
        valid_from: Some(timestamp(row.valid_from)),
        valid_until: row.valid_until.map(timestamp),
        create_time: Some(timestamp(row.create_time)),
    }
}
