//! The counts the service keeps, by the names the API uses for them.

/// A count kept per cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CellMetric {
    TasksReported,
    TasksAccepted,
    TasksAcceptedOnTime,
    TasksResolved,
    TasksResolvedOnTime,
    TasksRated,
    TasksSatisfied,
    Reopenings,
    Returns,
    Whistles,
    SupervisionWarnings,
    SupervisionOrders,
    SupervisionRed,
    UnitsReported,
    MembersReported,
    ReportedMembersActive,
    ReportsEnded,
    AgreementsSigned,
    AgreementsWithActivity,
    CommitmentsFulfilled,
    CommitmentsFulfilledOnTime,
    ConferenceIssuesRaised,
    ConferenceIssuesResolved,
    ConferenceIssuesResolvedOnTime,
    Checkins,
    MemberCheckins,
    ActivitiesHeld,
    ProjectsStarted,
    ProjectsCompleted,
    ProjectsRatedSatisfied,
    TasksRejected,
    TasksMerged,
    VolunteerMinutes,
    CompoundsTotal,
    CompoundsCovered,
    CentresTotal,
    CentresCompliant,
    PartyOrganisationsTotal,
    PartyOrganisationsWithBranchCommittee,
    CommunitiesTotal,
    CommunitiesOneShoulder,
}

/// A count kept per department.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DepartmentMetric {
    PartsAssigned,
    CheckIns,
    CheckInsOnTime,
    PartsResolved,
    PartsResolvedOnTime,
    Returns,
    ExtensionsRequested,
    ExtensionsGranted,
    SupervisionOrders,
    Ratings,
    RatingsSatisfied,
    RatingsBasicallySatisfied,
    RatingsDissatisfied,
}

/// Any count, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Metric {
    /// Counted for a cell.
    Cell(CellMetric),
    /// Counted for a department.
    Department(DepartmentMetric),
}

impl CellMetric {
    /// Every cell metric.
    pub const ALL: [CellMetric; 41] = [
        CellMetric::TasksReported,
        CellMetric::TasksAccepted,
        CellMetric::TasksAcceptedOnTime,
        CellMetric::TasksResolved,
        CellMetric::TasksResolvedOnTime,
        CellMetric::TasksRated,
        CellMetric::TasksSatisfied,
        CellMetric::Reopenings,
        CellMetric::Returns,
        CellMetric::Whistles,
        CellMetric::SupervisionWarnings,
        CellMetric::SupervisionOrders,
        CellMetric::SupervisionRed,
        CellMetric::UnitsReported,
        CellMetric::MembersReported,
        CellMetric::ReportedMembersActive,
        CellMetric::ReportsEnded,
        CellMetric::AgreementsSigned,
        CellMetric::AgreementsWithActivity,
        CellMetric::CommitmentsFulfilled,
        CellMetric::CommitmentsFulfilledOnTime,
        CellMetric::ConferenceIssuesRaised,
        CellMetric::ConferenceIssuesResolved,
        CellMetric::ConferenceIssuesResolvedOnTime,
        CellMetric::Checkins,
        CellMetric::MemberCheckins,
        CellMetric::ActivitiesHeld,
        CellMetric::ProjectsStarted,
        CellMetric::ProjectsCompleted,
        CellMetric::ProjectsRatedSatisfied,
        CellMetric::TasksRejected,
        CellMetric::TasksMerged,
        CellMetric::VolunteerMinutes,
        CellMetric::CompoundsTotal,
        CellMetric::CompoundsCovered,
        CellMetric::CentresTotal,
        CellMetric::CentresCompliant,
        CellMetric::PartyOrganisationsTotal,
        CellMetric::PartyOrganisationsWithBranchCommittee,
        CellMetric::CommunitiesTotal,
        CellMetric::CommunitiesOneShoulder,
    ];

