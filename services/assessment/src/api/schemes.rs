//! Indicator schemes, scores and rankings.

use civicgrid_proto::assessment::v1 as pb;
use civicgrid_runtime::auth::{Caller, Role};
use civicgrid_runtime::error::UseCaseError;
use civicgrid_runtime::status::{self, FieldViolations};
use civicgrid_runtime::transaction::transact;
use sqlx::PgPool;
use tonic::{Request, Response, Status};

use crate::commands::create_scheme_version::{NewSchemeVersion, create_scheme_version};
use crate::commands::publish_scheme_version::publish_scheme_version;
use crate::commands::publish_scores::publish_scores;
use crate::convert;
use crate::domain::period::Period;
use crate::domain::scheme::{
    Band, Formula, Indicator, Level, Redistribution, SchemeSpec, ScoringRule, is_valid_id,
};
use crate::domain::scoring::Card;
use crate::store::schemes;

/// "schemes/{id}".
fn scheme_name(name: &str, field: &str, violations: &mut FieldViolations) -> Option<String> {
    let id = name.strip_prefix("schemes/").filter(|id| is_valid_id(id));
    if id.is_none() {
        violations.add(
            field,
            "must be `schemes/{scheme_id}`, the id lower-case letters, digits, '-' or '_'",
        );
    }
    id.map(str::to_owned)
}

/// "schemes/{id}/versions/{n}".
fn version_name(name: &str, violations: &mut FieldViolations) -> Option<(String, i32)> {
    let parsed = name.split_once("/versions/").and_then(|(scheme, version)| {
        let id = scheme
            .strip_prefix("schemes/")
            .filter(|id| is_valid_id(id))?;
        let version: i32 = version.parse().ok().filter(|v| *v > 0)?;
        Some((id.to_owned(), version))
    });
    if parsed.is_none() {
        violations.add("name", "must be `schemes/{scheme_id}/versions/{version}`");
    }
    parsed
}

fn level(value: i32, field: &str, violations: &mut FieldViolations) -> Option<Level> {
    let level = match pb::Level::try_from(value) {
        Ok(pb::Level::Street) => Some(Level::Street),
        Ok(pb::Level::Community) => Some(Level::Community),
        Ok(pb::Level::Department) => Some(Level::Department),
        _ => None,
    };
    if level.is_none() {
        violations.add(
            field,
            "must be LEVEL_STREET, LEVEL_COMMUNITY or LEVEL_DEPARTMENT",
        );
    }
    level
}

fn indicator(
    proto: &pb::Indicator,
    at: &str,
    violations: &mut FieldViolations,
) -> Option<Indicator> {
    use pb::indicator::{Formula as F, Scoring as S};
    let level = level(proto.level, &format!("{at}.level"), violations);
    let formula = match proto.formula.clone() {
        Some(F::Ratio(r)) => Some(Formula::Ratio {
            numerator: r.numerator,
            denominator: r.denominator,
        }),
        Some(F::PerThousandResidents(r)) => Some(Formula::PerThousandResidents {
            numerator: r.numerator,
            residents: r.residents,
        }),
        Some(F::PerOrganisation(r)) => Some(Formula::PerOrganisation {
            numerator: r.numerator,
            organisations: r.organisations,
        }),
        Some(F::Coverage(c)) => Some(Formula::Coverage {
            covered: c.covered,
            total: c.total,
        }),
        Some(F::Count(c)) => Some(Formula::Count { metric: c.metric }),
        None => {
            violations.add(
                format!("{at}.formula"),
                "must be one of ratio, per_thousand_residents, per_organisation, coverage, count",
            );
            None
        }
    };
    let rule = match &proto.scoring {
        Some(S::Linear(l)) => Some(ScoringRule::Linear {
            floor: l.floor,
            target: l.target,
        }),
        Some(S::Banded(b)) => Some(ScoringRule::Banded {
            bands: b
                .bands
                .iter()
                .map(|b| Band {
                    from: b.from,
                    points: b.points,
                })
                .collect(),
        }),
        None => {
            violations.add(format!("{at}.scoring"), "must be linear or banded");
            None
        }
    };
    let (level, formula, rule) = (level?, formula?, rule?);
    let indicator = Indicator {
        id: proto.id.clone(),
        display_name: proto.display_name.clone(),
        level,
        formula,
        weight: proto.weight,
        rule,
        min_sample: proto.min_sample,
    };
    let errors = indicator.check();
    for error in &errors {
        violations.add(format!("{at}.{}", error.field), error.reason.clone());
    }
    errors.is_empty().then_some(indicator)
}

