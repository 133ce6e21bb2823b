//! The standard per category, held as data, and a centre's compliance with it.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::centre::{Category, Centre, Function};

/// The standard shipped with the service: version 1 of every category.
pub const DEFAULT_STANDARDS: &str = include_str!("../../standards/default.toml");

/// What a category requires.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Requirement {
    /// Functions a centre must have a zone for.
    pub required_functions: Vec<Function>,
    /// Minimum floor area, square metres.
    pub minimum_floor_area: i32,
}

/// One version of a category's standard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Standard {
    /// The category.
    pub category: Category,
    /// What it requires.
    pub requirement: Requirement,
    /// 1, 2, ...
    pub version: i64,
    /// Who put it in force.
    pub set_by: String,
    /// When.
    pub create_time: DateTime<Utc>,
}

/// Parses a standards file (TOML: one table per category, see
/// `standards/default.toml`); every category must be present.
pub fn parse_standards(text: &str) -> Result<BTreeMap<Category, Requirement>, String> {
    use figment::Figment;
    use figment::providers::{Format, Toml};
    let tables: BTreeMap<String, Requirement> = Figment::from(Toml::string(text))
        .extract()
        .map_err(|e| e.to_string())?;
    let mut standards = BTreeMap::new();
    for (name, requirement) in tables {
        let category =
            Category::parse(&name).ok_or_else(|| format!("unknown category `{name}`"))?;
        if requirement.minimum_floor_area < 0 {
            return Err(format!("{name}: minimum_floor_area must not be negative"));
        }
        standards.insert(category, requirement);
    }
    if let Some(missing) = Category::ALL.iter().find(|c| !standards.contains_key(c)) {
        return Err(format!("no standard for category `{missing}`"));
    }
    Ok(standards)
}

/// How a centre measures up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Compliance {
    /// The standard's version.
    pub standard_version: i64,
    /// Required functions without a zone, in contract order.
    pub missing_functions: Vec<Function>,
    /// Square metres short of the minimum (0: enough).
    pub area_shortfall: i32,
}

impl Compliance {
    /// Whether nothing is missing.
    pub fn compliant(&self) -> bool {
        self.missing_functions.is_empty() && self.area_shortfall == 0
    }
}

/// Checks `centre` against `standard` (of its category).
pub fn check(centre: &Centre, standard: &Standard) -> Compliance {
    let has = centre.functions();
    let mut missing_functions: Vec<Function> = standard
        .requirement
        .required_functions
        .iter()
        .copied()
        .filter(|function| !has.contains(function))
        .collect();
    missing_functions.sort();
    missing_functions.dedup();
    Compliance {
        standard_version: standard.version,
        missing_functions,
        area_shortfall: (standard.requirement.minimum_floor_area - centre.floor_area).max(0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_standards_cover_every_category() {
        let standards = parse_standards(DEFAULT_STANDARDS).unwrap();
        assert_eq!(standards.len(), Category::ALL.len());
        assert_eq!(standards[&Category::Community].required_functions.len(), 4);
    }

    #[test]
    fn a_file_missing_a_category_or_naming_an_unknown_one_is_refused() {
        let error =
            parse_standards("[community]\nrequired_functions = []\nminimum_floor_area = 1\n")
                .unwrap_err();
        assert!(error.contains("residential_compound"), "{error}");
        let error =
            parse_standards("[moon_base]\nrequired_functions = []\nminimum_floor_area = 1\n")
                .unwrap_err();
        assert!(error.contains("moon_base"), "{error}");
    }
}
