//! Member reads: GetMember and LookupMember, always masked.

pub mod parse;

use civicgrid_proto::membership::v1 as pb;
use civicgrid_runtime::auth::Caller;
use civicgrid_runtime::error::UseCaseError;
use civicgrid_runtime::status;
use sqlx::PgPool;
use tonic::Status;

use crate::convert;
use crate::domain::access::may_read_members;
use crate::domain::organisation::visible;
use crate::sealing::PersonalDataKeys;
use crate::store::members::{self, MemberRow};

/// PERMISSION_DENIED unless the caller may see member data at all.
pub fn check_reader(caller: &Caller) -> Result<(), Status> {
    if may_read_members(caller) {
        Ok(())
    } else {
        Err(UseCaseError::PermissionDenied(
            "your roles do not allow reading member data".to_owned(),
        )
        .into())
    }
}

/// `row` masked; INTERNAL (cause in the log, never the value) when a
/// sealed value does not open.
pub fn masked(row: &MemberRow, keys: &PersonalDataKeys) -> Result<pb::Member, Status> {
    convert::member_masked(row, keys).map_err(|error| {
        tracing::error!(member = %row.id, %error, "a sealed member field does not open with the configured key");
        Status::internal(
            "a stored member cannot be read: its sealed fields do not open with the configured \
             data key (was the key replaced, or the database restored from another installation?)",
        )
    })
}

/// `row` if the caller sees it.
fn in_scope(caller: &Caller, row: Option<MemberRow>, what: String) -> Result<MemberRow, Status> {
    Ok(row
        .filter(|row| visible(&row.area_path, caller.scope_roots("cells").as_deref()))
        .ok_or(UseCaseError::NotFound(what))?)
}

/// The member `name`; NOT_FOUND outside the caller's scope.
pub async fn get(pool: &PgPool, caller: &Caller, name: &str) -> Result<MemberRow, Status> {
    check_reader(caller)?;
    let id = parse::member_name(name, "name")?;
    let row = members::get(pool, id).await.map_err(status::database)?;
    in_scope(caller, row, name.to_owned())
}

/// The member with the ID number of `request`, found by its blind index.
pub async fn lookup(
    pool: &PgPool,
    caller: &Caller,
    keys: &PersonalDataKeys,
    request: &pb::LookupMemberRequest,
) -> Result<MemberRow, Status> {
    check_reader(caller)?;
    let number = parse::id_number(
        &request.id_number,
        "id_number",
        chrono::Utc::now().date_naive(),
    )?;
    let row = members::find_by_index(pool, &keys.blind_index(&number))
        .await
        .map_err(status::database)?;
    // The message names the masked number only.
    in_scope(
        caller,
        row,
        format!("a member with ID number {}", number.masked()),
    )
}

/// One page of the members in the caller's scope, masked.
pub async fn list(
    pool: &PgPool,
    caller: &Caller,
    keys: &PersonalDataKeys,
    request: &pb::ListMembersRequest,
) -> Result<pb::ListMembersResponse, Status> {
    check_reader(caller)?;
    let mut violations = civicgrid_runtime::status::FieldViolations::new();
    let organisation_id = match request.organisation.as_str() {
        "" => None,
        name => {
            let id = crate::domain::organisation::OrganisationId::parse_name(name);
            if id.is_none() {
                violations.add(
                    "organisation",
                    "must be empty or an organisation name `organisations/{organisation_id}`",
                );
            }
            id.map(|id| id.as_str().to_owned())
        }
    };
    let limit = civicgrid_runtime::paging::page_size(request.page_size, &mut violations);
    let fingerprint = format!("organisation={}", request.organisation);
    let after =
        civicgrid_runtime::paging::decode(&request.page_token, &fingerprint, &mut violations)
            .and_then(|after| {
                let id = uuid::Uuid::parse_str(&after).ok();
                if id.is_none() {
                    violations.add("page_token", "is not a token this service issued");
                }
                id
            });
    violations.check(())?;
    let query = members::MemberQuery {
        organisation_id,
        scope_roots: caller.scope_roots("cells"),
        after,
        limit: civicgrid_runtime::paging::limit(limit),
    };
    let rows = members::list(pool, &query)
        .await
        .map_err(status::database)?;
    let (rows, next_page_token) =
        civicgrid_runtime::paging::paged(rows, limit, &fingerprint, |row| row.id.to_string());
    Ok(pb::ListMembersResponse {
        members: rows
            .iter()
            .map(|row| masked(row, keys))
            .collect::<Result<_, _>>()?,
        next_page_token,
    })
}

/// The transfers of the member `name`, oldest first.
pub async fn transfers(
    pool: &PgPool,
    caller: &Caller,
    name: &str,
) -> Result<pb::ListMemberTransfersResponse, Status> {
    let row = get(pool, caller, name).await?;
    let transfers = members::transfers(pool, row.id)
        .await
        .map_err(status::database)?;
    Ok(pb::ListMemberTransfersResponse {
        transfers: transfers.iter().map(convert::transfer).collect(),
    })
}
