//! Directory requests into domain values, once, with every field violation named.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use civicgrid_proto::google::r#type::Date;
use civicgrid_proto::grid::v1 as pb;
use civicgrid_runtime::paging;
use civicgrid_runtime::status::FieldViolations;
use tonic::Status;

use crate::domain::calendar::{Allowance, Clock, YearCalendar};
use crate::domain::cell::DisplayName;
use crate::domain::directory::{
    CALENDAR_YEARS, Category, CategoryField, CategoryId, DeadlinePolicy, Department, DepartmentId,
    FieldKey, MAX_CATEGORY_FIELDS, Urgency, holiday_problem, make_up_day_problem,
    parse_calendar_name, parse_policy_name, valid_minutes,
};

const ID_RULE: &str = "must be 1-63 characters of a-z, 0-9 and '-', not starting with '-'";
const POLICY_NAME_RULE: &str =
    "must be `categories/{category_id}/deadlinePolicies/{low|normal|urgent|emergency}`";
/// More days than a year has: a list this long is a mistake, not a calendar.
const MAX_CALENDAR_DAYS: usize = 366;

/// A CreateDepartmentRequest into a department.
pub fn create_department(request: &pb::CreateDepartmentRequest) -> Result<Department, Status> {
    let mut violations = FieldViolations::new();
    let id = DepartmentId::parse(&request.department_id);
    if id.is_none() {
        violations.add("department_id", ID_RULE);
    }
    let Some(department) = request.department.as_ref() else {
        violations.add("department", "is required");
        return Err(violations.into_status());
    };
    // The name is output only; a client echoing it back must echo it right.
    if let Some(id) = &id
        && !department.name.is_empty()
        && department.name != id.resource_name()
    {
        violations.add(
            "department.name",
            "must be empty or `departments/{department_id}`",
        );
    }
    let display_name = DisplayName::parse(&department.display_name)
        .map_err(|reason| violations.add("department.display_name", reason))
        .ok();
    match (id, display_name) {
        (Some(id), Some(display_name)) if violations.is_empty() => {
            Ok(Department { id, display_name })
        }
        _ => Err(violations.into_status()),
    }
}

/// A CreateCategoryRequest into a category.
pub fn create_category(request: &pb::CreateCategoryRequest) -> Result<Category, Status> {
    let mut violations = FieldViolations::new();
    let id = CategoryId::parse(&request.category_id);
    if id.is_none() {
        violations.add("category_id", ID_RULE);
    }
    let Some(category) = request.category.as_ref() else {
        violations.add("category", "is required");
        return Err(violations.into_status());
    };
    if let Some(id) = &id
        && !category.name.is_empty()
        && category.name != id.resource_name()
    {
        violations.add(
            "category.name",
            "must be empty or `categories/{category_id}`",
        );
    }
    let display_name = DisplayName::parse(&category.display_name)
        .map_err(|reason| violations.add("category.display_name", reason))
        .ok();
    if category.fields.len() > MAX_CATEGORY_FIELDS {
        violations.add(
            "category.fields",
            format!("must list at most {MAX_CATEGORY_FIELDS} fields"),
        );
    }
    let mut seen = BTreeMap::new();
    let mut fields = Vec::with_capacity(category.fields.len());
    for (i, field) in category.fields.iter().enumerate() {
        let key = match FieldKey::parse(&field.key) {
            None => {
                violations.add(
                    format!("category.fields[{i}].key"),
                    "must match [a-z][a-z0-9_]{0,62}",
                );
                None
            }
            Some(key) => match seen.insert(key.clone(), i) {
                Some(first) => {
                    violations.add(
                        format!("category.fields[{i}].key"),
                        format!("repeats category.fields[{first}].key"),
                    );
                    None
                }
                None => Some(key),
            },
        };
        let field_name = DisplayName::parse(&field.display_name)
            .map_err(|reason| violations.add(format!("category.fields[{i}].display_name"), reason))
            .ok();
        if let (Some(key), Some(display_name)) = (key, field_name) {
            fields.push(CategoryField {
                key,
                display_name,
                required: field.required,
            });
        }
    }
    match (id, display_name) {
        (Some(id), Some(display_name)) if violations.is_empty() => Ok(Category {
            id,
            display_name,
            fields,
        }),
        _ => Err(violations.into_status()),
    }
}

