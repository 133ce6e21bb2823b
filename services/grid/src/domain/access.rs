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

/// Roles that may change the directory (departments, categories, deadline
/// policies, the working calendar): it sets every deadline in the county,
/// so only the county and its command centre decide it.
const DIRECTORY_EDITORS: [Role; 2] = [Role::CountyAdmin, Role::CommandCentre];

/// Whether `caller`'s roles allow changing the directory.
pub fn may_edit_directory(caller: &Caller) -> bool {
    caller.has_any_role(&DIRECTORY_EDITORS)
}
