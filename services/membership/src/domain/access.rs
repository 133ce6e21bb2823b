//! Who may read and change organisations and members.

use civicgrid_runtime::auth::{Caller, Role};

/// Roles that create and edit organisations and members, within their scope.
const EDITORS: [Role; 3] = [Role::CountyAdmin, Role::StreetAdmin, Role::CommunityStaff];

/// Roles that read organisations, within their scope. Department operators
/// work on tasks, not on the party's organisation.
const ORGANISATION_READERS: [Role; 7] = [
    Role::CountyAdmin,
    Role::StreetAdmin,
    Role::CommunityStaff,
    Role::GridWorker,
    Role::CommandCentre,
    Role::ReadOnlyAnalyst,
    Role::IntegrationClient,
];

/// Whether `caller` may change organisations and members at all.
pub fn may_edit(caller: &Caller) -> bool {
    caller.has_any_role(&EDITORS)
}

/// Whether `caller` may read organisations at all.
pub fn may_read_organisations(caller: &Caller) -> bool {
    caller.has_any_role(&ORGANISATION_READERS)
}

/// Whether `caller` may read member data (always masked) at all: only the
/// administrators and staff whose work is the party roll.
pub fn may_read_members(caller: &Caller) -> bool {
    caller.has_any_role(&EDITORS)
}