/// A SetDeadlinePolicyRequest into a policy.
pub fn set_deadline_policy(
    request: &pb::SetDeadlinePolicyRequest,
) -> Result<DeadlinePolicy, Status> {
    let mut violations = FieldViolations::new();
    let Some(policy) = request.policy.as_ref() else {
        violations.add("policy", "is required");
        return Err(violations.into_status());
    };
    let name = parse_policy_name(&policy.name);
    if name.is_none() {
        violations.add("policy.name", POLICY_NAME_RULE);
    }
    let accept = allowance(policy.accept.as_ref(), "policy.accept", &mut violations);
    let check_in = allowance(policy.check_in.as_ref(), "policy.check_in", &mut violations);
    let resolve = allowance(policy.resolve.as_ref(), "policy.resolve", &mut violations);
    let r#return = allowance(policy.r#return.as_ref(), "policy.return", &mut violations);
    match (name, accept, check_in, resolve, r#return) {
        (
            Some((category, urgency)),
            Some(accept),
            Some(check_in),
            Some(resolve),
            Some(r#return),
        ) if violations.is_empty() => Ok(DeadlinePolicy {
            category,
            urgency,
            accept,
            check_in,
            resolve,
            r#return,
        }),
        _ => Err(violations.into_status()),
    }
}

fn allowance(
    allowance: Option<&pb::Allowance>,
    field: &str,
    violations: &mut FieldViolations,
) -> Option<Allowance> {
    let Some(allowance) = allowance else {
        violations.add(field, "is required");
        return None;
    };
    let minutes = if valid_minutes(i64::from(allowance.minutes)) {
        u32::try_from(allowance.minutes).ok()
    } else {
        None
    };
    if minutes.is_none() {
        violations.add(format!("{field}.minutes"), "must be 1 to 525600 (a year)");
    }
    let clock = match pb::DeadlineClock::try_from(allowance.clock) {
        Ok(pb::DeadlineClock::Calendar) => Some(Clock::Calendar),
        Ok(pb::DeadlineClock::Working) => Some(Clock::Working),
        Ok(pb::DeadlineClock::Unspecified) | Err(_) => {
            violations.add(format!("{field}.clock"), "must be CALENDAR or WORKING");
            None
        }
    };
    Some(Allowance {
        minutes: minutes?,
        clock: clock?,
    })
}

/// A SetWorkingCalendarRequest into a year's calendar.
pub fn set_working_calendar(
    request: &pb::SetWorkingCalendarRequest,
) -> Result<YearCalendar, Status> {
    let mut violations = FieldViolations::new();
    let Some(calendar) = request.calendar.as_ref() else {
        violations.add("calendar", "is required");
        return Err(violations.into_status());
    };
    let year = calendar_year(&calendar.name, "calendar.name", &mut violations);
    let holidays = days(
        &calendar.holidays,
        "calendar.holidays",
        year,
        holiday_problem,
        &mut violations,
    );
    let make_up_working_days = days(
        &calendar.make_up_working_days,
        "calendar.make_up_working_days",
        year,
        make_up_day_problem,
        &mut violations,
    );
    match year {
        Some(year) if violations.is_empty() => Ok(YearCalendar {
            year,
            holidays,
            make_up_working_days,
        }),
        _ => Err(violations.into_status()),
    }
}

/// The year of a GetWorkingCalendarRequest.
pub fn get_working_calendar(request: &pb::GetWorkingCalendarRequest) -> Result<i32, Status> {
    let mut violations = FieldViolations::new();
    let year = calendar_year(&request.name, "name", &mut violations);
    match year {
        Some(year) if violations.is_empty() => Ok(year),
        _ => Err(violations.into_status()),
    }
}

fn calendar_year(name: &str, field: &str, violations: &mut FieldViolations) -> Option<i32> {
    let year = parse_calendar_name(name);
    if year.is_none() {
        violations.add(
            field,
            format!(
                "must be `workingCalendars/{{year}}` with a year from {} to {}",
                CALENDAR_YEARS.start(),
                CALENDAR_YEARS.end()
            ),
        );
    }
    year
}

/// The days of one list, each checked against `problem` (when the year is known).
fn days(
    dates: &[Date],
    field: &str,
    year: Option<i32>,
    problem: fn(i32, NaiveDate) -> Option<&'static str>,
    violations: &mut FieldViolations,
) -> BTreeSet<NaiveDate> {
    if dates.len() > MAX_CALENDAR_DAYS {
        violations.add(field, format!("must list at most {MAX_CALENDAR_DAYS} days"));
        return BTreeSet::new();
    }
    let mut days = BTreeSet::new();
    for (i, date) in dates.iter().enumerate() {
        let Some(day) = naive_date(date) else {
            violations.add(format!("{field}[{i}]"), "must be a valid full date");
            continue;
        };
        if let Some(reason) = year.and_then(|year| problem(year, day)) {
            violations.add(format!("{field}[{i}]"), reason);
            continue;
        }
        days.insert(day);
    }
    days
}

fn naive_date(date: &Date) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(
        date.year,
        u32::try_from(date.month).ok()?,
        u32::try_from(date.day).ok()?,
    )
}

