//! Requests into domain values, naming every bad field.

use civicgrid_runtime::paging;
use civicgrid_runtime::status::FieldViolations;
use tonic::Status;
use uuid::Uuid;

use crate::domain::metric::Metric;
use crate::domain::period::Period;

/// Whose metrics a resource name names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    /// A cell id.
    Cell(String),
    /// A department id.
    Department(String),
}

impl Owner {
    /// "cells/{id}" or "departments/{id}".
    pub fn subject(&self) -> String {
        match self {
            Owner::Cell(id) => format!("cells/{id}"),
            Owner::Department(id) => format!("departments/{id}"),
        }
    }
}

/// A metrics resource: "cells/{id}/metrics/{period}" or
/// "departments/{id}/metrics/{period}".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricsName {
    /// Whose.
    pub owner: Owner,
    /// Which period.
    pub period: Period,
}

impl MetricsName {
    /// The resource name.
    pub fn resource_name(&self) -> String {
        format!("{}/metrics/{}", self.owner.subject(), self.period)
    }
}

const NAME_FORM: &str = "must be `cells/{cell_id}/metrics/{period}` or `departments/{department_id}/metrics/{period}`, the period `2026`, `2026-q4` or `2026-11`";

/// Parses a metrics resource name, adding a violation of `field` if bad.
pub fn metrics_name(
    name: &str,
    field: &str,
    violations: &mut FieldViolations,
) -> Option<MetricsName> {
    let parsed = (|| {
        let (owner, period) = name.split_once("/metrics/")?;
        let period = Period::parse(period)?;
        let owner = if let Some(id) = owner.strip_prefix("cells/") {
            civicgrid_cell_tree::is_valid_id(id).then(|| Owner::Cell(id.to_owned()))?
        } else if let Some(id) = owner.strip_prefix("departments/") {
            civicgrid_cell_tree::is_valid_id(id).then(|| Owner::Department(id.to_owned()))?
        } else {
            return None;
        };
        Some(MetricsName { owner, period })
    })();
    if parsed.is_none() {
        violations.add(field, NAME_FORM);
    }
    parsed
}

/// A period field.
pub fn period(text: &str, field: &str, violations: &mut FieldViolations) -> Option<Period> {
    let parsed = Period::parse(text);
    if parsed.is_none() {
        violations.add(
            field,
            "must be a year `2026`, a quarter `2026-q4` or a month `2026-11`",
        );
    }
    parsed
}

/// What GetCellMetrics asks.
pub fn get_cell_metrics(name: &str) -> Result<(String, Period), Status> {
    let mut violations = FieldViolations::new();
    let parsed = metrics_name(name, "name", &mut violations);
    let cell = match parsed {
        Some(MetricsName {
            owner: Owner::Cell(id),
            period,
        }) => Some((id, period)),
        Some(_) => {
            violations.add(
                "name",
                "must name a cell's metrics `cells/{cell_id}/metrics/{period}`",
            );
            None
        }
        None => None,
    };
    violations.check(())?;
    cell.ok_or_else(|| FieldViolations::new().into_status())
}

/// What GetDepartmentMetrics asks.
pub fn get_department_metrics(name: &str) -> Result<(String, Period), Status> {
    let mut violations = FieldViolations::new();
    let parsed = metrics_name(name, "name", &mut violations);
    let department = match parsed {
        Some(MetricsName {
            owner: Owner::Department(id),
            period,
        }) => Some((id, period)),
        Some(_) => {
            violations.add(
                "name",
                "must name a department's metrics `departments/{department_id}/metrics/{period}`",
            );
            None
        }
        None => None,
    };
    violations.check(())?;
    department.ok_or_else(|| FieldViolations::new().into_status())
}

/// What ExplainMetric asks.
#[derive(Debug, Clone)]
pub struct Explain {
    /// Whose metrics, which period.
    pub name: MetricsName,
    /// Which count.
    pub metric: Metric,
    /// Over the cell's subtree.
    pub rolled_up: bool,
    /// Page size.
    pub size: usize,
    /// Continue after this event.
    pub after: Option<Uuid>,
    /// The page token's fingerprint.
    pub fingerprint: String,
}

