//! Directory entries into protobuf messages, for the DirectoryService and
//! the directory's events alike.

use chrono::{Datelike, NaiveDate};
use civicgrid_cell_tree::row::timestamp;
use civicgrid_proto::google::r#type::Date;
use civicgrid_proto::grid::v1 as pb;

use crate::domain::calendar::{Allowance, Clock, YearCalendar};
use crate::domain::directory::{
    Category, DeadlinePolicy, Department, Urgency, Versioned, calendar_name,
};

/// The contract's urgency for a domain one.
pub fn urgency_to_proto(urgency: Urgency) -> pb::Urgency {
    match urgency {
        Urgency::Low => pb::Urgency::Low,
        Urgency::Normal => pb::Urgency::Normal,
        Urgency::Urgent => pb::Urgency::Urgent,
        Urgency::Emergency => pb::Urgency::Emergency,
    }
}

/// The domain's urgency for a contract value; `None` for UNSPECIFIED and unknown values.
pub fn urgency_from_proto(value: i32) -> Option<Urgency> {
    match pb::Urgency::try_from(value).ok()? {
        pb::Urgency::Unspecified => None,
        pb::Urgency::Low => Some(Urgency::Low),
        pb::Urgency::Normal => Some(Urgency::Normal),
        pb::Urgency::Urgent => Some(Urgency::Urgent),
        pb::Urgency::Emergency => Some(Urgency::Emergency),
    }
}

pub fn department_proto(stored: &Versioned<Department>) -> pb::Department {
    pb::Department {
        name: stored.value.id.resource_name(),
        display_name: stored.value.display_name.as_str().to_owned(),
        version: stored.version,
        create_time: Some(timestamp(stored.create_time)),
    }
}

pub fn category_proto(stored: &Versioned<Category>) -> pb::Category {
    pb::Category {
        name: stored.value.id.resource_name(),
        display_name: stored.value.display_name.as_str().to_owned(),
        fields: stored
            .value
            .fields
            .iter()
            .map(|field| pb::CategoryField {
                key: field.key.as_str().to_owned(),
                display_name: field.display_name.as_str().to_owned(),
                required: field.required,
            })
            .collect(),
        version: stored.version,
    }
}

pub fn policy_proto(stored: &Versioned<DeadlinePolicy>) -> pb::DeadlinePolicy {
    let policy = &stored.value;
    pb::DeadlinePolicy {
        name: policy.resource_name(),
        accept: Some(allowance_proto(policy.accept)),
        check_in: Some(allowance_proto(policy.check_in)),
        resolve: Some(allowance_proto(policy.resolve)),
        r#return: Some(allowance_proto(policy.r#return)),
        version: stored.version,
    }
}

fn allowance_proto(allowance: Allowance) -> pb::Allowance {
    pb::Allowance {
        // Stored allowances are at most 525600 minutes.
        minutes: i32::try_from(allowance.minutes).unwrap_or(i32::MAX),
        clock: match allowance.clock {
            Clock::Calendar => pb::DeadlineClock::Calendar,
            Clock::Working => pb::DeadlineClock::Working,
        } as i32,
    }
}

pub fn calendar_proto(stored: &Versioned<YearCalendar>) -> pb::WorkingCalendar {
    let calendar = &stored.value;
    pb::WorkingCalendar {
        name: calendar_name(calendar.year),
        holidays: calendar.holidays.iter().map(|d| date_proto(*d)).collect(),
        make_up_working_days: calendar
            .make_up_working_days
            .iter()
            .map(|d| date_proto(*d))
            .collect(),
        version: stored.version,
    }
}

fn date_proto(date: NaiveDate) -> Date {
    Date {
        year: date.year(),
        // Month and day are at most 12 and 31.
        month: i32::try_from(date.month()).unwrap_or_default(),
        day: i32::try_from(date.day()).unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urgencies_map_both_ways_and_unspecified_is_none() {
        for urgency in Urgency::ALL {
            assert_eq!(
                urgency_from_proto(urgency_to_proto(urgency) as i32),
                Some(urgency)
            );
            assert_eq!(
                urgency_to_proto(urgency) as i32,
                i32::from(urgency.number())
            );
        }
        assert_eq!(urgency_from_proto(0), None);
        assert_eq!(urgency_from_proto(7), None);
    }
}
