//! The points rules (积分): what each earns and its cap per quarter. No I/O.

/// A rule of the ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// Its code.
    pub code: &'static str,
    /// Points per award.
    pub points: i32,
    /// The most it awards one member in a quarter.
    pub cap_per_quarter: i32,
}

/// Every rule.
pub const RULES: [Rule; 5] = [
    Rule {
        code: "volunteer_service",
        points: 2,
        cap_per_quarter: 40,
    },
    Rule {
        code: "co_building_activity",
        points: 3,
        cap_per_quarter: 30,
    },
    Rule {
        code: "study",
        points: 1,
        cap_per_quarter: 12,
    },
    Rule {
        code: "deliberation",
        points: 2,
        cap_per_quarter: 12,
    },
    Rule {
        code: "commendation",
        points: 10,
        cap_per_quarter: 20,
    },
];

/// The rule `code`.
pub fn rule(code: &str) -> Option<Rule> {
    RULES.into_iter().find(|r| r.code == code)
}

/// What an award under `rule` adds when the member has `so_far` this
/// quarter: the rule's points, or what the cap leaves; 0 at the cap.
pub fn capped(rule: Rule, so_far: i64) -> i32 {
    let left = i64::from(rule.cap_per_quarter) - so_far;
    i32::try_from(left.clamp(0, i64::from(rule.points))).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_award_is_cut_to_what_the_cap_leaves() {
        let r = Rule {
            code: "x",
            points: 3,
            cap_per_quarter: 10,
        };
        assert_eq!(capped(r, 0), 3);
        assert_eq!(capped(r, 8), 2);
        assert_eq!(capped(r, 10), 0);
        assert_eq!(capped(r, 12), 0);
        assert!(rule("volunteer_service").is_some());
        assert!(rule("nope").is_none());
    }
}
