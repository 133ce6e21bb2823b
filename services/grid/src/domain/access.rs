//! Who may change the grid.

use civicgrid_runtime::auth::{Caller, Role};

use super::task::Action;

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

/// Who may report tasks (in cells they see).
const REPORTERS: [Role; 6] = [
    Role::GridWorker,
    Role::CommunityStaff,
    Role::StreetAdmin,
    Role::CountyAdmin,
    Role::CommandCentre,
    Role::IntegrationClient,
];

/// Whether `caller` may report tasks at all.
pub fn may_report(caller: &Caller) -> bool {
    caller.has_any_role(&REPORTERS)
}

/// What part of the tasks a caller sees: the union over their roles. Grid
/// workers see the cells of their current duties, department operators the
/// tasks assigned to their department, everyone else their token's scope.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskScope {
    /// Every task.
    pub everything: bool,
    /// Tasks in these cells' subtrees.
    pub cell_roots: Vec<String>,
    /// Tasks assigned to these departments.
    pub departments: Vec<String>,
}

impl TaskScope {
    /// The scope of `caller`, given the cells of their current duties.
    pub fn of(caller: &Caller, duty_cells: Vec<String>) -> TaskScope {
        let mut scope = TaskScope::default();
        let scoped_roles = caller
            .roles
            .iter()
            .any(|r| !matches!(r, Role::GridWorker | Role::DepartmentOperator));
        if scoped_roles {
            match caller.scope_roots("cells") {
                None => scope.everything = true,
                Some(roots) => scope.cell_roots.extend(roots),
            }
        }
        if caller.has_role(Role::GridWorker) {
            scope.cell_roots.extend(duty_cells);
        }
        if caller.has_role(Role::DepartmentOperator)
            && let Some(department) = &caller.department
        {
            scope.departments.push(department.clone());
        }
        scope
    }

    /// Whether a task in the cell at `cell_path`, assigned to `departments`, is visible.
    pub fn sees(&self, cell_path: &str, departments: &[&str]) -> bool {
        self.everything
            || self
                .cell_roots
                .iter()
                .any(|root| cell_path.contains(&format!("/{root}/")))
            || departments
                .iter()
                .any(|d| self.departments.iter().any(|own| own == d))
    }

    /// Whether the caller sees cells in the subtree at `cell_path` (for reporting there).
    pub fn sees_cell(&self, cell_path: &str) -> bool {
        self.sees(cell_path, &[])
    }
}

/// Why `caller` may not take `action`, if they may not. Department actions
/// are for that department's operators; the rest by role.
pub fn action_refusal(caller: &Caller, action: &Action) -> Option<String> {
    use Role::*;
    let (roles, department): (&[Role], Option<&str>) = match action {
        Action::Accept | Action::Start | Action::ResolveByGrid => (
            &[GridWorker, CommunityStaff, StreetAdmin, CountyAdmin],
            None,
        ),
        Action::Whistle { .. } | Action::Release { .. } => (
            &[CommunityStaff, StreetAdmin, CountyAdmin, CommandCentre],
            None,
        ),
        Action::CheckIn { department }
        | Action::ResolvePart { department }
        | Action::Return { department, .. }
        | Action::RequestExtension { department, .. } => (&[DepartmentOperator], Some(department)),
        Action::DecideExtension { .. } => (&[CommandCentre], None),
        Action::Rate { .. } => (
            &[
                GridWorker,
                CommunityStaff,
                StreetAdmin,
                CountyAdmin,
                IntegrationClient,
            ],
            None,
        ),
        Action::Reject { .. } | Action::MergeAsDuplicate { .. } => (
            &[CommunityStaff, StreetAdmin, CountyAdmin, CommandCentre],
            None,
        ),
    };
    if !caller.has_any_role(roles) {
        let names: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
        return Some(format!(
            "this action needs one of the roles {}",
            names.join(", ")
        ));
    }
    if let Some(department) = department
        && caller.department.as_deref() != Some(department)
    {
        return Some(format!(
            "you act for departments/{}, not departments/{department}",
            caller.department.as_deref().unwrap_or("(none)")
        ));
    }
    None
}

/// Roles that may change the directory (departments, categories, deadline
/// policies, the working calendar): it sets every deadline in the county,
/// so only the county and its command centre decide it.
const DIRECTORY_EDITORS: [Role; 2] = [Role::CountyAdmin, Role::CommandCentre];

/// Whether `caller`'s roles allow changing the directory.
pub fn may_edit_directory(caller: &Caller) -> bool {
    caller.has_any_role(&DIRECTORY_EDITORS)
}

/// The subtrees of cells `caller` may read: their token's scope, plus, for
/// grid workers, the cells of their current duties (`duty_cells`) instead
/// of any scope of their own. `None`: the whole county.
pub fn cell_read_roots(caller: &Caller, duty_cells: Vec<String>) -> Option<Vec<String>> {
    let mut roots = Vec::new();
    if caller.roles.iter().any(|role| *role != Role::GridWorker) {
        roots.extend(caller.scope_roots("cells")?);
    }
    if caller.has_role(Role::GridWorker) {
        roots.extend(duty_cells);
    }
    Some(roots)
}
