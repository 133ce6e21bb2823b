//! The reads of the API: centres, standards, compliance and coverage, each
//! limited to the caller's scope (outside it is indistinguishable from absent).

use std::collections::BTreeMap;

use civicgrid_cell_tree::path_of_visible_ancestor;
use civicgrid_proto::centres::v1 as pb;
use civicgrid_runtime::auth::Caller;
use civicgrid_runtime::error::UseCaseError;
use civicgrid_runtime::paging;
use civicgrid_runtime::status::{self, FieldViolations};
use sqlx::PgPool;
use tonic::Status;

use super::parse;
use crate::convert::{category_proto, centre_proto, compliance_proto, standard_proto};
use crate::domain::access::sees;
use crate::domain::centre::Centre;
use crate::domain::standard::check;
use crate::store::centres::{self, CentreQuery};
use crate::store::coverage::{self, Area};
use crate::store::standards;

/// The centre `name` if the caller sees it.
pub async fn get_centre(pool: &PgPool, caller: &Caller, name: &str) -> Result<Centre, Status> {
    let id = parse::centre_name(name, "name")?;
    let roots = caller.scope_roots("cells");
    Ok(centres::get(pool, id.as_str())
        .await
        .map_err(status::database)?
        .filter(|centre| sees(&centre.location_path, roots.as_deref()))
        .ok_or_else(|| UseCaseError::NotFound(name.to_owned()))?)
}

/// The id in `ancestor` (empty: none), or a violation.
fn ancestor_id<'a>(ancestor: &'a str, violations: &mut FieldViolations) -> Option<&'a str> {
    if ancestor.is_empty() {
        return None;
    }
    let id = civicgrid_cell_tree::parse_name(ancestor);
    if id.is_none() {
        violations.add("ancestor", "must be empty or a cell name `cells/{cell_id}`");
    }
    id
}

/// The path of `ancestor` as the caller may list below it (NOT_FOUND when
/// it is unknown or foreign), with the caller's roots.
async fn area_below(
    pool: &PgPool,
    caller: &Caller,
    ancestor: &str,
    ancestor_id: Option<&str>,
) -> Result<(Option<String>, Option<Vec<String>>), Status> {
    let roots = caller.scope_roots("cells");
    let within = match ancestor_id {
        None => None,
        Some(id) => Some(
            path_of_visible_ancestor(pool, id, roots.as_deref())
                .await
                .map_err(status::database)?
                .ok_or_else(|| UseCaseError::NotFound(format!("cell `{ancestor}`")))?,
        ),
    };
    Ok((within, roots))
}

/// One page of centres by name.
pub async fn list_centres(
    pool: &PgPool,
    caller: &Caller,
    request: &pb::ListCentresRequest,
) -> Result<pb::ListCentresResponse, Status> {
    let mut violations = FieldViolations::new();
    let ancestor = ancestor_id(&request.ancestor, &mut violations);
    let category = parse::category_filter(request.category, &mut violations);
    let size = paging::page_size(request.page_size, &mut violations);
    let fingerprint = format!(
        "ancestor={}&category={}",
        request.ancestor, request.category
    );
    let after = paging::decode(&request.page_token, &fingerprint, &mut violations);
    violations.check(())?;
    let (within_path, scope_roots) = area_below(pool, caller, &request.ancestor, ancestor).await?;
    let query = CentreQuery {
        within_path,
        category,
        scope_roots,
        after,
        limit: paging::limit(size),
    };
    let rows = centres::list(pool, &query)
        .await
        .map_err(status::database)?;
    let (rows, next_page_token) = paging::paged(rows, size, &fingerprint, |c| c.id.clone());
    Ok(pb::ListCentresResponse {
        centres: rows.iter().map(centre_proto).collect(),
        next_page_token,
    })
}

/// The standard in force of every category.
pub async fn list_standards(pool: &PgPool) -> Result<pb::ListStandardsResponse, Status> {
    let standards = standards::in_force(pool).await.map_err(status::database)?;
    Ok(pb::ListStandardsResponse {
        standards: standards.values().map(standard_proto).collect(),
    })
}

