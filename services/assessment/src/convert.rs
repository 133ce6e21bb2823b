//! Domain values and rows into the proto messages the API returns and the
//! events carry.

use chrono::{DateTime, Utc};
use civicgrid_proto::assessment::v1 as pb;

use crate::domain::scheme::{Formula, Indicator, Level, Redistribution, SchemeSpec, ScoringRule};
use crate::domain::scoring::Card;
use crate::store::burden::{CampaignRow, WhitelistItemRow, WorkRequestRow};
use crate::store::ratings::RatingRow;
use crate::store::schemes::{RankingRow, SchemeVersionRow};

/// A time as a proto timestamp.
pub fn timestamp(at: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: at.timestamp(),
        nanos: i32::try_from(at.timestamp_subsec_nanos()).unwrap_or(0),
    }
}

/// The proto enum of a level.
pub fn level(level: Level) -> pb::Level {
    match level {
        Level::Street => pb::Level::Street,
        Level::Community => pb::Level::Community,
        Level::Department => pb::Level::Department,
    }
}

fn formula(formula: &Formula) -> pb::indicator::Formula {
    use pb::indicator::Formula as F;
    match formula.clone() {
        Formula::Ratio {
            numerator,
            denominator,
        } => F::Ratio(pb::Ratio {
            numerator,
            denominator,
        }),
        Formula::PerThousandResidents {
            numerator,
            residents,
        } => F::PerThousandResidents(pb::PerThousandResidents {
            numerator,
            residents,
        }),
        Formula::PerOrganisation {
            numerator,
            organisations,
        } => F::PerOrganisation(pb::PerOrganisation {
            numerator,
            organisations,
        }),
        Formula::Coverage { covered, total } => F::Coverage(pb::Coverage { covered, total }),
        Formula::Count { metric } => F::Count(pb::Count { metric }),
    }
}

fn indicator(indicator: &Indicator) -> pb::Indicator {
    pb::Indicator {
        id: indicator.id.clone(),
        display_name: indicator.display_name.clone(),
        level: level(indicator.level) as i32,
        formula: Some(formula(&indicator.formula)),
        weight: indicator.weight,
        scoring: Some(match &indicator.rule {
            ScoringRule::Linear { floor, target } => pb::indicator::Scoring::Linear(pb::Linear {
                floor: *floor,
                target: *target,
            }),
            ScoringRule::Banded { bands } => pb::indicator::Scoring::Banded(pb::Banded {
                bands: bands
                    .iter()
                    .map(|b| pb::Band {
                        from: b.from,
                        points: b.points,
                    })
                    .collect(),
            }),
        }),
        min_sample: indicator.min_sample,
    }
}

/// A stored version as `SchemeVersion`.
pub fn scheme_version(row: &SchemeVersionRow) -> pb::SchemeVersion {
    pb::SchemeVersion {
        name: format!("schemes/{}/versions/{}", row.scheme_id, row.version),
        display_name: row.display_name.clone(),
        effective_from: row.effective_from.clone(),
        redistribution: match row.spec.redistribution {
            Redistribution::Proportional => pb::Redistribution::Proportional,
            Redistribution::Equal => pb::Redistribution::Equal,
        } as i32,
        indicators: row.spec.indicators.iter().map(indicator).collect(),
        state: if row.published {
            pb::SchemeVersionState::Published
        } else {
            pb::SchemeVersionState::Draft
        } as i32,
        create_time: Some(timestamp(row.create_time)),
        publish_time: row.publish_time.map(timestamp),
    }
}

/// One card, its lines linked to the metrics resource they come from.
fn card(card: &Card, spec: &SchemeSpec, period: &str) -> pb::ScoreCard {
    pb::ScoreCard {
        subject: card.subject.clone(),
        display_name: card.display_name.clone(),
        score: card.score,
        rank: card
            .rank
            .map_or(0, |r| i32::try_from(r).unwrap_or(i32::MAX)),
        indicators: card
            .indicators
            .iter()
            .map(|line| {
                let found = spec.indicators.iter().find(|i| i.id == line.indicator);
                pb::IndicatorScore {
                    indicator: line.indicator.clone(),
                    display_name: line.display_name.clone(),
                    status: if line.points.is_some() {
                        pb::IndicatorStatus::Scored
                    } else {
                        pb::IndicatorStatus::InsufficientData
                    } as i32,
                    metrics: format!("{}/metrics/{period}", card.subject),
                    numerator_metric: found
                        .map(|i| i.formula.numerator().to_owned())
                        .unwrap_or_default(),
                    denominator_metric: found
                        .and_then(|i| i.formula.denominator())
                        .unwrap_or_default()
                        .to_owned(),
                    numerator: line.numerator,
                    denominator: line.denominator,
                    value: line.value,
                    points: line.points,
                    weight: line.weight,
                    effective_weight: line.effective_weight,
                }
            })
            .collect(),
    }
}