/// Parses CreateSchemeVersion's request.
fn new_scheme_version(
    request: &pb::CreateSchemeVersionRequest,
) -> Result<NewSchemeVersion, Status> {
    let mut violations = FieldViolations::new();
    let scheme_id = scheme_name(&request.parent, "parent", &mut violations);
    let from_file = if request.scheme_file.is_empty() {
        None
    } else if request.scheme_version.is_some() {
        violations.add("scheme_file", "set scheme_version or scheme_file, not both");
        None
    } else {
        match crate::scheme_file::parse(&request.scheme_file) {
            Ok(version) => Some(version),
            Err(why) => {
                violations.add("scheme_file", why);
                None
            }
        }
    };
    let default = pb::SchemeVersion::default();
    let version = from_file
        .as_ref()
        .or(request.scheme_version.as_ref())
        .unwrap_or(&default);
    if version.display_name.trim().is_empty() {
        violations.add("scheme_version.display_name", "must not be empty");
    }
    let effective_from =
        Period::parse(&version.effective_from).filter(|p| matches!(p, Period::Month(..)));
    if effective_from.is_none() {
        violations.add("scheme_version.effective_from", "must be a month `2026-11`");
    }
    let redistribution = match pb::Redistribution::try_from(version.redistribution) {
        Ok(pb::Redistribution::Proportional) => Some(Redistribution::Proportional),
        Ok(pb::Redistribution::Equal) => Some(Redistribution::Equal),
        _ => {
            violations.add(
                "scheme_version.redistribution",
                "must be REDISTRIBUTION_PROPORTIONAL or REDISTRIBUTION_EQUAL",
            );
            None
        }
    };
    if version.indicators.is_empty() {
        violations.add(
            "scheme_version.indicators",
            "must hold at least one indicator",
        );
    }
    let mut indicators = Vec::new();
    let mut ids = std::collections::HashSet::new();
    for (index, proto) in version.indicators.iter().enumerate() {
        let at = format!("scheme_version.indicators[{index}]");
        if !ids.insert(proto.id.as_str()) {
            violations.add(format!("{at}.id"), "is used by an earlier indicator");
        }
        if let Some(parsed) = indicator(proto, &at, &mut violations) {
            indicators.push(parsed);
        }
    }
    violations.check(())?;
    match (scheme_id, effective_from, redistribution) {
        (Some(scheme_id), Some(effective_from), Some(redistribution)) => Ok(NewSchemeVersion {
            scheme_id,
            display_name: version.display_name.clone(),
            effective_from,
            spec: SchemeSpec {
                redistribution,
                indicators,
            },
        }),
        _ => Err(FieldViolations::new().into_status()),
    }
}

pub(super) async fn create(
    pool: &PgPool,
    request: Request<pb::CreateSchemeVersionRequest>,
) -> Result<Response<pb::CreateSchemeVersionResponse>, Status> {
    let caller = Caller::of(&request)?;
    let input = new_scheme_version(request.get_ref())?;
    let row = transact(pool, &(caller, input), |tx, (caller, input)| {
        Box::pin(create_scheme_version(tx, caller, input))
    })
    .await?;
    Ok(Response::new(pb::CreateSchemeVersionResponse {
        scheme_version: Some(convert::scheme_version(&row)),
    }))
}