/// The paging of a list request: how many, and the sort key to continue after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// At most this many.
    pub size: usize,
    /// Continue after this key; `None` on the first page.
    pub after: Option<String>,
}

/// Page size and token of a list request whose other fields fingerprint as `query`.
pub fn page(
    page_size: i32,
    page_token: &str,
    query: &str,
    violations: &mut FieldViolations,
) -> Page {
    let size = paging::page_size(page_size, violations);
    let after = paging::decode(page_token, query, violations);
    Page { size, after }
}

/// A parsed ListDeadlinePoliciesRequest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyListing {
    /// Only this category's policies; `None`: all.
    pub parent: Option<CategoryId>,
    /// At most this many.
    pub size: usize,
    /// Continue after this policy; `None` on the first page.
    pub after: Option<(CategoryId, Urgency)>,
}

/// The category a ListDeadlinePoliciesRequest lists and its page.
pub fn list_deadline_policies(
    request: &pb::ListDeadlinePoliciesRequest,
) -> Result<PolicyListing, Status> {
    let mut violations = FieldViolations::new();
    let parent = match request.parent.as_str() {
        "" => None,
        name => {
            let id = CategoryId::parse_name(name);
            if id.is_none() {
                violations.add("parent", "must be empty or `categories/{category_id}`");
            }
            id
        }
    };
    let page = page(
        request.page_size,
        &request.page_token,
        &format!("deadlinePolicies?parent={}", request.parent),
        &mut violations,
    );
    let after = match page.after {
        None => None,
        Some(name) => {
            let after = parse_policy_name(&name);
            if after.is_none() {
                violations.add("page_token", "is not a token this service issued");
            }
            after
        }
    };
    violations.check(PolicyListing {
        parent,
        size: page.size,
        after,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use civicgrid_testkit::invalid_fields as fields;

    fn date(year: i32, month: i32, day: i32) -> Date {
        Date { year, month, day }
    }

    #[test]
    fn every_bad_allowance_field_of_a_policy_is_named() {
        let request = pb::SetDeadlinePolicyRequest {
            policy: Some(pb::DeadlinePolicy {
                name: "categories/noise/deadlinePolicies/soon".into(),
                accept: Some(pb::Allowance {
                    minutes: 0,
                    clock: pb::DeadlineClock::Working as i32,
                }),
                check_in: Some(pb::Allowance {
                    minutes: 30,
                    clock: 0,
                }),
                resolve: None,
                r#return: Some(pb::Allowance {
                    minutes: 525_601,
                    clock: 9,
                }),
                version: 0,
            }),
        };
        assert_eq!(
            fields(set_deadline_policy(&request).unwrap_err()),
            vec![
                "policy.name",
                "policy.accept.minutes",
                "policy.check_in.clock",
                "policy.resolve",
                "policy.return.minutes",
                "policy.return.clock",
            ]
        );
    }

    #[test]
    fn a_valid_policy_names_its_category_and_urgency() {
        let allowance = |minutes| {
            Some(pb::Allowance {
                minutes,
                clock: pb::DeadlineClock::Working as i32,
            })
        };
        let request = pb::SetDeadlinePolicyRequest {
            policy: Some(pb::DeadlinePolicy {
                name: "categories/noise/deadlinePolicies/urgent".into(),
                accept: allowance(30),
                check_in: allowance(60),
                resolve: allowance(420),
                r#return: allowance(525_600),
                version: 0,
            }),
        };
        let policy = set_deadline_policy(&request).unwrap();
        assert_eq!(policy.category.as_str(), "noise");
        assert_eq!(policy.urgency, Urgency::Urgent);
        assert_eq!(policy.r#return.minutes, 525_600);
    }

    #[test]
    fn category_fields_need_valid_unique_keys_and_names() {
        let field = |key: &str, name: &str| pb::CategoryField {
            key: key.into(),
            display_name: name.into(),
            required: true,
        };
        let request = pb::CreateCategoryRequest {
            category_id: "Illegal Parking".into(),
            category: Some(pb::Category {
                display_name: "".into(),
                fields: vec![
                    field("licence_plate", "车牌号"),
                    field("Colour", "颜色"),
                    field("licence_plate", " "),
                ],
                ..Default::default()
            }),
        };
        assert_eq!(
            fields(create_category(&request).unwrap_err()),
            vec![
                "category_id",
                "category.display_name",
                "category.fields[1].key",
                "category.fields[2].key",
                "category.fields[2].display_name",
            ]
        );
    }

    #[test]
    fn a_department_needs_an_id_and_a_name() {
        let request = pb::CreateDepartmentRequest {
            department_id: "-housing".into(),
            department: None,
        };
        assert_eq!(
            fields(create_department(&request).unwrap_err()),
            vec!["department_id", "department"]
        );
        let request = pb::CreateDepartmentRequest {
            department_id: "housing".into(),
            department: Some(pb::Department {
                name: "departments/transport".into(),
                display_name: "住建局".into(),
                ..Default::default()
            }),
        };
        assert_eq!(
            fields(create_department(&request).unwrap_err()),
            vec!["department.name"]
        );
    }

    #[test]
    fn calendar_days_must_be_real_dates_of_the_right_kind_in_the_year() {
        let request = pb::SetWorkingCalendarRequest {
            calendar: Some(pb::WorkingCalendar {
                name: "workingCalendars/2026".into(),
                holidays: vec![
                    date(2026, 2, 16),
                    date(2026, 2, 30),
                    date(2026, 2, 15),
                    date(2027, 1, 1),
                ],
                make_up_working_days: vec![date(2026, 2, 14), date(2026, 2, 13)],
                version: 0,
            }),
        };
        assert_eq!(
            fields(set_working_calendar(&request).unwrap_err()),
            vec![
                "calendar.holidays[1]",
                "calendar.holidays[2]",
                "calendar.holidays[3]",
                "calendar.make_up_working_days[1]",
            ]
        );
        let request = pb::SetWorkingCalendarRequest {
            calendar: Some(pb::WorkingCalendar {
                name: "workingCalendars/2026".into(),
                holidays: vec![date(2026, 2, 16), date(2026, 2, 16)],
                make_up_working_days: vec![date(2026, 2, 14)],
                version: 0,
            }),
        };
        let calendar = set_working_calendar(&request).unwrap();
        assert_eq!(calendar.year, 2026);
        assert_eq!(calendar.holidays.len(), 1);
    }

    #[test]
    fn a_policy_list_names_a_category_or_nothing() {
        let request = pb::ListDeadlinePoliciesRequest {
            parent: "categories/Noise".into(),
            page_size: -1,
            page_token: "garbage".into(),
        };
        assert_eq!(
            fields(list_deadline_policies(&request).unwrap_err()),
            vec!["parent", "page_size", "page_token"]
        );
    }
}
