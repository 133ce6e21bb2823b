//! Activities at centres, registrations with a waitlist, and check-ins
//! confirmed by the organiser. The rules here decide; the store and the
//! activity's row lock make them hold under concurrency.

use std::fmt;

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

/// Most places one activity offers.
pub const MAX_CAPACITY: i32 = 10_000;
/// Most volunteer time credited for one attendance: a whole day.
pub const MAX_VOLUNTEER_MINUTES: i32 = 24 * 60;

macro_rules! text_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $text:literal,)+ }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vdoc])* $variant,)+
        }

        impl $name {
            /// Every value, in contract order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The stored name.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }

            /// Parses the stored name.
            pub fn parse(text: &str) -> Option<$name> {
                $name::ALL.iter().copied().find(|value| value.as_str() == text)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

text_enum! {
    /// What kind of activity (the cross-service contract's ActivityType).
    ActivityType {
        /// 志愿服务.
        VolunteerService = "volunteer_service",
        /// 学习.
        Study = "study",
        /// 议事会.
        DeliberationMeeting = "deliberation_meeting",
        /// 文化健身.
        CultureAndFitness = "culture_and_fitness",
        /// 共驻共建: tied to a co-building agreement.
        CoBuilding = "co_building",
    }
}

text_enum! {
    /// Where an activity stands.
    ActivityState {
        /// Open for registration and check-in.
        Scheduled = "scheduled",
        /// Closed after taking place.
        Held = "held",
        /// Called off.
        Cancelled = "cancelled",
    }
}

text_enum! {
    /// Where a registration stands.
    RegistrationState {
        /// Holds a place.
        Registered = "registered",
        /// Waits for a place.
        Waitlisted = "waitlisted",
        /// A place is held for it until its offer expires.
        Offered = "offered",
        /// Withdrawn.
        Cancelled = "cancelled",
        /// Its offer lapsed.
        Expired = "expired",
    }
}

impl RegistrationState {
    /// Whether it holds one of the activity's places.
    pub fn holds_place(self) -> bool {
        matches!(
            self,
            RegistrationState::Registered | RegistrationState::Offered
        )
    }

    /// Whether it is still in play (registered, waiting or offered).
    pub fn is_live(self) -> bool {
        self.holds_place() || self == RegistrationState::Waitlisted
    }
}

/// An activity to schedule, parsed from a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewActivity {
    /// Idempotency key: a retry with it returns the activity it scheduled.
    pub request_id: Option<Uuid>,
    /// The centre's code.
    pub centre_id: String,
    /// 1-200 characters.
    pub display_name: String,
    /// `organisations/{id}`.
    pub organiser: String,
    /// Its type.
    pub activity_type: ActivityType,
    /// `agreements/{id}` for co-building, else empty.
    pub agreement: String,
    /// Inclusive start.
    pub start: DateTime<Utc>,
    /// Exclusive end.
    pub end: DateTime<Utc>,
    /// Places.
    pub capacity: i32,
    /// Credited per attendance.
    pub volunteer_minutes: i32,
}

/// A stored activity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Activity {
    /// Its id.
    pub id: Uuid,
    /// The centre's code.
    pub centre_id: String,
    /// Display name.
    pub display_name: String,
    /// `organisations/{id}`.
    pub organiser: String,
    /// Its type.
    pub activity_type: ActivityType,
    /// `agreements/{id}` or empty.
    pub agreement: String,
    /// Inclusive start.
    pub start: DateTime<Utc>,
    /// Exclusive end.
    pub end: DateTime<Utc>,
    /// Places.
    pub capacity: i32,
    /// Credited per attendance.
    pub volunteer_minutes: i32,
    /// Scheduled, held or cancelled.
    pub state: ActivityState,
    /// Places held by registrations and open offers.
    pub seats_taken: i32,
    /// The last waitlist position handed out.
    pub queue_seq: i64,
    /// Who scheduled it.
    pub scheduled_by: String,
    /// Incremented on every change.
    pub version: i64,
    /// Scheduled at.
    pub create_time: DateTime<Utc>,
    /// Last changed at.
    pub update_time: DateTime<Utc>,
}

/// Where a new registration goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// A place was free.
    Registered,
    /// Full: it waits.
    Waitlisted,
}

impl Activity {
    /// `activities/{id}`.
    pub fn resource_name(&self) -> String {
        activity_name(self.id)
    }

    /// Refuses a change unless the activity is still scheduled.
    pub fn ensure_scheduled(&self) -> Result<(), String> {
        match self.state {
            ActivityState::Scheduled => Ok(()),
            state => Err(format!("{} is {state}", self.resource_name())),
        }
    }