pub(super) async fn publish(
    pool: &PgPool,
    request: Request<pb::PublishSchemeVersionRequest>,
) -> Result<Response<pb::PublishSchemeVersionResponse>, Status> {
    let caller = Caller::of(&request)?;
    let mut violations = FieldViolations::new();
    let name = version_name(&request.get_ref().name, &mut violations);
    violations.check(())?;
    let (scheme_id, version) = name.ok_or_else(|| FieldViolations::new().into_status())?;
    let row = transact(
        pool,
        &(caller, scheme_id, version),
        |tx, (caller, id, version)| Box::pin(publish_scheme_version(tx, caller, id, *version)),
    )
    .await?;
    Ok(Response::new(pb::PublishSchemeVersionResponse {
        scheme_version: Some(convert::scheme_version(&row)),
    }))
}

pub(super) async fn get(
    pool: &PgPool,
    request: Request<pb::GetSchemeVersionRequest>,
) -> Result<Response<pb::GetSchemeVersionResponse>, Status> {
    Caller::of(&request)?;
    let mut violations = FieldViolations::new();
    let name = version_name(&request.get_ref().name, &mut violations);
    violations.check(())?;
    let (scheme_id, version) = name.ok_or_else(|| FieldViolations::new().into_status())?;
    let row = schemes::get(pool, &scheme_id, version)
        .await
        .map_err(status::database)?
        .ok_or_else(|| UseCaseError::NotFound(request.get_ref().name.clone()))?;
    Ok(Response::new(pb::GetSchemeVersionResponse {
        scheme_version: Some(convert::scheme_version(&row)),
    }))
}

pub(super) async fn list(
    pool: &PgPool,
    request: Request<pb::ListSchemeVersionsRequest>,
) -> Result<Response<pb::ListSchemeVersionsResponse>, Status> {
    Caller::of(&request)?;
    let body = request.get_ref();
    let mut violations = FieldViolations::new();
    let scheme_id = scheme_name(&body.parent, "parent", &mut violations);
    let size = civicgrid_runtime::paging::page_size(body.page_size, &mut violations);
    let fingerprint = format!("parent={}", body.parent);
    let after = civicgrid_runtime::paging::decode(&body.page_token, &fingerprint, &mut violations);
    let after = match after.map(|a| a.parse::<i32>()) {
        None => Some(0),
        Some(Ok(version)) => Some(version),
        Some(Err(_)) => {
            violations.add("page_token", "is not a token this service issued");
            None
        }
    };
    violations.check(())?;
    let (Some(scheme_id), Some(after)) = (scheme_id, after) else {
        return Err(FieldViolations::new().into_status());
    };
    let rows = schemes::list(
        pool,
        &scheme_id,
        after,
        civicgrid_runtime::paging::limit(size),
    )
    .await
    .map_err(status::database)?;
    let (rows, next_page_token) =
        civicgrid_runtime::paging::paged(rows, size, &fingerprint, |row| row.version.to_string());
    Ok(Response::new(pb::ListSchemeVersionsResponse {
        scheme_versions: rows.iter().map(convert::scheme_version).collect(),
        next_page_token,
    }))
}

pub(super) async fn publish_ranking(
    pool: &PgPool,
    request: Request<pb::PublishScoresRequest>,
) -> Result<Response<pb::PublishScoresResponse>, Status> {
    let caller = Caller::of(&request)?;
    let body = request.get_ref();
    let mut violations = FieldViolations::new();
    let scheme_id = scheme_name(&body.scheme, "scheme", &mut violations);
    let level = level(body.level, "level", &mut violations);
    let period = super::parse::period(&body.period, "period", &mut violations);
    violations.check(())?;
    let (Some(scheme_id), Some(level), Some(period)) = (scheme_id, level, period) else {
        return Err(FieldViolations::new().into_status());
    };
    let ranking = transact(
        pool,
        &(caller, scheme_id, level, period),
        |tx, (caller, id, level, period)| Box::pin(publish_scores(tx, caller, id, *level, *period)),
    )
    .await?;
    let version = schemes::get(pool, &ranking.scheme_id, ranking.scheme_version)
        .await
        .map_err(status::database)?
        .ok_or_else(|| status::internal("the ranking's scheme version vanished"))?;
    Ok(Response::new(pb::PublishScoresResponse {
        ranking: Some(convert::ranking(&ranking, &version.spec, |_| true)),
    }))
}

