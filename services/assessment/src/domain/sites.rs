//! Demonstration sites: their stages, the steps taken by hand, and the
//! automatic evaluation of their criteria against a score card.

use serde::{Deserialize, Serialize};

use super::scoring::Card;

/// Where a site is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Application,
    Cultivation,
    Evaluation,
    Named,
    Review,
}

impl Stage {
    /// Every stage.
    pub const ALL: [Stage; 5] = [
        Stage::Application,
        Stage::Cultivation,
        Stage::Evaluation,
        Stage::Named,
        Stage::Review,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Application => "application",
            Stage::Cultivation => "cultivation",
            Stage::Evaluation => "evaluation",
            Stage::Named => "named",
            Stage::Review => "review",
        }
    }

    /// The stage stored as `name`.
    pub fn parse(name: &str) -> Option<Stage> {
        Stage::ALL.into_iter().find(|s| s.as_str() == name)
    }
}

/// A step the stages do not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StageError {
    /// Not a step taken by hand.
    #[error("a site in {} cannot be moved to {} by hand; allowed: application → cultivation → evaluation, named → review (naming goes through an evaluation)", from.as_str(), to.as_str())]
    NotByHand { from: Stage, to: Stage },
    /// Evaluations decide only in evaluation and review.
    #[error("a site in {} is not evaluated; move it to evaluation (or review) first", .0.as_str())]
    NotEvaluable(Stage),
}

/// A step by hand from `from` to `to`.
pub fn advance(from: Stage, to: Stage) -> Result<Stage, StageError> {
    use Stage::*;
    match (from, to) {
        (Application, Cultivation) | (Cultivation, Evaluation) | (Named, Review) => Ok(to),
        _ => Err(StageError::NotByHand { from, to }),
    }
}

/// Where an evaluation leaves a site in `stage`: named on a pass, back to
/// cultivation on a failed review, unchanged on a failed evaluation.
pub fn after_evaluation(stage: Stage, passed: bool) -> Result<Stage, StageError> {
    match (stage, passed) {
        (Stage::Evaluation | Stage::Review, true) => Ok(Stage::Named),
        (Stage::Evaluation, false) => Ok(Stage::Evaluation),
        (Stage::Review, false) => Ok(Stage::Cultivation),
        (other, _) => Err(StageError::NotEvaluable(other)),
    }
}

/// An indicator threshold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Criterion {
    /// The indicator's id.
    pub indicator: String,
    /// 0 to 100.
    pub min_points: f64,
}

/// What fails of `criteria` and `min_score` on `card` (None: the subject
/// has no card in the ranking); empty when everything passes.
pub fn failing(criteria: &[Criterion], min_score: f64, card: Option<&Card>) -> Vec<String> {
    let Some(card) = card else {
        return vec!["no score card in the ranking".to_owned()];
    };
    let mut out = Vec::new();
    match card.score {
        Some(score) if score >= min_score => {}
        Some(score) => out.push(format!("score {score:.2} is below {min_score:.2}")),
        None => out.push("no score: insufficient data".to_owned()),
    }
    for criterion in criteria {
        let line = card
            .indicators
            .iter()
            .find(|l| l.indicator == criterion.indicator);
        match line.map(|l| l.points) {
            None => out.push(format!(
                "{}: not an indicator of the scheme",
                criterion.indicator
            )),
            Some(None) => out.push(format!("{}: insufficient data", criterion.indicator)),
            Some(Some(points)) if points + 1e-9 < criterion.min_points => out.push(format!(
                "{}: {points:.2} points, needs {:.2}",
                criterion.indicator, criterion.min_points
            )),
            Some(Some(_)) => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::scoring::IndicatorScore;

    fn line(id: &str, points: Option<f64>) -> IndicatorScore {
        IndicatorScore {
            indicator: id.to_owned(),
            display_name: id.to_owned(),
            numerator: 0,
            denominator: 0,
            value: points.map(|p| p / 100.0),
            points,
            weight: 50.0,
            effective_weight: 50.0,
        }
    }

    #[test]
    fn an_evaluation_lists_every_failing_criterion() {
        let card = Card {
            subject: "cells/c1".to_owned(),
            display_name: "C1".to_owned(),
            score: Some(55.0),
            rank: Some(1),
            indicators: vec![
                line("a", Some(80.0)),
                line("b", Some(30.0)),
                line("c", None),
            ],
        };
        let criteria = |id: &str, min: f64| Criterion {
            indicator: id.to_owned(),
            min_points: min,
        };
        let found = failing(
            &[
                criteria("a", 80.0),
                criteria("b", 60.0),
                criteria("c", 1.0),
                criteria("d", 1.0),
            ],
            60.0,
            Some(&card),
        );
        assert_eq!(
            found,
            [
                "score 55.00 is below 60.00",
                "b: 30.00 points, needs 60.00",
                "c: insufficient data",
                "d: not an indicator of the scheme",
            ]
        );
        assert!(failing(&[criteria("a", 80.0)], 50.0, Some(&card)).is_empty());
        assert_eq!(failing(&[], 0.0, None).len(), 1);
    }

    #[test]
    fn stages_move_by_hand_only_forward_and_evaluations_name_or_send_back() {
        use Stage::*;
        assert_eq!(advance(Application, Cultivation), Ok(Cultivation));
        assert!(advance(Application, Named).is_err());
        assert!(advance(Evaluation, Named).is_err());
        assert_eq!(after_evaluation(Evaluation, true), Ok(Named));
        assert_eq!(after_evaluation(Evaluation, false), Ok(Evaluation));
        assert_eq!(after_evaluation(Review, false), Ok(Cultivation));
        assert!(after_evaluation(Cultivation, true).is_err());
    }
}
