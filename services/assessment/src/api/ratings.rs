//! Two-way assessment: ratings of departments.

use civicgrid_proto::assessment::v1 as pb;
use civicgrid_runtime::auth::Caller;
use civicgrid_runtime::status::FieldViolations;
use civicgrid_runtime::transaction::transact;
use sqlx::PgPool;
use tonic::{Request, Response, Status};

use crate::commands::rate_department::{NewRating, rate_department};
use crate::convert;
use crate::domain::rating::Grade;

fn new_rating(request: &pb::CreateDepartmentRatingRequest) -> Result<NewRating, Status> {
    let mut violations = FieldViolations::new();
    let task = request
        .parent
        .strip_prefix("tasks/")
        .filter(|id| !id.is_empty() && !id.contains('/'));
    if task.is_none() {
        violations.add("parent", "must be `tasks/{task_id}`");
    }
    let default = pb::DepartmentRating::default();
    let rating = request.department_rating.as_ref().unwrap_or(&default);
    let department = rating
        .department
        .strip_prefix("departments/")
        .filter(|id| civicgrid_cell_tree::is_valid_id(id));
    if department.is_none() {
        violations.add(
            "department_rating.department",
            "must be `departments/{department_id}`",
        );
    }
    let grade = match pb::RatingGrade::try_from(rating.grade) {
        Ok(pb::RatingGrade::Satisfied) => Some(Grade::Satisfied),
        Ok(pb::RatingGrade::BasicallySatisfied) => Some(Grade::BasicallySatisfied),
        Ok(pb::RatingGrade::Dissatisfied) => Some(Grade::Dissatisfied),
        _ => {
            violations.add(
                "department_rating.grade",
                "must be SATISFIED, BASICALLY_SATISFIED or DISSATISFIED",
            );
            None
        }
    };
    if rating.comment.chars().count() > 2000 {
        violations.add(
            "department_rating.comment",
            "must be at most 2000 characters",
        );
    }
    violations.check(())?;
    match (task, department, grade) {
        (Some(task), Some(department), Some(grade)) => Ok(NewRating {
            task: format!("tasks/{task}"),
            department: format!("departments/{department}"),
            grade,
            comment: rating.comment.clone(),
        }),
        _ => Err(FieldViolations::new().into_status()),
    }
}

pub(super) async fn create(
    pool: &PgPool,
    request: Request<pb::CreateDepartmentRatingRequest>,
) -> Result<Response<pb::CreateDepartmentRatingResponse>, Status> {
    let caller = Caller::of(&request)?;
    let input = new_rating(request.get_ref())?;
    let row = transact(pool, &(caller, input), |tx, (caller, input)| {
        Box::pin(rate_department(tx, caller, input))
    })
    .await?;
    Ok(Response::new(pb::CreateDepartmentRatingResponse {
        department_rating: Some(convert::rating(&row)),
    }))
}
