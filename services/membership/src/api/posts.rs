//! Post reads: ListPosts and the red property management report.

pub mod parse;

use civicgrid_proto::membership::v1 as pb;
use civicgrid_runtime::auth::Caller;
use civicgrid_runtime::error::UseCaseError;
use civicgrid_runtime::paging;
use civicgrid_runtime::status::{self, FieldViolations};
use sqlx::PgPool;
use tonic::Status;

use crate::api::members::check_reader;
use crate::api::organisations::within_path;
use crate::commands::now;
use crate::convert;
use crate::domain::access::may_read_organisations;
use crate::domain::organisation::{OrganisationId, visible};
use crate::domain::property::{self, Compound, PlacedOrganisation};
use crate::store::organisations;
use crate::store::posts::{self, PostQuery};

/// One page of the posts in the caller's scope matching the filters.
pub async fn list(
    pool: &PgPool,
    caller: &Caller,
    request: &pb::ListPostsRequest,
) -> Result<pb::ListPostsResponse, Status> {
    // Who holds which post is member data.
    check_reader(caller)?;
    let mut violations = FieldViolations::new();
    let organisation_id = match request.organisation.as_str() {
        "" => None,
        name => {
            let id = OrganisationId::parse_name(name);
            if id.is_none() {
                violations.add(
                    "organisation",
                    "must be empty or an organisation name `organisations/{organisation_id}`",
                );
            }
            id.map(|id| id.as_str().to_owned())
        }
    };
    let member_id = match request.member.as_str() {
        "" => None,
        name => parse::uuid_name(name, "members", "member", &mut violations),
    };
    let valid_at = parse::time(request.valid_at.as_ref(), "valid_at", &mut violations);
    let limit = paging::page_size(request.page_size, &mut violations);
    let fingerprint = format!(
        "organisation={}&member={}&valid_at={valid_at:?}",
        request.organisation, request.member
    );
    let after = paging::decode(&request.page_token, &fingerprint, &mut violations);
    let after = match after {
        None => None,
        Some(text) => match uuid::Uuid::parse_str(&text) {
            Ok(id) => Some(id),
            Err(_) => {
                violations.add("page_token", "is not a token this service issued");
                None
            }
        },
    };
    violations.check(())?;
    let query = PostQuery {
        organisation_id,
        member_id,
        valid_at,
        scope_roots: caller.scope_roots("cells"),
        after,
        limit: paging::limit(limit),
    };
    let rows = posts::list(pool, &query).await.map_err(status::database)?;
    let (rows, next_page_token) =
        paging::paged(rows, limit, &fingerprint, |row| row.id.to_string());
    Ok(pb::ListPostsResponse {
        posts: rows.iter().map(convert::post).collect(),
        next_page_token,
    })
}

/// 四方协同、交叉任职 of every compound at or below `ancestor` in the
/// caller's scope, from the posts valid at `at`.
pub async fn red_property_report(
    pool: &PgPool,
    caller: &Caller,
    request: &pb::GetRedPropertyReportRequest,
) -> Result<pb::GetRedPropertyReportResponse, Status> {
    if !may_read_organisations(caller) {
        return Err(UseCaseError::PermissionDenied(
            "your roles do not allow reading organisations".to_owned(),
        )
        .into());
    }
    let mut violations = FieldViolations::new();
    let at = parse::time(request.at.as_ref(), "at", &mut violations).unwrap_or_else(now);
    violations.check(())?;
    let roots = caller.scope_roots("cells");
    let within = within_path(pool, roots.as_deref(), &request.ancestor).await?;
    let compounds = civicgrid_cell_tree::list_compounds(
        pool,
        &civicgrid_cell_tree::CompoundQuery {
            within_path: Some(within.clone()),
            scope_roots: roots.clone(),
            after: None,
            limit: i64::MAX,
        },
    )
    .await
    .map_err(status::database)?;
    // Organisations of a compound lie in its community, which may be above
    // `within` only when `within` is the compound's community or below it;
    // read from the communities of the compounds found.
    let mut organisations_in = Vec::new();
    let mut communities: Vec<&str> = compounds
        .iter()
        .map(|c| c.community_path.as_str())
        .collect();
    communities.sort_unstable();
    communities.dedup();
    let mut facts = Vec::new();
    for community in communities {
        organisations_in.extend(
            organisations::within(pool, community)
                .await
                .map_err(status::database)?
                .into_iter()
                .filter(|row| visible(&row.area_path, roots.as_deref()))
                .map(|row| PlacedOrganisation {
                    id: row.id,
                    kind: row.kind,
                    compound_id: row.compound_id,
                    area_path: row.area_path,
                }),
        );
        facts.extend(
            posts::facts_within(pool, community)
                .await
                .map_err(status::database)?,
        );
    }
    let mut response = pb::GetRedPropertyReportResponse::default();
    for compound in &compounds {
        let report = property::report(
            &Compound {
                id: compound.id.clone(),
                community_path: compound.community_path.clone(),
            },
            &organisations_in,
            &facts,
            at,
        );
        let complete = report.complete();
        response.complete_count += i32::from(complete);
        response.compounds.push(pb::CompoundPropertyManagement {
            compound: civicgrid_cell_tree::compound_name(&compound.id),
            display_name: compound.display_name.clone(),
            community: civicgrid_cell_tree::resource_name(&compound.community_id),
            has_community_party_committee: report.community_party_committee,
            has_compound_branch: report.compound_branch,
            has_property_company: report.property_company,
            has_owners_committee: report.owners_committee,
            property_deputy_manager_filled: report.deputy_manager_filled,
            members_on_owners_committee: i32::try_from(report.members_on_owners_committee)
                .unwrap_or(i32::MAX),
            branch_secretary_on_owners_committee: report.branch_secretary_on_owners_committee,
            complete,
        });
    }
    Ok(response)
}
