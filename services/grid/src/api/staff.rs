//! Staff assignments: Create-, List- and EndStaffAssignment of the
//! GridService. Requests parse in `staff/parse.rs`, rows convert in
//! `staff/convert.rs`; the list is a read.

pub mod convert;
pub mod parse;

use chrono::{DateTime, Utc};
use civicgrid_cell_tree::path_of_visible_ancestor;
use civicgrid_proto::grid::v1 as pb;
use civicgrid_runtime::auth::Caller;
use civicgrid_runtime::error::UseCaseError;
use civicgrid_runtime::paging;
use civicgrid_runtime::status::{self, FieldViolations};
use sqlx::PgPool;
use tonic::Status;
use uuid::Uuid;

use self::parse::{BAD_TIME, time};
use super::cells::read_roots;
use crate::domain::cell::CellId;
use crate::domain::staff::Person;
use crate::store::staff::{self, StaffQuery};

/// One page of the duties in the caller's scope matching the request.
pub async fn list(
    pool: &PgPool,
    caller: &Caller,
    request: &pb::ListStaffAssignmentsRequest,
    now: DateTime<Utc>,
) -> Result<pb::ListStaffAssignmentsResponse, Status> {
    let mut violations = FieldViolations::new();
    let ancestor = match request.ancestor.as_str() {
        "" => None,
        name => {
            let id = CellId::parse_name(name);
            if id.is_none() {
                violations.add("ancestor", "must be empty or a cell name `cells/{cell_id}`");
            }
            id
        }
    };
    let person = match request.person.as_str() {
        "" => None,
        text => Person::parse(text)
            .map_err(|reason| violations.add("person", reason))
            .ok(),
    };
    let valid_at = match request.valid_at.as_ref() {
        None => now,
        Some(at) => time(at).unwrap_or_else(|| {
            violations.add("valid_at", BAD_TIME);
            now
        }),
    };
    let limit = paging::page_size(request.page_size, &mut violations);
    // Without valid_at each page asks about its own "now": a duty that ends
    // between two pages drops out of the rest, as it should.
    let fingerprint = format!(
        "ancestor={}&person={}&valid_at={:?}",
        request.ancestor,
        request.person,
        request.valid_at.as_ref().map(|t| (t.seconds, t.nanos))
    );
    let after =
        paging::decode(&request.page_token, &fingerprint, &mut violations).and_then(|after| {
            let id = Uuid::parse_str(&after).ok();
            if id.is_none() {
                violations.add("page_token", "is not a token this service issued");
            }
            id
        });
    violations.check(())?;

    let roots = read_roots(pool, caller).await.map_err(status::database)?;
    let ancestor_path = match ancestor {
        None => None,
        Some(id) => Some(
            path_of_visible_ancestor(pool, id.as_str(), roots.as_deref())
                .await
                .map_err(status::database)?
                .ok_or_else(|| UseCaseError::NotFound(request.ancestor.clone()))?,
        ),
    };
    let query = StaffQuery {
        ancestor_path,
        scope_roots: roots,
        person: person.map(|p| p.as_str().to_owned()),
        valid_at,
        after,
        limit: paging::limit(limit),
    };
    let rows = staff::list(pool, &query).await.map_err(status::database)?;
    let (rows, next_page_token) =
        paging::paged(rows, limit, &fingerprint, |row| row.id.to_string());
    Ok(pb::ListStaffAssignmentsResponse {
        staff_assignments: rows.iter().map(convert::assignment).collect(),
        next_page_token,
    })
}
