//! Demonstration sites.

use chrono::Utc;
use civicgrid_proto::assessment::v1 as pb;
use civicgrid_runtime::auth::Caller;
use civicgrid_runtime::status::FieldViolations;
use civicgrid_runtime::transaction::transact;
use sqlx::PgPool;
use tonic::{Request, Response, Status};

use crate::commands::change_site_stage::{advance_site, evaluate_site};
use crate::commands::create_demonstration_site::create_demonstration_site;
use crate::convert;
use crate::domain::scheme::is_valid_id;
use crate::domain::sites::{Criterion, Stage};
use crate::store::sites::SiteRow;

fn site_id(name: &str, violations: &mut FieldViolations) -> Option<String> {
    let id = name
        .strip_prefix("demonstrationSites/")
        .filter(|id| is_valid_id(id));
    if id.is_none() {
        violations.add("name", "must be `demonstrationSites/{site_id}`");
    }
    id.map(str::to_owned)
}

fn stage(value: i32) -> Option<Stage> {
    match pb::SiteStage::try_from(value) {
        Ok(pb::SiteStage::Application) => Some(Stage::Application),
        Ok(pb::SiteStage::Cultivation) => Some(Stage::Cultivation),
        Ok(pb::SiteStage::Evaluation) => Some(Stage::Evaluation),
        Ok(pb::SiteStage::Named) => Some(Stage::Named),
        Ok(pb::SiteStage::Review) => Some(Stage::Review),
        _ => None,
    }
}

pub(super) async fn create(
    pool: &PgPool,
    request: Request<pb::CreateDemonstrationSiteRequest>,
) -> Result<Response<pb::CreateDemonstrationSiteResponse>, Status> {
    let caller = Caller::of(&request)?;
    let body = request.get_ref();
    let mut v = FieldViolations::new();
    if !is_valid_id(&body.demonstration_site_id) {
        v.add(
            "demonstration_site_id",
            "must be 1-63 lower-case letters, digits, '-' or '_'",
        );
    }
    let default = pb::DemonstrationSite::default();
    let site = body.demonstration_site.as_ref().unwrap_or(&default);
    if site.display_name.trim().is_empty() {
        v.add("demonstration_site.display_name", "must not be empty");
    }
    if civicgrid_cell_tree::parse_name(&site.subject).is_none() {
        v.add(
            "demonstration_site.subject",
            "must be `cells/{cell_id}` of a street or community",
        );
    }
    let scheme = site
        .scheme
        .strip_prefix("schemes/")
        .filter(|id| is_valid_id(id));
    if scheme.is_none() {
        v.add("demonstration_site.scheme", "must be `schemes/{scheme_id}`");
    }
    let level = match pb::Level::try_from(site.level) {
        Ok(pb::Level::Street) => Some("street"),
        Ok(pb::Level::Community) => Some("community"),
        _ => {
            v.add(
                "demonstration_site.level",
                "must be LEVEL_STREET or LEVEL_COMMUNITY",
            );
            None
        }
    };
    for (index, criterion) in site.criteria.iter().enumerate() {
        if criterion.indicator.is_empty() {
            v.add(
                format!("demonstration_site.criteria[{index}].indicator"),
                "must name an indicator",
            );
        }
        if !(0.0..=100.0).contains(&criterion.min_points) {
            v.add(
                format!("demonstration_site.criteria[{index}].min_points"),
                "must be 0 to 100",
            );
        }
    }
    if !(0.0..=100.0).contains(&site.min_score) {
        v.add("demonstration_site.min_score", "must be 0 to 100");
    }
    v.check(())?;
    let (Some(scheme), Some(level)) = (scheme, level) else {
        return Err(FieldViolations::new().into_status());
    };
    let now = Utc::now();
    let row = SiteRow {
        id: body.demonstration_site_id.clone(),
        display_name: site.display_name.clone(),
        subject: site.subject.clone(),
        scheme_id: scheme.to_owned(),
        level: level.to_owned(),
        criteria: site
            .criteria
            .iter()
            .map(|c| Criterion {
                indicator: c.indicator.clone(),
                min_points: c.min_points,
            })
            .collect(),
        min_score: site.min_score,
        stage: Stage::Application,
        failing_criteria: Vec::new(),
        evaluated_period: String::new(),
        version: 1,
        create_time: now,
        update_time: now,
    };
    transact(pool, &(caller, row.clone()), |tx, (caller, row)| {
        Box::pin(create_demonstration_site(tx, caller, row))
    })
    .await?;
    Ok(Response::new(pb::CreateDemonstrationSiteResponse {
        demonstration_site: Some(convert::site(&row)),
    }))
}

pub(super) async fn advance(
    pool: &PgPool,
    request: Request<pb::AdvanceDemonstrationSiteRequest>,
) -> Result<Response<pb::AdvanceDemonstrationSiteResponse>, Status> {
    let caller = Caller::of(&request)?;
    let mut v = FieldViolations::new();
    let id = site_id(&request.get_ref().name, &mut v);
    let to = stage(request.get_ref().stage);
    if to.is_none() {
        v.add("stage", "must be a SiteStage");
    }
    v.check(())?;
    let (Some(id), Some(to)) = (id, to) else {
        return Err(FieldViolations::new().into_status());
    };
    let row = transact(pool, &(caller, id, to), |tx, (caller, id, to)| {
        Box::pin(advance_site(tx, caller, id, *to))
    })
    .await?;
    Ok(Response::new(pb::AdvanceDemonstrationSiteResponse {
        demonstration_site: Some(convert::site(&row)),
    }))
}

pub(super) async fn evaluate(
    pool: &PgPool,
    request: Request<pb::EvaluateDemonstrationSiteRequest>,
) -> Result<Response<pb::EvaluateDemonstrationSiteResponse>, Status> {
    let caller = Caller::of(&request)?;
    let mut v = FieldViolations::new();
    let id = site_id(&request.get_ref().name, &mut v);
    let period = super::parse::period(&request.get_ref().period, "period", &mut v);
    v.check(())?;
    let (Some(id), Some(period)) = (id, period) else {
        return Err(FieldViolations::new().into_status());
    };
    let (row, passed) = transact(pool, &(caller, id, period), |tx, (caller, id, period)| {
        Box::pin(evaluate_site(tx, caller, id, *period))
    })
    .await?;
    Ok(Response::new(pb::EvaluateDemonstrationSiteResponse {
        demonstration_site: Some(convert::site(&row)),
        passed,
    }))
}
