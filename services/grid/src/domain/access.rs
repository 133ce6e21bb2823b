//! Who may change the grid.

use civicgrid_runtime::auth::{Caller, Role};

/// Roles that may create and edit cells (within their scope).
const GRID_EDITORS: [Role; 3] = [Role::CountyAdmin, Role::StreetAdmin, Role::CommunityStaff];

/// Whether `caller`'s roles allow editing the grid at all.
pub fn may_edit_grid(caller: &Caller) -> bool {
    caller.has_any_role(&GRID_EDITORS)
}

/// Whether `caller` may create a county (a new root): only a county admin
/// whose scope is the whole county.
pub fn may_create_county(caller: &Caller) -> bool {
    caller.has_role(Role::CountyAdmin) && caller.sees_everything()
}
