//! Organisation reads: GetOrganisation, ListOrganisations and the gaps report.

pub mod parse;

use civicgrid_proto::membership::v1 as pb;
use civicgrid_runtime::auth::Caller;
use civicgrid_runtime::error::UseCaseError;
use civicgrid_runtime::paging;
use civicgrid_runtime::status::{self, FieldViolations};
use sqlx::PgPool;
use tonic::Status;

use crate::api::posts::parse::time;
use crate::commands::now;
use crate::convert;
use crate::domain::access::may_read_organisations;
use crate::domain::gaps::{self, Area, OrganisationFlags};
use crate::domain::organisation::{Kind, level, organisation_name, visible};
use crate::domain::post::secretary_is_director;
use crate::store::organisations::{self, OrganisationQuery, OrganisationRow};

fn check_reader(caller: &Caller) -> Result<(), Status> {
    if may_read_organisations(caller) {
        Ok(())
    } else {
        Err(UseCaseError::PermissionDenied(
            "your roles do not allow reading organisations".to_owned(),
        )
        .into())
    }
}

/// The organisation `name` if the caller sees it; NOT_FOUND otherwise.
pub async fn get(pool: &PgPool, caller: &Caller, name: &str) -> Result<OrganisationRow, Status> {
    check_reader(caller)?;
    let id = parse::organisation_name(name, "name")?;
    Ok(organisations::get(pool, id.as_str())
        .await
        .map_err(status::database)?
        .filter(|row| visible(&row.area_path, caller.scope_roots("cells").as_deref()))
        .ok_or_else(|| UseCaseError::NotFound(name.to_owned()))?)
}

/// One page of the organisations in the caller's scope matching the filters.
pub async fn list(
    pool: &PgPool,
    caller: &Caller,
    request: &pb::ListOrganisationsRequest,
) -> Result<pb::ListOrganisationsResponse, Status> {
    check_reader(caller)?;
    let mut violations = FieldViolations::new();
    let parent_id = match request.parent.as_str() {
        "" => None,
        name => {
            let id = crate::domain::organisation::OrganisationId::parse_name(name);
            if id.is_none() {
                violations.add(
                    "parent",
                    "must be empty or an organisation name `organisations/{organisation_id}`",
                );
            }
            id.map(|id| id.as_str().to_owned())
        }
    };
    let cell_id = match request.cell.as_str() {
        "" => None,
        name => {
            let id = civicgrid_cell_tree::parse_name(name);
            if id.is_none() {
                violations.add("cell", "must be empty or a cell name `cells/{cell_id}`");
            }
            id
        }
    };
    let kind = match request.kind {
        0 => None,
        number => {
            let kind = Kind::from_number(number);
            if kind.is_none() {
                violations.add("kind", "is not an OrganisationKind");
            }
            kind
        }
    };
    let limit = paging::page_size(request.page_size, &mut violations);
    let fingerprint = format!(
        "parent={}&cell={}&kind={}",
        request.parent, request.cell, request.kind
    );
    let after = paging::decode(&request.page_token, &fingerprint, &mut violations);
    violations.check(())?;

    let roots = caller.scope_roots("cells");
    let within_path = match cell_id {
        None => None,
        Some(id) => Some(
            civicgrid_cell_tree::path_of_visible_ancestor(pool, id, roots.as_deref())
                .await
                .map_err(status::database)?
                .ok_or_else(|| UseCaseError::NotFound(format!("cell `{}`", request.cell)))?,
        ),
    };
    let query = OrganisationQuery {
        parent_id,
        within_path,
        kind,
        scope_roots: roots,
        after,
        limit: paging::limit(limit),
    };
    let rows = organisations::list(pool, &query)
        .await
        .map_err(status::database)?;
    let (rows, next_page_token) = paging::paged(rows, limit, &fingerprint, |row| row.id.clone());
    Ok(pb::ListOrganisationsResponse {
        organisations: rows.iter().map(convert::organisation).collect(),
        next_page_token,
    })
}