/// Which cards a caller sees: the county all; others the cells in their
/// scope (a street its own and its communities'); departments' operators
/// their own department's.
async fn card_filter(
    pool: &PgPool,
    caller: &Caller,
) -> Result<impl Fn(&Card) -> bool + use<>, Status> {
    let everything = caller.sees_everything();
    let roots = caller.scope_roots("cells").unwrap_or_default();
    let mut visible_paths = Vec::new();
    for root in roots {
        if let Some(row) = civicgrid_cell_tree::get(pool, &root)
            .await
            .map_err(status::database)?
        {
            visible_paths.push(row.path);
        }
    }
    let cells: std::collections::HashMap<String, String> = if everything {
        Default::default()
    } else {
        let rows: Vec<(String, String)> = sqlx::query_as("SELECT id, path FROM cells")
            .fetch_all(pool)
            .await
            .map_err(status::database)?;
        rows.into_iter().collect()
    };
    let department = caller
        .has_role(Role::DepartmentOperator)
        .then(|| caller.department.clone())
        .flatten()
        .map(|d| format!("departments/{}", d.trim_start_matches("departments/")));
    Ok(move |card: &Card| {
        if everything {
            return true;
        }
        if let Some(id) = card.subject.strip_prefix("cells/") {
            return cells.get(id).is_some_and(|path| {
                visible_paths
                    .iter()
                    .any(|root| path.starts_with(root.as_str()))
            });
        }
        department.as_deref() == Some(card.subject.as_str())
    })
}

pub(super) async fn get_ranking(
    pool: &PgPool,
    request: Request<pb::GetRankingRequest>,
) -> Result<Response<pb::GetRankingResponse>, Status> {
    let caller = Caller::of(&request)?;
    let ranking = visible_ranking(pool, caller, &request.get_ref().name).await?;
    Ok(Response::new(pb::GetRankingResponse {
        ranking: Some(ranking),
    }))
}

pub(super) async fn export_ranking(
    pool: &PgPool,
    request: Request<pb::ExportRankingRequest>,
) -> Result<Response<pb::ExportRankingResponse>, Status> {
    let caller = Caller::of(&request)?;
    let ranking = visible_ranking(pool, caller, &request.get_ref().name).await?;
    let csv = crate::export::ranking_csv(&ranking).map_err(status::internal)?;
    let filename = format!(
        "{}.csv",
        ranking
            .name
            .trim_start_matches("schemes/")
            .replace("/rankings/", "-")
            .replace('/', "-")
    );
    Ok(Response::new(pb::ExportRankingResponse { csv, filename }))
}

/// The ranking `name` with the cards `caller` may see.
async fn visible_ranking(
    pool: &PgPool,
    caller: &Caller,
    name: &str,
) -> Result<pb::Ranking, Status> {
    let parsed = (|| {
        let rest = name.strip_prefix("schemes/")?;
        let (id, rest) = rest.split_once("/rankings/")?;
        let (level, period) = rest.split_once('/')?;
        (is_valid_id(id)).then_some(())?;
        Some((id.to_owned(), Level::parse(level)?, Period::parse(period)?))
    })();
    let Some((scheme_id, level, period)) = parsed else {
        let mut violations = FieldViolations::new();
        violations.add(
            "name",
            "must be `schemes/{scheme_id}/rankings/{level}/{period}`, level street, community or department",
        );
        return Err(violations.into_status());
    };
    let ranking = schemes::ranking(pool, &scheme_id, level.as_str(), &period.to_string())
        .await
        .map_err(status::database)?
        .ok_or_else(|| UseCaseError::NotFound(name.to_owned()))?;
    let version = schemes::get(pool, &scheme_id, ranking.scheme_version)
        .await
        .map_err(status::database)?
        .ok_or_else(|| status::internal("the ranking's scheme version vanished"))?;
    let keep = card_filter(pool, caller).await?;
    Ok(convert::ranking(&ranking, &version.spec, keep))
}