    /// The field name in `CellMetrics`.
    pub fn as_str(self) -> &'static str {
        match self {
            CellMetric::TasksReported => "tasks_reported",
            CellMetric::TasksAccepted => "tasks_accepted",
            CellMetric::TasksAcceptedOnTime => "tasks_accepted_on_time",
            CellMetric::TasksResolved => "tasks_resolved",
            CellMetric::TasksResolvedOnTime => "tasks_resolved_on_time",
            CellMetric::TasksRated => "tasks_rated",
            CellMetric::TasksSatisfied => "tasks_satisfied",
            CellMetric::Reopenings => "reopenings",
            CellMetric::Returns => "returns",
            CellMetric::Whistles => "whistles",
            CellMetric::SupervisionWarnings => "supervision_warnings",
            CellMetric::SupervisionOrders => "supervision_orders",
            CellMetric::SupervisionRed => "supervision_red",
            CellMetric::UnitsReported => "units_reported",
            CellMetric::MembersReported => "members_reported",
            CellMetric::ReportedMembersActive => "reported_members_active",
            CellMetric::ReportsEnded => "reports_ended",
            CellMetric::AgreementsSigned => "agreements_signed",
            CellMetric::AgreementsWithActivity => "agreements_with_activity",
            CellMetric::CommitmentsFulfilled => "commitments_fulfilled",
            CellMetric::CommitmentsFulfilledOnTime => "commitments_fulfilled_on_time",
            CellMetric::ConferenceIssuesRaised => "conference_issues_raised",
            CellMetric::ConferenceIssuesResolved => "conference_issues_resolved",
            CellMetric::ConferenceIssuesResolvedOnTime => "conference_issues_resolved_on_time",
            CellMetric::Checkins => "checkins",
            CellMetric::MemberCheckins => "member_checkins",
            CellMetric::ActivitiesHeld => "activities_held",
            CellMetric::ProjectsStarted => "projects_started",
            CellMetric::ProjectsCompleted => "projects_completed",
            CellMetric::ProjectsRatedSatisfied => "projects_rated_satisfied",
            CellMetric::TasksRejected => "tasks_rejected",
            CellMetric::TasksMerged => "tasks_merged",
            CellMetric::VolunteerMinutes => "volunteer_minutes",
            CellMetric::CompoundsTotal => "compounds_total",
            CellMetric::CompoundsCovered => "compounds_covered",
            CellMetric::CentresTotal => "centres_total",
            CellMetric::CentresCompliant => "centres_compliant",
            CellMetric::PartyOrganisationsTotal => "party_organisations_total",
            CellMetric::PartyOrganisationsWithBranchCommittee => {
                "party_organisations_with_branch_committee"
            }
            CellMetric::CommunitiesTotal => "communities_total",
            CellMetric::CommunitiesOneShoulder => "communities_one_shoulder",
        }
    }

    /// Whether it is a level (`domain::levels`): the latest published state
    /// as of a period's end, not a sum of the period's facts.
    pub fn is_level(self) -> bool {
        matches!(
            self,
            CellMetric::CompoundsTotal
                | CellMetric::CompoundsCovered
                | CellMetric::CentresTotal
                | CellMetric::CentresCompliant
                | CellMetric::PartyOrganisationsTotal
                | CellMetric::PartyOrganisationsWithBranchCommittee
                | CellMetric::CommunitiesTotal
                | CellMetric::CommunitiesOneShoulder
        )
    }

    /// The metric named `name`.
    pub fn parse(name: &str) -> Option<CellMetric> {
        CellMetric::ALL.into_iter().find(|m| m.as_str() == name)
    }
}

impl DepartmentMetric {
    /// Every department metric.
    pub const ALL: [DepartmentMetric; 13] = [
        DepartmentMetric::PartsAssigned,
        DepartmentMetric::CheckIns,
        DepartmentMetric::CheckInsOnTime,
        DepartmentMetric::PartsResolved,
        DepartmentMetric::PartsResolvedOnTime,
        DepartmentMetric::Returns,
        DepartmentMetric::ExtensionsRequested,
        DepartmentMetric::ExtensionsGranted,
        DepartmentMetric::SupervisionOrders,
        DepartmentMetric::Ratings,
        DepartmentMetric::RatingsSatisfied,
        DepartmentMetric::RatingsBasicallySatisfied,
        DepartmentMetric::RatingsDissatisfied,
    ];

    /// The field name in `DepartmentMetrics`.
    pub fn as_str(self) -> &'static str {
        match self {
            DepartmentMetric::PartsAssigned => "parts_assigned",
            DepartmentMetric::CheckIns => "check_ins",
            DepartmentMetric::CheckInsOnTime => "check_ins_on_time",
            DepartmentMetric::PartsResolved => "parts_resolved",
            DepartmentMetric::PartsResolvedOnTime => "parts_resolved_on_time",
            DepartmentMetric::Returns => "returns",
            DepartmentMetric::ExtensionsRequested => "extensions_requested",
            DepartmentMetric::ExtensionsGranted => "extensions_granted",
            DepartmentMetric::SupervisionOrders => "supervision_orders",
            DepartmentMetric::Ratings => "ratings",
            DepartmentMetric::RatingsSatisfied => "ratings_satisfied",
            DepartmentMetric::RatingsBasicallySatisfied => "ratings_basically_satisfied",
            DepartmentMetric::RatingsDissatisfied => "ratings_dissatisfied",
        }
    }

    /// The metric named `name`.
    pub fn parse(name: &str) -> Option<DepartmentMetric> {
        DepartmentMetric::ALL
            .into_iter()
            .find(|m| m.as_str() == name)
    }
}

impl Metric {
    /// The name stored (and shown): the field name, unique within a kind of
    /// subject; the subject ("cells/…" or "departments/…") tells the kinds apart.
    pub fn as_str(self) -> &'static str {
        match self {
            Metric::Cell(m) => m.as_str(),
            Metric::Department(m) => m.as_str(),
        }
    }

    /// The metric stored as `name` for a subject of the given kind.
    pub fn parse(name: &str, department: bool) -> Option<Metric> {
        if department {
            DepartmentMetric::parse(name).map(Metric::Department)
        } else {
            CellMetric::parse(name).map(Metric::Cell)
        }
    }
}

/// `numerator / denominator`, unset without a denominator.
pub fn rate(numerator: i64, denominator: i64) -> Option<f64> {
    (denominator > 0).then(|| numerator as f64 / denominator as f64)
}