    /// Places a new registration and advances the queue: every registration
    /// gets the next position, so the waitlist keeps arrival order.
    pub fn place(&mut self, now: DateTime<Utc>) -> (Placement, i64) {
        self.queue_seq += 1;
        self.touch(now);
        if self.seats_taken < self.capacity {
            self.seats_taken += 1;
            (Placement::Registered, self.queue_seq)
        } else {
            (Placement::Waitlisted, self.queue_seq)
        }
    }

    /// A place is given up and nobody waits for it.
    pub fn free_place(&mut self, now: DateTime<Utc>) {
        self.seats_taken = (self.seats_taken - 1).max(0);
        self.touch(now);
    }

    /// Records a change at `now`.
    pub fn touch(&mut self, now: DateTime<Utc>) {
        self.version += 1;
        self.update_time = now;
    }
}

/// `activities/{id}`.
pub fn activity_name(id: Uuid) -> String {
    format!("activities/{id}")
}

/// The id of `activities/{id}`.
pub fn parse_activity_name(name: &str) -> Option<Uuid> {
    Uuid::parse_str(name.strip_prefix("activities/")?).ok()
}

/// The ids of `activities/{a}/{collection}/{id}`.
pub fn parse_child_name(name: &str, collection: &str) -> Option<(Uuid, Uuid)> {
    let rest = name.strip_prefix("activities/")?;
    let (activity, child) = rest.split_once(&format!("/{collection}/"))?;
    Some((
        Uuid::parse_str(activity).ok()?,
        Uuid::parse_str(child).ok()?,
    ))
}

/// Whether `attendee` is `members/{id}` or `residents/{id}` with a valid id.
pub fn is_attendee(attendee: &str) -> bool {
    ["members/", "residents/"].iter().any(|prefix| {
        attendee
            .strip_prefix(prefix)
            .is_some_and(civicgrid_cell_tree::is_valid_id)
    })
}

/// The member name of a party-member attendee; `None` for other residents.
pub fn member_of(attendee: &str) -> Option<&str> {
    attendee.starts_with("members/").then_some(attendee)
}

/// A registration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    /// Its id.
    pub id: Uuid,
    /// Its activity.
    pub activity_id: Uuid,
    /// `members/{id}` or `residents/{id}`.
    pub attendee: String,
    /// Where it stands.
    pub state: RegistrationState,
    /// Position in the waitlist order.
    pub queue_seq: i64,
    /// While offered: when the offer lapses.
    pub offer_expire_time: Option<DateTime<Utc>>,
    /// Registered but absent when the activity closed.
    pub no_show: bool,
    /// Who registered it.
    pub registered_by: String,
    /// Incremented on every change.
    pub version: i64,
    /// Made at.
    pub create_time: DateTime<Utc>,
    /// Last changed at.
    pub update_time: DateTime<Utc>,
}

impl Registration {
    /// `activities/{a}/registrations/{id}`.
    pub fn resource_name(&self) -> String {
        format!("activities/{}/registrations/{}", self.activity_id, self.id)
    }

    /// Moves to `state` at `now` (an offer gets its expiry, any other state
    /// drops it).
    pub fn become_(&mut self, state: RegistrationState, now: DateTime<Utc>, offer_ttl: Duration) {
        self.offer_expire_time = (state == RegistrationState::Offered).then(|| now + offer_ttl);
        self.state = state;
        self.version += 1;
        self.update_time = now;
    }

    /// Accepting the offer at `now`: the reason it cannot be, if any.
    pub fn refuse_acceptance(&self, now: DateTime<Utc>) -> Option<String> {
        match (self.state, self.offer_expire_time) {
            (RegistrationState::Offered, Some(expiry)) if expiry > now => None,
            (RegistrationState::Offered, _) => Some(format!(
                "the offer of a place to {} expired; it passes to the next in line",
                self.resource_name()
            )),
            (state, _) => Some(format!(
                "{} has no open offer (it is {state})",
                self.resource_name()
            )),
        }
    }
}

/// A recorded attendance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkin {
    /// Its id.
    pub id: Uuid,
    /// Its activity.
    pub activity_id: Uuid,
    /// `members/{id}` or `residents/{id}`.
    pub attendee: String,
    /// Without a registration holding a place.
    pub walk_in: bool,
    /// Credited.
    pub volunteer_minutes: i32,
    /// The confirming organiser.
    pub recorded_by: String,
    /// When.
    pub checked_in_at: DateTime<Utc>,
}

