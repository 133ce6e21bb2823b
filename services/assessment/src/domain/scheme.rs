//! Indicator schemes: what is scored, from which metrics, how, and with
//! what weight. Stored as JSON (serde), so the stored form is this type.

use serde::{Deserialize, Serialize};

use super::metric::Metric;
use super::period::Period;

/// What an indicator scores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// Streets, by the rolled-up metrics of their subtree.
    Street,
    /// Communities, likewise.
    Community,
    /// Departments, by their own metrics.
    Department,
}

impl Level {
    /// The name in resource names: "street", "community", "department".
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Street => "street",
            Level::Community => "community",
            Level::Department => "department",
        }
    }

    /// The level named `name` in a resource name.
    pub fn parse(name: &str) -> Option<Level> {
        [Level::Street, Level::Community, Level::Department]
            .into_iter()
            .find(|l| l.as_str() == name)
    }
}

/// A metric formula over metric names of the level's subjects.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Formula {
    /// numerator / denominator.
    Ratio {
        numerator: String,
        denominator: String,
    },
    /// 1000 × numerator / residents.
    PerThousandResidents {
        numerator: String,
        residents: String,
    },
    /// numerator / organisations.
    PerOrganisation {
        numerator: String,
        organisations: String,
    },
    /// covered / total.
    Coverage { covered: String, total: String },
    /// The count itself.
    Count { metric: String },
}

impl Formula {
    /// The metric on top.
    pub fn numerator(&self) -> &str {
        match self {
            Formula::Ratio { numerator, .. }
            | Formula::PerThousandResidents { numerator, .. }
            | Formula::PerOrganisation { numerator, .. } => numerator,
            Formula::Coverage { covered, .. } => covered,
            Formula::Count { metric } => metric,
        }
    }

    /// The metric below, for rates.
    pub fn denominator(&self) -> Option<&str> {
        match self {
            Formula::Ratio { denominator, .. } => Some(denominator),
            Formula::PerThousandResidents { residents, .. } => Some(residents),
            Formula::PerOrganisation { organisations, .. } => Some(organisations),
            Formula::Coverage { total, .. } => Some(total),
            Formula::Count { .. } => None,
        }
    }

    fn multiplier(&self) -> f64 {
        match self {
            Formula::PerThousandResidents { .. } => 1000.0,
            _ => 1.0,
        }
    }

    /// The formula's value for the counts `numerator` and `denominator`,
    /// or None when a rate's denominator is zero or below `min_sample`.
    pub fn value(&self, numerator: i64, denominator: i64, min_sample: i64) -> Option<f64> {
        if self.denominator().is_none() {
            return Some(numerator as f64);
        }
        (denominator > 0 && denominator >= min_sample)
            .then(|| self.multiplier() * numerator as f64 / denominator as f64)
    }
}

/// One band of a banded rule: a value of at least `from` scores `points`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Band {
    /// The lowest value of the band.
    pub from: f64,
    /// 0 to 100.
    pub points: f64,
}

/// How a value becomes points (0 to 100).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScoringRule {
    /// 0 at `floor`, 100 at `target`, linear between, clamped; a floor
    /// above the target scores lower values higher.
    Linear { floor: f64, target: f64 },
    /// The points of the band with the highest `from` reached; 0 below all.
    Banded { bands: Vec<Band> },
}

impl ScoringRule {
    /// The points `value` earns.
    pub fn points(&self, value: f64) -> f64 {
        match self {
            ScoringRule::Linear { floor, target } => {
                let share = (value - floor) / (target - floor);
                100.0 * share.clamp(0.0, 1.0)
            }
            ScoringRule::Banded { bands } => bands
                .iter()
                .rev()
                .find(|band| value >= band.from)
                .map_or(0.0, |band| band.points),
        }
    }
}

/// Where the weight of an indicator with insufficient data goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Redistribution {
    /// The scored indicators' weights scale up in proportion.
    Proportional,
    /// Shared equally among the scored indicators.
    Equal,
}