/// A published ranking; `keep` decides which cards the reader sees.
pub fn ranking(row: &RankingRow, spec: &SchemeSpec, keep: impl Fn(&Card) -> bool) -> pb::Ranking {
    let level = Level::parse(&row.level).map_or(pb::Level::Unspecified, level);
    pb::Ranking {
        name: format!(
            "schemes/{}/rankings/{}/{}",
            row.scheme_id, row.level, row.period
        ),
        scheme_version: format!("schemes/{}/versions/{}", row.scheme_id, row.scheme_version),
        level: level as i32,
        period: row.period.clone(),
        cards: row
            .cards
            .iter()
            .filter(|c| keep(c))
            .map(|c| card(c, spec, &row.period))
            .collect(),
        revision: row.revision,
        publish_time: Some(timestamp(row.publish_time)),
    }
}

/// A stored rating.
pub fn rating(row: &RatingRow) -> pb::DepartmentRating {
    use crate::domain::rating::Grade;
    pb::DepartmentRating {
        name: format!(
            "{}/departmentRatings/{}",
            row.task,
            row.department.trim_start_matches("departments/")
        ),
        department: row.department.clone(),
        grade: match row.grade {
            Grade::Satisfied => pb::RatingGrade::Satisfied,
            Grade::BasicallySatisfied => pb::RatingGrade::BasicallySatisfied,
            Grade::Dissatisfied => pb::RatingGrade::Dissatisfied,
        } as i32,
        comment: row.comment.clone(),
        rater: row.rater.clone(),
        create_time: Some(timestamp(row.create_time)),
    }
}

/// A whitelist item.
pub fn whitelist_item(row: &WhitelistItemRow) -> pb::WhitelistItem {
    pb::WhitelistItem {
        name: format!("whitelistItems/{}", row.item.id),
        display_name: row.display_name.clone(),
        legal_basis: row.legal_basis.clone(),
        department: row.item.department.clone(),
        yearly_funds: row.item.yearly_funds,
        working_conditions: row.item.working_conditions.clone(),
        valid_from: row.item.valid_from.to_string(),
        valid_until: row.item.valid_until.to_string(),
        create_time: Some(timestamp(row.create_time)),
    }
}

/// A work request.
pub fn work_request(row: &WorkRequestRow) -> pb::WorkRequest {
    pb::WorkRequest {
        name: format!("workRequests/{}", row.id),
        department: row.department.clone(),
        community: row.community.clone(),
        whitelist_item: row.whitelist_item.clone(),
        description: row.description.clone(),
        state: if row.accepted {
            pb::WorkRequestState::Accepted
        } else {
            pb::WorkRequestState::Refused
        } as i32,
        missing: row.missing.clone(),
        create_time: Some(timestamp(row.create_time)),
    }
}

/// A campaign.
pub fn campaign(row: &CampaignRow) -> pb::Campaign {
    let kind = match row.kind.as_str() {
        "assessment" => pb::CampaignKind::Assessment,
        "inspection" => pb::CampaignKind::Inspection,
        "evaluation" => pb::CampaignKind::Evaluation,
        "demonstration" => pb::CampaignKind::Demonstration,
        _ => pb::CampaignKind::Unspecified,
    };
    pb::Campaign {
        name: format!("campaigns/{}", row.id),
        department: row.department.clone(),
        kind: kind as i32,
        display_name: row.display_name.clone(),
        year: row.year,
        communities: row.communities.clone(),
        create_time: Some(timestamp(row.create_time)),
    }
}

/// A stored demonstration site.
pub fn site(row: &crate::store::sites::SiteRow) -> pb::DemonstrationSite {
    pb::DemonstrationSite {
        name: format!("demonstrationSites/{}", row.id),
        display_name: row.display_name.clone(),
        subject: row.subject.clone(),
        scheme: format!("schemes/{}", row.scheme_id),
        level: Level::parse(&row.level).map_or(pb::Level::Unspecified, level) as i32,
        criteria: row
            .criteria
            .iter()
            .map(|c| pb::SiteCriterion {
                indicator: c.indicator.clone(),
                min_points: c.min_points,
            })
            .collect(),
        min_score: row.min_score,
        stage: site_stage(row.stage) as i32,
        failing_criteria: row.failing_criteria.clone(),
        evaluated_period: row.evaluated_period.clone(),
        version: row.version,
        create_time: Some(timestamp(row.create_time)),
        update_time: Some(timestamp(row.update_time)),
    }
}

/// The proto enum of a stage.
pub fn site_stage(stage: crate::domain::sites::Stage) -> pb::SiteStage {
    use crate::domain::sites::Stage;
    match stage {
        Stage::Application => pb::SiteStage::Application,
        Stage::Cultivation => pb::SiteStage::Cultivation,
        Stage::Evaluation => pb::SiteStage::Evaluation,
        Stage::Named => pb::SiteStage::Named,
        Stage::Review => pb::SiteStage::Review,
    }
}