/// One page of the compliance report, by centre name. A page may hold
/// fewer than `page_size` entries when `non_compliant_only` filters some
/// out; the token still continues after the last centre read.
pub async fn list_compliance(
    pool: &PgPool,
    caller: &Caller,
    request: &pb::ListCentreComplianceRequest,
) -> Result<pb::ListCentreComplianceResponse, Status> {
    let mut violations = FieldViolations::new();
    let ancestor = ancestor_id(&request.ancestor, &mut violations);
    let category = parse::category_filter(request.category, &mut violations);
    let size = paging::page_size(request.page_size, &mut violations);
    let fingerprint = format!(
        "ancestor={}&category={}&non_compliant_only={}",
        request.ancestor, request.category, request.non_compliant_only
    );
    let after = paging::decode(&request.page_token, &fingerprint, &mut violations);
    violations.check(())?;
    let (within_path, scope_roots) = area_below(pool, caller, &request.ancestor, ancestor).await?;
    let query = CentreQuery {
        within_path,
        category,
        scope_roots,
        after,
        limit: paging::limit(size),
    };
    // One snapshot for the centres and the standards they are checked against.
    let mut tx = pool.begin().await.map_err(status::database)?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .execute(&mut *tx)
        .await
        .map_err(status::database)?;
    let standards = standards::in_force(&mut *tx)
        .await
        .map_err(status::database)?;
    let rows = centres::list(&mut *tx, &query)
        .await
        .map_err(status::database)?;
    tx.commit().await.map_err(status::database)?;
    let (rows, next_page_token) = paging::paged(rows, size, &fingerprint, |c| c.id.clone());
    let mut compliance = Vec::new();
    for centre in &rows {
        let standard = standards.get(&centre.category).ok_or_else(|| {
            status::internal(format!(
                "no standard in force for category {}",
                centre.category
            ))
        })?;
        let result = check(centre, standard);
        if !request.non_compliant_only || !result.compliant() {
            compliance.push(compliance_proto(centre, &result));
        }
    }
    Ok(pb::ListCentreComplianceResponse {
        compliance,
        next_page_token,
    })
}

/// The street id of a path `/county/street/...`, if it reaches a street.
fn street_of(path: &str) -> Option<&str> {
    path.split('/').filter(|s| !s.is_empty()).nth(1)
}

/// The coverage report of the area below `ancestor` the caller sees; a
/// community centre covers its community's compounds within
/// `walking_radius_metres`.
pub async fn coverage(
    pool: &PgPool,
    caller: &Caller,
    request: &pb::GetCoverageReportRequest,
    walking_radius_metres: f64,
) -> Result<pb::GetCoverageReportResponse, Status> {
    let mut violations = FieldViolations::new();
    let ancestor = ancestor_id(&request.ancestor, &mut violations);
    violations.check(())?;
    let (within_path, roots) = area_below(pool, caller, &request.ancestor, ancestor).await?;
    let area = Area::new(within_path, roots);
    let streets = coverage::streets(pool, &area)
        .await
        .map_err(status::database)?;
    let communities = coverage::communities(pool, &area)
        .await
        .map_err(status::database)?;
    let compounds = coverage::compounds(pool, &area, walking_radius_metres)
        .await
        .map_err(status::database)?;
    let centres = coverage::centres(pool, &area)
        .await
        .map_err(status::database)?;

    let mut by_street: BTreeMap<&str, pb::StreetCoverage> = streets
        .iter()
        .map(|(id, _)| {
            (
                id.as_str(),
                pb::StreetCoverage {
                    street: civicgrid_cell_tree::resource_name(id),
                    ..Default::default()
                },
            )
        })
        .collect();
    for community in &communities {
        if let Some(street) = street_of(&community.path).and_then(|s| by_street.get_mut(s)) {
            street.community_count += 1;
            street.covered_community_count += i32::from(community.covered);
        }
    }
    for compound in &compounds {
        if let Some(street) = street_of(&compound.path).and_then(|s| by_street.get_mut(s)) {
            street.compound_count += 1;
            street.covered_compound_count += i32::from(compound.covered);
        }
    }
    let mut counts: BTreeMap<(&str, crate::domain::centre::Category), i32> = BTreeMap::new();
    for (category, path) in &centres {
        if let Some(street) = street_of(path) {
            *counts.entry((street, *category)).or_default() += 1;
        }
    }
    for ((street, category), count) in counts {
        if let Some(street) = by_street.get_mut(street) {
            street.centres_by_category.push(pb::CategoryCount {
                category: category_proto(category) as i32,
                centre_count: count,
            });
        }
    }
    Ok(pb::GetCoverageReportResponse {
        uncovered_communities: communities
            .iter()
            .filter(|c| !c.covered)
            .map(|c| civicgrid_cell_tree::resource_name(&c.id))
            .collect(),
        uncovered_compounds: compounds
            .iter()
            .filter(|c| !c.covered)
            .map(|c| civicgrid_cell_tree::compound_name(&c.id))
            .collect(),
        streets: by_street.into_values().collect(),
    })
}
