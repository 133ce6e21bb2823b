//! Who may do what with centres. Reads and bookings follow the token's
//! scope; changing centres and standards is for administrators.

use civicgrid_runtime::auth::{Caller, Role};

/// Roles that register and edit centres (within their scope).
const CENTRE_EDITORS: [Role; 3] = [Role::CountyAdmin, Role::StreetAdmin, Role::CommunityStaff];

/// Whether `caller`'s roles allow registering and editing centres at all.
pub fn may_edit_centres(caller: &Caller) -> bool {
    caller.has_any_role(&CENTRE_EDITORS)
}

/// Whether `caller` may change a category's standard: a county admin of
/// the whole county, since a standard applies county-wide.
pub fn may_set_standards(caller: &Caller) -> bool {
    caller.has_role(Role::CountyAdmin) && caller.sees_everything()
}

/// Whether `caller` may book zones (in centres they see): everyone but
/// read-only analysts and other services.
pub fn may_book(caller: &Caller) -> bool {
    caller
        .roles
        .iter()
        .any(|role| !matches!(role, Role::ReadOnlyAnalyst | Role::Service))
}

/// Whether a caller whose scope roots are `roots` (`None`: everything) sees
/// what lies at `path` (a materialised cell path).
pub fn sees(path: &str, roots: Option<&[String]>) -> bool {
    match roots {
        None => true,
        Some(roots) => roots.iter().any(|root| path.contains(&format!("/{root}/"))),
    }
}
