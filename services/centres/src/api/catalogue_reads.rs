//! Reads of a centre's catalogue and bookings, within the caller's scope.

use civicgrid_proto::centres::v1 as pb;
use civicgrid_runtime::auth::Caller;
use civicgrid_runtime::paging;
use civicgrid_runtime::status::{self, FieldViolations};
use sqlx::PgPool;
use tonic::Status;
use uuid::Uuid;

use super::{parse, reads};
use crate::convert::{booking_proto, service_proto};
use crate::store::{bookings, catalogue};

/// One page of the centre's services by id.
pub async fn list_services(
    pool: &PgPool,
    caller: &Caller,
    request: &pb::ListCentreServicesRequest,
) -> Result<pb::ListCentreServicesResponse, Status> {
    let centre = parse::centre_name(&request.parent, "parent")?;
    let mut violations = FieldViolations::new();
    let size = paging::page_size(request.page_size, &mut violations);
    let fingerprint = format!("parent={}", request.parent);
    let after = paging::decode(&request.page_token, &fingerprint, &mut violations);
    violations.check(())?;
    reads::get_centre(pool, caller, &request.parent).await?;
    let rows =
        catalogue::list_services(pool, centre.as_str(), after.as_deref(), paging::limit(size))
            .await
            .map_err(status::database)?;
    let (rows, next_page_token) = paging::paged(rows, size, &fingerprint, |s| s.id.clone());
    Ok(pb::ListCentreServicesResponse {
        services: rows.iter().map(service_proto).collect(),
        next_page_token,
    })
}

/// One page of the centre's zone bookings in creation order.
pub async fn list_bookings(
    pool: &PgPool,
    caller: &Caller,
    request: &pb::ListBookingsRequest,
) -> Result<pb::ListBookingsResponse, Status> {
    let centre = parse::centre_name(&request.parent, "parent")?;
    let mut violations = FieldViolations::new();
    let size = paging::page_size(request.page_size, &mut violations);
    let fingerprint = format!("parent={}", request.parent);
    let after = match paging::decode(&request.page_token, &fingerprint, &mut violations) {
        None => None,
        Some(text) => {
            let parsed = Uuid::parse_str(&text).ok();
            if parsed.is_none() {
                violations.add("page_token", "is not a token of this list");
            }
            parsed
        }
    };
    violations.check(())?;
    reads::get_centre(pool, caller, &request.parent).await?;
    let rows = bookings::list(pool, centre.as_str(), after, paging::limit(size))
        .await
        .map_err(status::database)?;
    let (rows, next_page_token) = paging::paged(rows, size, &fingerprint, |b| b.id.to_string());
    Ok(pb::ListBookingsResponse {
        bookings: rows.iter().map(booking_proto).collect(),
        next_page_token,
    })
}
