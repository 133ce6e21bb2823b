//! Score cards and rankings: a pure function of a scheme's indicators of
//! one level and the metric counts of that level's subjects.
//!
//! A subject's score is Σ effective_weight × points / Σ weight over the
//! level's indicators, rounded to 0.01. An indicator whose rate has a
//! denominator of zero or below its minimum sample has insufficient data:
//! no points, and its weight goes to the scored ones as the scheme says.
//! A subject with no scored indicator has no score and no rank.
//!
//! Ranking: higher scores first; equal (rounded) scores share a rank and
//! the next rank skips ("1, 2, 2, 4"); tied subjects, and unranked ones
//! after every ranked one, are listed by subject name.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::scheme::{Indicator, Redistribution};

/// One subject's counts.
#[derive(Debug, Clone)]
pub struct Subject {
    /// "cells/{id}" or "departments/{id}".
    pub name: String,
    /// Shown on its card.
    pub display_name: String,
    /// Metric name → count in the period (absent: 0).
    pub values: HashMap<String, i64>,
}

/// One line of a card.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndicatorScore {
    /// The indicator's id.
    pub indicator: String,
    /// Its display name.
    pub display_name: String,
    /// Its numerator metric's count.
    pub numerator: i64,
    /// Its denominator metric's count (0 for counts).
    pub denominator: i64,
    /// The formula's value; None with insufficient data.
    pub value: Option<f64>,
    /// 0 to 100; None with insufficient data.
    pub points: Option<f64>,
    /// The scheme's weight.
    pub weight: f64,
    /// After redistribution; 0 with insufficient data.
    pub effective_weight: f64,
}

/// One subject's score card.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Card {
    /// "cells/{id}" or "departments/{id}".
    pub subject: String,
    /// Its display name.
    pub display_name: String,
    /// Rounded to 0.01; None when no indicator has data.
    pub score: Option<f64>,
    /// 1 for the best; None without a score.
    pub rank: Option<u32>,
    /// In the scheme's order of indicators.
    pub indicators: Vec<IndicatorScore>,
}

/// Rounds to 0.01 (half away from zero), the precision scores are
/// compared and published at.
fn hundredths(value: f64) -> i64 {
    (value * 100.0).round() as i64
}

/// The card of one subject (unranked).
pub fn card(indicators: &[&Indicator], redistribution: Redistribution, subject: &Subject) -> Card {
    let get = |name: &str| subject.values.get(name).copied().unwrap_or(0);
    let mut lines: Vec<IndicatorScore> = indicators
        .iter()
        .map(|indicator| {
            let numerator = get(indicator.formula.numerator());
            let denominator = indicator.formula.denominator().map_or(0, get);
            let value = indicator
                .formula
                .value(numerator, denominator, indicator.min_sample);
            IndicatorScore {
                indicator: indicator.id.clone(),
                display_name: indicator.display_name.clone(),
                numerator,
                denominator,
                value,
                points: value.map(|v| indicator.rule.points(v)),
                weight: indicator.weight,
                effective_weight: 0.0,
            }
        })
        .collect();
    let total: f64 = lines.iter().map(|l| l.weight).sum();
    let scored: f64 = lines
        .iter()
        .filter(|l| l.points.is_some())
        .map(|l| l.weight)
        .sum();
    let scored_count = lines.iter().filter(|l| l.points.is_some()).count();
    let score = if scored_count == 0 || total <= 0.0 {
        None
    } else {
        let missing = total - scored;
        for line in lines.iter_mut().filter(|l| l.points.is_some()) {
            line.effective_weight = match redistribution {
                Redistribution::Proportional => line.weight * total / scored,
                Redistribution::Equal => line.weight + missing / scored_count as f64,
            };
        }
        let sum: f64 = lines
            .iter()
            .filter_map(|l| l.points.map(|p| p * l.effective_weight))
            .sum();
        Some(hundredths(sum / total) as f64 / 100.0)
    };
    Card {
        subject: subject.name.clone(),
        display_name: subject.display_name.clone(),
        score,
        rank: None,
        indicators: lines,
    }
}

