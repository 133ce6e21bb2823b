//! Scheme files: an indicator scheme version as JSON, for loading from
//! disk (`civicgrid demo` loads services/assessment/schemes/demo-county.json).
//! The fields are the proto's (`SchemeVersion`, `Indicator`), enums in
//! lower case ("street", "proportional"); one formula key and one scoring
//! key per indicator. The result is validated like any CreateSchemeVersion.

use civicgrid_proto::assessment::v1 as pb;
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    display_name: String,
    effective_from: String,
    redistribution: String,
    indicators: Vec<IndicatorFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Pair {
    #[serde(alias = "covered")]
    numerator: String,
    #[serde(alias = "residents", alias = "organisations", alias = "total")]
    denominator: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CountFile {
    metric: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LinearFile {
    floor: f64,
    target: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BandFile {
    from: f64,
    points: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BandedFile {
    bands: Vec<BandFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IndicatorFile {
    id: String,
    display_name: String,
    level: String,
    ratio: Option<Pair>,
    per_thousand_residents: Option<Pair>,
    per_organisation: Option<Pair>,
    coverage: Option<Pair>,
    count: Option<CountFile>,
    weight: f64,
    linear: Option<LinearFile>,
    banded: Option<BandedFile>,
    #[serde(default)]
    min_sample: i64,
}

fn level(text: &str) -> Result<pb::Level, String> {
    match text {
        "street" => Ok(pb::Level::Street),
        "community" => Ok(pb::Level::Community),
        "department" => Ok(pb::Level::Department),
        other => Err(format!(
            "level {other:?} is not street, community or department"
        )),
    }
}

fn indicator(file: IndicatorFile) -> Result<pb::Indicator, String> {
    use pb::indicator::{Formula as F, Scoring as S};
    let id = file.id.clone();
    let mut formulas = Vec::new();
    if let Some(p) = file.ratio {
        formulas.push(F::Ratio(pb::Ratio {
            numerator: p.numerator,
            denominator: p.denominator,
        }));
    }
    if let Some(p) = file.per_thousand_residents {
        formulas.push(F::PerThousandResidents(pb::PerThousandResidents {
            numerator: p.numerator,
            residents: p.denominator,
        }));
    }
    if let Some(p) = file.per_organisation {
        formulas.push(F::PerOrganisation(pb::PerOrganisation {
            numerator: p.numerator,
            organisations: p.denominator,
        }));
    }
    if let Some(p) = file.coverage {
        formulas.push(F::Coverage(pb::Coverage {
            covered: p.numerator,
            total: p.denominator,
        }));
    }
    if let Some(c) = file.count {
        formulas.push(F::Count(pb::Count { metric: c.metric }));
    }
    let mut scorings = Vec::new();
    if let Some(l) = file.linear {
        scorings.push(S::Linear(pb::Linear {
            floor: l.floor,
            target: l.target,
        }));
    }
    if let Some(b) = file.banded {
        scorings.push(S::Banded(pb::Banded {
            bands: b
                .bands
                .into_iter()
                .map(|b| pb::Band {
                    from: b.from,
                    points: b.points,
                })
                .collect(),
        }));
    }
    if formulas.len() != 1 || scorings.len() != 1 {
        return Err(format!(
            "indicator {id:?} needs exactly one formula (ratio, per_thousand_residents, per_organisation, coverage, count) and one scoring rule (linear, banded)"
        ));
    }
    Ok(pb::Indicator {
        id: file.id,
        display_name: file.display_name,
        level: level(&file.level)? as i32,
        formula: formulas.pop(),
        weight: file.weight,
        scoring: scorings.pop(),
        min_sample: file.min_sample,
    })
}

/// The scheme version a file describes, or what is wrong with it.
pub fn parse(json: &str) -> Result<pb::SchemeVersion, String> {
    let file: File = serde_json::from_str(json).map_err(|e| e.to_string())?;
    let redistribution = match file.redistribution.as_str() {
        "proportional" => pb::Redistribution::Proportional,
        "equal" => pb::Redistribution::Equal,
        other => {
            return Err(format!(
                "redistribution {other:?} is not proportional or equal"
            ));
        }
    };
    Ok(pb::SchemeVersion {
        display_name: file.display_name,
        effective_from: file.effective_from,
        redistribution: redistribution as i32,
        indicators: file
            .indicators
            .into_iter()
            .map(indicator)
            .collect::<Result<_, _>>()?,
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_demo_scheme_parses_with_every_level() {
        let version = parse(include_str!("../schemes/demo-county.json")).unwrap();
        assert_eq!(version.indicators.len(), 11);
        for level in [
            pb::Level::Street,
            pb::Level::Community,
            pb::Level::Department,
        ] {
            let weights: f64 = version
                .indicators
                .iter()
                .filter(|i| i.level == level as i32)
                .map(|i| i.weight)
                .sum();
            assert_eq!(weights, 100.0, "{level:?}");
        }
    }

    #[test]
    fn a_file_with_two_formulas_or_an_unknown_key_is_refused() {
        let two = r#"{"display_name":"x","effective_from":"2026-01","redistribution":"equal","indicators":[
            {"id":"a","display_name":"a","level":"street","count":{"metric":"checkins"},
             "ratio":{"numerator":"a","denominator":"b"},"weight":1,"linear":{"floor":0,"target":1}}]}"#;
        assert!(parse(two).unwrap_err().contains("exactly one formula"));
        let unknown = r#"{"display_name":"x","effective_from":"2026-01","redistribution":"equal","indicators":[],"extra":1}"#;
        assert!(parse(unknown).unwrap_err().contains("unknown field"));
    }
}