/// The path of the cell `ancestor` names (empty: `/`, everything), when
/// the caller sees it; NOT_FOUND otherwise.
pub async fn within_path(
    pool: &PgPool,
    roots: Option<&[String]>,
    ancestor: &str,
) -> Result<String, Status> {
    match ancestor {
        "" => Ok(String::from("/")),
        name => {
            let Some(id) = civicgrid_cell_tree::parse_name(name) else {
                let mut violations = FieldViolations::new();
                violations.add("ancestor", "must be empty or a cell name `cells/{cell_id}`");
                return Err(violations.into_status());
            };
            Ok(
                civicgrid_cell_tree::path_of_visible_ancestor(pool, id, roots)
                    .await
                    .map_err(status::database)?
                    .ok_or_else(|| UseCaseError::NotFound(format!("cell `{name}`")))?,
            )
        }
    }
}

/// The standardisation gaps of every street and community at or below
/// `ancestor` (empty: all) in the caller's scope.
pub async fn gaps(
    pool: &PgPool,
    caller: &Caller,
    request: &pb::GetStandardisationGapsRequest,
) -> Result<pb::GetStandardisationGapsResponse, Status> {
    check_reader(caller)?;
    let roots = caller.scope_roots("cells");
    let mut violations = FieldViolations::new();
    let at = time(request.at.as_ref(), "at", &mut violations).unwrap_or_else(now);
    violations.check(())?;
    let within = within_path(pool, roots.as_deref(), &request.ancestor).await?;
    let patterns: Option<Vec<String>> = roots
        .as_ref()
        .map(|roots| roots.iter().map(|root| format!("%/{root}/%")).collect());
    let areas: Vec<Area> = sqlx::query_as::<_, (String, String, i16, String)>(
        "SELECT id, display_name, level, path FROM cells \
         WHERE level IN ($1, $2) AND path LIKE $3 || '%' \
           AND ($4::text[] IS NULL OR path LIKE ANY($4)) \
         ORDER BY id",
    )
    .bind(level::STREET)
    .bind(level::COMMUNITY)
    .bind(&within)
    .bind(patterns)
    .fetch_all(pool)
    .await
    .map_err(status::database)?
    .into_iter()
    .map(|(id, display_name, level, path)| Area {
        id,
        display_name,
        level,
        path,
    })
    .collect();
    let orgs: Vec<OrganisationFlags> = organisations::within(pool, &within)
        .await
        .map_err(status::database)?
        .into_iter()
        .filter(|row| visible(&row.area_path, roots.as_deref()))
        .map(|row| OrganisationFlags {
            id: row.id,
            display_name: row.display_name,
            kind: row.kind,
            area_path: row.area_path,
            standardisation: row.standardisation,
        })
        .collect();
    let posts = crate::store::posts::facts_within(pool, &within)
        .await
        .map_err(status::database)?;
    let mut response = pb::GetStandardisationGapsResponse::default();
    for report in gaps::report(&areas, &orgs) {
        // 一肩挑 of a community: its own committee's secretary directs its
        // residents' committee, by the posts valid at `at`.
        let one_shoulder = report.area.level == level::COMMUNITY
            && orgs
                .iter()
                .filter(|org| {
                    org.kind == Kind::CommunityPartyCommittee && org.area_path == report.area.path
                })
                .any(|org| secretary_is_director(&posts, &org.id, at));
        let count = |n: usize| i32::try_from(n).unwrap_or(i32::MAX);
        let proto = pb::AreaGaps {
            cell: civicgrid_cell_tree::resource_name(&report.area.id),
            display_name: report.area.display_name.clone(),
            has_own_committee: report.has_own_committee,
            organisation_count: count(report.organisation_count),
            without_branch_committee: count(report.without[0]),
            without_office_premises: count(report.without[1]),
            without_activity_premises: count(report.without[2]),
            organisations: report
                .organisations
                .iter()
                .map(|(org, gaps)| pb::OrganisationGaps {
                    organisation: organisation_name(&org.id),
                    display_name: org.display_name.clone(),
                    kind: org.kind.number(),
                    gaps: gaps.iter().map(|gap| *gap as i32).collect(),
                })
                .collect(),
            secretary_is_director: one_shoulder,
        };
        if report.area.level == level::STREET {
            response.streets.push(proto);
        } else {
            response.communities.push(proto);
        }
    }
    response.community_count = i32::try_from(response.communities.len()).unwrap_or(i32::MAX);
    response.secretary_is_director_count = i32::try_from(
        response
            .communities
            .iter()
            .filter(|c| c.secretary_is_director)
            .count(),
    )
    .unwrap_or(i32::MAX);
    Ok(response)
}