impl Checkin {
    /// `activities/{a}/checkins/{id}`.
    pub fn resource_name(&self) -> String {
        format!("activities/{}/checkins/{}", self.activity_id, self.id)
    }
}

/// Whether an attendance of someone whose live registration is in
/// `registration` (`None`: none) may be recorded: `Ok(walk_in)`, or the
/// reason it is refused. Only a registration holding a place (registered)
/// counts; anyone else is a walk-in, recorded only when the organiser says so.
pub fn checkin_allowed(
    attendee: &str,
    registration: Option<RegistrationState>,
    walk_in: bool,
) -> Result<bool, String> {
    match (registration, walk_in) {
        (Some(RegistrationState::Registered), _) => Ok(false),
        (_, true) => Ok(true),
        (None, false) => Err(format!(
            "{attendee} is not registered for this activity; the organiser may record them as a walk-in"
        )),
        (Some(state), false) => Err(format!(
            "{attendee} holds no place (their registration is {state}); the organiser may record them as a walk-in"
        )),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn activity(capacity: i32) -> Activity {
        let now = Utc::now();
        Activity {
            id: Uuid::now_v7(),
            centre_id: "c".into(),
            display_name: "a".into(),
            organiser: "organisations/o".into(),
            activity_type: ActivityType::Study,
            agreement: String::new(),
            start: now,
            end: now,
            capacity,
            volunteer_minutes: 0,
            state: ActivityState::Scheduled,
            seats_taken: 0,
            queue_seq: 0,
            scheduled_by: "u".into(),
            version: 1,
            create_time: now,
            update_time: now,
        }
    }

    #[test]
    fn registrations_beyond_capacity_wait_in_arrival_order() {
        let mut activity = activity(2);
        let now = Utc::now();
        let placed: Vec<_> = (0..4).map(|_| activity.place(now)).collect();
        assert_eq!(
            placed,
            [
                (Placement::Registered, 1),
                (Placement::Registered, 2),
                (Placement::Waitlisted, 3),
                (Placement::Waitlisted, 4)
            ]
        );
        assert_eq!(activity.seats_taken, 2);
        activity.free_place(now);
        assert_eq!(activity.seats_taken, 1);
    }

    #[test]
    fn only_a_place_holder_checks_in_without_being_a_walk_in() {
        let who = "members/m1";
        assert_eq!(
            checkin_allowed(who, Some(RegistrationState::Registered), false),
            Ok(false)
        );
        assert_eq!(
            checkin_allowed(who, Some(RegistrationState::Registered), true),
            Ok(false)
        );
        assert_eq!(checkin_allowed(who, None, true), Ok(true));
        assert_eq!(
            checkin_allowed(who, Some(RegistrationState::Waitlisted), true),
            Ok(true)
        );
        let refused = checkin_allowed(who, None, false).unwrap_err();
        assert!(refused.contains("not registered"), "{refused}");
        let refused = checkin_allowed(who, Some(RegistrationState::Offered), false).unwrap_err();
        assert!(refused.contains("offered"), "{refused}");
    }

    #[test]
    fn an_offer_is_accepted_only_before_it_expires() {
        let now = Utc::now();
        let mut registration = Registration {
            id: Uuid::now_v7(),
            activity_id: Uuid::now_v7(),
            attendee: "residents/r1".into(),
            state: RegistrationState::Waitlisted,
            queue_seq: 3,
            offer_expire_time: None,
            no_show: false,
            registered_by: "u".into(),
            version: 1,
            create_time: now,
            update_time: now,
        };
        assert!(registration.refuse_acceptance(now).is_some());
        registration.become_(RegistrationState::Offered, now, Duration::minutes(30));
        assert_eq!(
            registration.offer_expire_time,
            Some(now + Duration::minutes(30))
        );
        assert_eq!(
            registration.refuse_acceptance(now + Duration::minutes(29)),
            None
        );
        assert!(
            registration
                .refuse_acceptance(now + Duration::minutes(30))
                .is_some()
        );
        registration.become_(RegistrationState::Registered, now, Duration::minutes(30));
        assert_eq!(registration.offer_expire_time, None);
    }

    #[test]
    fn attendees_are_members_or_residents() {
        assert!(is_attendee("members/m-1"));
        assert!(is_attendee("residents/r1"));
        assert!(!is_attendee("members/"));
        assert!(!is_attendee("people/x"));
        assert_eq!(member_of("members/m-1"), Some("members/m-1"));
        assert_eq!(member_of("residents/r1"), None);
    }
}
