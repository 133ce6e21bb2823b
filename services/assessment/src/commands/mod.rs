//! The use cases, one per file. Each takes a connection inside a
//! transaction it does not commit; refusals are `UseCaseError`s (the
//! domain's reasons as FAILED_PRECONDITION), nothing changed by them.

pub mod apply_grid_event;
pub mod apply_participation_event;
pub mod change_site_stage;
pub mod create_campaign;
pub mod create_demonstration_site;
pub mod create_scheme_version;
pub mod create_whitelist_item;
pub mod create_work_request;
pub mod publish_scheme_version;
pub mod publish_scores;
pub mod rate_department;
pub mod rebuild_metrics;
pub mod set_campaign_quota;

use civicgrid_runtime::auth::{Caller, Role};
use civicgrid_runtime::error::{Outcomes as _, UseCaseError};

/// Schemes, scores, the whitelist and quotas are the county's to decide.
fn check_county_admin(caller: &Caller, what: &str) -> Result<(), UseCaseError> {
    if caller.has_role(Role::CountyAdmin) && caller.sees_everything() {
        Ok(())
    } else {
        Err(UseCaseError::permission_denied(format!(
            "only a county administrator {what}"
        )))
    }
}

/// The caller acts for `department` ("departments/{id}").
fn acts_for(caller: &Caller, department: &str) -> bool {
    caller.has_role(Role::DepartmentOperator)
        && caller
            .department
            .as_deref()
            .is_some_and(|d| department == d || department.strip_prefix("departments/") == Some(d))
}