/// Parses ExplainMetric's request.
pub fn explain_metric(
    request: &civicgrid_proto::assessment::v1::ExplainMetricRequest,
) -> Result<Explain, Status> {
    let mut violations = FieldViolations::new();
    let name = metrics_name(&request.name, "name", &mut violations);
    let metric = name.as_ref().and_then(|name| {
        let department = matches!(name.owner, Owner::Department(_));
        let metric = Metric::parse(&request.metric, department);
        if metric.is_none() {
            violations.add(
                "metric",
                if department {
                    "must be a count of DepartmentMetrics, e.g. `check_ins_on_time`"
                } else {
                    "must be a count of CellMetrics, e.g. `tasks_resolved_on_time`"
                },
            );
        }
        metric
    });
    if request.rolled_up && matches!(name.as_ref().map(|n| &n.owner), Some(Owner::Department(_))) {
        violations.add("rolled_up", "applies to cells only");
    }
    let size = paging::page_size(request.page_size, &mut violations);
    let fingerprint = format!(
        "name={}&metric={}&rolled_up={}",
        request.name, request.metric, request.rolled_up
    );
    let after = paging::decode(&request.page_token, &fingerprint, &mut violations);
    let after = match after.map(|a| Uuid::parse_str(&a)) {
        None => None,
        Some(Ok(id)) => Some(id),
        Some(Err(_)) => {
            violations.add("page_token", "is not a token this service issued");
            None
        }
    };
    violations.check(())?;
    match (name, metric) {
        (Some(name), Some(metric)) => Ok(Explain {
            name,
            metric,
            rolled_up: request.rolled_up,
            size,
            after,
            fingerprint,
        }),
        _ => Err(FieldViolations::new().into_status()),
    }
}

#[cfg(test)]
mod tests {
    use civicgrid_runtime::status::field_violations;

    use super::*;

    #[test]
    fn a_metrics_name_needs_a_known_owner_a_valid_id_and_a_period() {
        let mut violations = FieldViolations::new();
        assert_eq!(
            metrics_name("cells/c1/metrics/2026-q4", "name", &mut violations),
            Some(MetricsName {
                owner: Owner::Cell("c1".to_owned()),
                period: Period::Quarter(2026, 4)
            })
        );
        for bad in [
            "",
            "cells/c1",
            "cells/C1/metrics/2026",
            "cells/c1/metrics/2026-13",
            "tasks/t/metrics/2026",
            "departments//metrics/2026",
        ] {
            let mut violations = FieldViolations::new();
            assert_eq!(metrics_name(bad, "name", &mut violations), None, "{bad}");
            assert_eq!(violations.violations().len(), 1);
        }
        assert!(violations.is_empty());
    }

    #[test]
    fn explain_names_every_bad_field_at_once() {
        let request = civicgrid_proto::assessment::v1::ExplainMetricRequest {
            name: "departments/housing/metrics/2026".to_owned(),
            metric: "tasks_reported".to_owned(),
            rolled_up: true,
            page_size: -1,
            page_token: "junk".to_owned(),
        };
        let status = explain_metric(&request).unwrap_err();
        let fields: Vec<String> = field_violations(&status)
            .into_iter()
            .map(|(f, _)| f)
            .collect();
        assert_eq!(fields, ["metric", "rolled_up", "page_size", "page_token"]);
    }

    #[test]
    fn a_cell_rpc_refuses_a_department_name_and_the_other_way_round() {
        assert!(get_cell_metrics("departments/housing/metrics/2026").is_err());
        assert!(get_department_metrics("cells/c1/metrics/2026").is_err());
        assert_eq!(
            get_cell_metrics("cells/c1/metrics/2026-11").unwrap(),
            ("c1".to_owned(), Period::Month(2026, 11))
        );
    }
}