/// Every subject's card, ranked (see the module's rule).
pub fn rank(
    indicators: &[&Indicator],
    redistribution: Redistribution,
    subjects: &[Subject],
) -> Vec<Card> {
    let mut cards: Vec<Card> = subjects
        .iter()
        .map(|s| card(indicators, redistribution, s))
        .collect();
    cards.sort_by(|a, b| {
        let key = |c: &Card| c.score.map(hundredths);
        // Some(higher) first, None last; then by name.
        key(b).cmp(&key(a)).then_with(|| a.subject.cmp(&b.subject))
    });
    let mut previous: Option<(i64, u32)> = None;
    for (index, card) in cards.iter_mut().enumerate() {
        let Some(score) = card.score.map(hundredths) else {
            break;
        };
        let position = u32::try_from(index + 1).unwrap_or(u32::MAX);
        let rank = match previous {
            Some((last, rank)) if last == score => rank,
            _ => position,
        };
        card.rank = Some(rank);
        previous = Some((score, rank));
    }
    cards
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::scheme::{Band, Formula, Level, ScoringRule};

    fn ratio(n: &str, d: &str) -> Formula {
        Formula::Ratio {
            numerator: n.to_owned(),
            denominator: d.to_owned(),
        }
    }

    /// Response (40): accepted on time / reported, linear 0.5 → 1.0, at
    /// least 4 tasks. Satisfaction (40): satisfied / rated, bands 0.6 → 60,
    /// 0.8 → 80, 0.95 → 100, at least 2 ratings. Returns (20): returns /
    /// whistles, linear 0.5 → 0 (fewer is better), at least 1 whistle.
    fn indicators() -> Vec<Indicator> {
        let indicator = |id: &str, formula, weight, rule, min_sample| Indicator {
            id: id.to_owned(),
            display_name: id.to_uppercase(),
            level: Level::Community,
            formula,
            weight,
            rule,
            min_sample,
        };
        vec![
            indicator(
                "response",
                ratio("tasks_accepted_on_time", "tasks_reported"),
                40.0,
                ScoringRule::Linear {
                    floor: 0.5,
                    target: 1.0,
                },
                4,
            ),
            indicator(
                "satisfaction",
                ratio("tasks_satisfied", "tasks_rated"),
                40.0,
                ScoringRule::Banded {
                    bands: vec![
                        Band {
                            from: 0.6,
                            points: 60.0,
                        },
                        Band {
                            from: 0.8,
                            points: 80.0,
                        },
                        Band {
                            from: 0.95,
                            points: 100.0,
                        },
                    ],
                },
                2,
            ),
            indicator(
                "returns",
                ratio("returns", "whistles"),
                20.0,
                ScoringRule::Linear {
                    floor: 0.5,
                    target: 0.0,
                },
                1,
            ),
        ]
    }

    /// (reported, accepted on time, rated, satisfied, whistles, returns)
    fn subject(name: &str, counts: [i64; 6]) -> Subject {
        let metrics = [
            "tasks_reported",
            "tasks_accepted_on_time",
            "tasks_rated",
            "tasks_satisfied",
            "whistles",
            "returns",
        ];
        Subject {
            name: format!("cells/{name}"),
            display_name: name.to_uppercase(),
            values: metrics
                .iter()
                .zip(counts)
                .filter(|(_, v)| *v != 0)
                .map(|(m, v)| ((*m).to_owned(), v))
                .collect(),
        }
    }

    fn subjects() -> Vec<Subject> {
        vec![
            // 0.9 → 80; 0.8 → 80; 0.2 → 60: (40·80 + 40·80 + 20·60) / 100 = 76.
            subject("ca", [10, 9, 5, 4, 5, 1]),
            // 1.0 → 100; one rating < 2: insufficient; 0.25 → 50.
            // Proportional: (40·100 + 20·50) / 60 = 83.33.
            subject("cb", [10, 10, 1, 1, 4, 1]),
            // 0.76 → 52; 1.0 → 100; no whistle: insufficient.
            // (40·52 + 40·100) / 80 = 76: tied with ca.
            subject("cc", [25, 19, 4, 4, 0, 0]),
            // Nothing at all: no score, no rank.
            subject("cd", [0, 0, 0, 0, 0, 0]),
            // 0.25, 0.5 and 1.0 are all beyond their floors: 0, ranked.
            subject("ce", [4, 1, 2, 1, 1, 1]),
        ]
    }

    fn summary(cards: &[Card]) -> Vec<(&str, Option<f64>, Option<u32>)> {
        cards
            .iter()
            .map(|c| (c.subject.as_str(), c.score, c.rank))
            .collect()
    }

    #[test]
    fn the_hand_computed_fixture_scores_ranks_ties_and_insufficient_data_exactly() {
        let indicators = indicators();
        let refs: Vec<&Indicator> = indicators.iter().collect();
        let cards = rank(&refs, Redistribution::Proportional, &subjects());
        assert_eq!(
            summary(&cards),
            [
                ("cells/cb", Some(83.33), Some(1)),
                ("cells/ca", Some(76.0), Some(2)),
                ("cells/cc", Some(76.0), Some(2)),
                ("cells/ce", Some(0.0), Some(4)),
                ("cells/cd", None, None),
            ]
        );
        let cb = &cards[0];
        let lines: Vec<(&str, Option<f64>, f64)> = cb
            .indicators
            .iter()
            .map(|l| (l.indicator.as_str(), l.points, l.effective_weight))
            .collect();
        assert_eq!(lines[0].0, "response");
        assert_eq!(lines[0].1, Some(100.0));
        assert!((lines[0].2 - 200.0 / 3.0).abs() < 1e-9);
        assert_eq!(
            (lines[1].0, lines[1].1, lines[1].2),
            ("satisfaction", None, 0.0)
        );
        assert_eq!(cb.indicators[1].value, None);
        assert_eq!(
            (cb.indicators[1].numerator, cb.indicators[1].denominator),
            (1, 1)
        );
        assert_eq!(lines[2].1, Some(50.0));
        assert!((lines[2].2 - 100.0 / 3.0).abs() < 1e-9);
        let cd = &cards[4];
        assert!(
            cd.indicators
                .iter()
                .all(|l| l.points.is_none() && l.effective_weight == 0.0)
        );
    }

    #[test]
    fn equal_redistribution_shares_the_missing_weight_evenly() {
        let indicators = indicators();
        let refs: Vec<&Indicator> = indicators.iter().collect();
        let cards = rank(&refs, Redistribution::Equal, &subjects());
        // cb: response 40 + 20, returns 20 + 20: (60·100 + 40·50) / 100 = 80.
        // cc: 50 each: (50·52 + 50·100) / 100 = 76.
        assert_eq!(
            summary(&cards),
            [
                ("cells/cb", Some(80.0), Some(1)),
                ("cells/ca", Some(76.0), Some(2)),
                ("cells/cc", Some(76.0), Some(2)),
                ("cells/ce", Some(0.0), Some(4)),
                ("cells/cd", None, None),
            ]
        );
        assert_eq!(cards[0].indicators[0].effective_weight, 60.0);
        assert_eq!(cards[0].indicators[2].effective_weight, 40.0);
    }

    #[test]
    fn rules_score_at_their_edges_and_clamp_beyond() {
        let linear = ScoringRule::Linear {
            floor: 0.5,
            target: 1.0,
        };
        assert_eq!(
            [0.0, 0.5, 0.75, 1.0, 1.5].map(|v| linear.points(v)),
            [0.0, 0.0, 50.0, 100.0, 100.0]
        );
        let fewer_is_better = ScoringRule::Linear {
            floor: 10.0,
            target: 0.0,
        };
        assert_eq!(
            [0.0, 5.0, 10.0, 20.0].map(|v| fewer_is_better.points(v)),
            [100.0, 50.0, 0.0, 0.0]
        );
        let banded = ScoringRule::Banded {
            bands: vec![
                Band {
                    from: 1.0,
                    points: 50.0,
                },
                Band {
                    from: 2.0,
                    points: 90.0,
                },
            ],
        };
        assert_eq!(
            [0.99, 1.0, 1.5, 2.0, 9.0].map(|v| banded.points(v)),
            [0.0, 50.0, 50.0, 90.0, 90.0]
        );
        let per_thousand = Formula::PerThousandResidents {
            numerator: "a".to_owned(),
            residents: "b".to_owned(),
        };
        assert_eq!(per_thousand.value(3, 1500, 1000), Some(2.0));
        assert_eq!(per_thousand.value(3, 999, 1000), None);
        assert_eq!(
            Formula::Count {
                metric: "a".to_owned()
            }
            .value(7, 0, 0),
            Some(7.0)
        );
    }

    proptest::proptest! {
        /// Whatever the counts and their order: ranks follow the scores
        /// (higher first, equal scores one rank, the next rank skipping),
        /// unranked cards have no score and come last, and the order of
        /// the subjects given changes nothing.
        #[test]
        fn ranks_follow_scores_and_ignore_the_order_subjects_come_in(
            counts in proptest::collection::vec(proptest::array::uniform6(0i64..12), 1..12),
            seed in 0usize..1000,
        ) {
            let indicators = indicators();
            let refs: Vec<&Indicator> = indicators.iter().collect();
            let subjects: Vec<Subject> = counts
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    // Keep the counts coherent: parts never exceed wholes.
                    let [reported, on_time, rated, satisfied, whistles, returns] = *c;
                    subject(
                        &format!("c{i:02}"),
                        [reported, on_time.min(reported), rated, satisfied.min(rated), whistles, returns.min(whistles)],
                    )
                })
                .collect();
            let cards = rank(&refs, Redistribution::Proportional, &subjects);
            let mut rotated = subjects.clone();
            rotated.rotate_left(seed % subjects.len());
            proptest::prop_assert_eq!(&rank(&refs, Redistribution::Proportional, &rotated), &cards);
            for (index, card) in cards.iter().enumerate() {
                match (card.score, card.rank) {
                    (Some(score), Some(rank)) => {
                        proptest::prop_assert!((0.0..=100.0).contains(&score));
                        let better = cards.iter().filter(|c| c.score.is_some_and(|s| s > score)).count();
                        proptest::prop_assert_eq!(rank as usize, better + 1);
                    }
                    (None, None) => {
                        proptest::prop_assert!(cards[index..].iter().all(|c| c.score.is_none()));
                    }
                    other => proptest::prop_assert!(false, "score and rank disagree: {:?}", other),
                }
            }
        }
    }
}