/// One indicator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Indicator {
    /// Unique within its scheme version.
    pub id: String,
    /// Shown on score cards.
    pub display_name: String,
    /// What it scores.
    pub level: Level,
    /// From which metrics.
    pub formula: Formula,
    /// Positive.
    pub weight: f64,
    /// How.
    pub rule: ScoringRule,
    /// Rates below this denominator have insufficient data.
    pub min_sample: i64,
}

/// The content of a scheme version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SchemeSpec {
    /// Where insufficient data's weight goes.
    pub redistribution: Redistribution,
    /// Every indicator, of every level.
    pub indicators: Vec<Indicator>,
}

/// Why an indicator is not valid, with the field of `Indicator` at fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndicatorError {
    /// e.g. "weight", "ratio.numerator", "banded.bands".
    pub field: &'static str,
    /// What is wrong.
    pub reason: String,
}

impl Indicator {
    /// The rules every indicator obeys; every broken one.
    pub fn check(&self) -> Vec<IndicatorError> {
        let mut errors = Vec::new();
        let mut bad = |field: &'static str, reason: String| {
            errors.push(IndicatorError { field, reason });
        };
        if !is_valid_id(&self.id) {
            bad(
                "id",
                "must be 1-63 lower-case letters, digits, '-' or '_'".to_owned(),
            );
        }
        if !(self.weight.is_finite() && self.weight > 0.0) {
            bad("weight", "must be a positive number".to_owned());
        }
        if self.min_sample < 0 {
            bad("min_sample", "must not be negative".to_owned());
        }
        let department = self.level == Level::Department;
        let known = |name: &str| Metric::parse(name, department).is_some();
        let kind = if department {
            "DepartmentMetrics"
        } else {
            "CellMetrics"
        };
        let (top, below) = match &self.formula {
            Formula::Ratio { .. } => ("ratio.numerator", "ratio.denominator"),
            Formula::PerThousandResidents { .. } => (
                "per_thousand_residents.numerator",
                "per_thousand_residents.residents",
            ),
            Formula::PerOrganisation { .. } => (
                "per_organisation.numerator",
                "per_organisation.organisations",
            ),
            Formula::Coverage { .. } => ("coverage.covered", "coverage.total"),
            Formula::Count { .. } => ("count.metric", ""),
        };
        if !known(self.formula.numerator()) {
            bad(top, format!("must be a count of {kind}"));
        }
        if let Some(denominator) = self.formula.denominator()
            && !known(denominator)
        {
            bad(below, format!("must be a count of {kind}"));
        }
        if self.formula.denominator().is_none() && self.min_sample != 0 {
            bad("min_sample", "applies to rates only; must be 0".to_owned());
        }
        match &self.rule {
            ScoringRule::Linear { floor, target } => {
                if !(floor.is_finite() && target.is_finite()) || floor == target {
                    bad(
                        "linear",
                        "floor and target must be different finite numbers".to_owned(),
                    );
                }
            }
            ScoringRule::Banded { bands } => {
                let increasing = bands.windows(2).all(|w| w[0].from < w[1].from);
                let points_ok = bands
                    .iter()
                    .all(|b| b.from.is_finite() && (0.0..=100.0).contains(&b.points));
                if bands.is_empty() || !increasing || !points_ok {
                    bad(
                        "banded.bands",
                        "must be at least one band, `from` strictly increasing, points 0 to 100"
                            .to_owned(),
                    );
                }
            }
        }
        errors
    }
}

/// Ids of schemes and indicators: like cell ids.
pub fn is_valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 63
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

/// The first month of `period`: the month a scheme version must start by
/// to score it.
pub fn first_month(period: Period) -> Period {
    match period {
        Period::Year(year) => Period::Month(year, 1),
        Period::Quarter(year, quarter) => Period::Month(year, quarter * 3 - 2),
        month @ Period::Month(..) => month,
    }
}
