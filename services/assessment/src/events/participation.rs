//! Membership's and centres' contract events (the "Cross-service contract"
//! parts of proto/civicgrid/{membership,centres}/v1/events.proto) into
//! the event store and the metrics.

use std::sync::Arc;

use civicgrid_messaging::{Handler, HandlerError, InboundEvent, Subscription, Topology};
use civicgrid_proto::common::v1::EventMeta;
use futures::future::BoxFuture;
use prost::Message;
use sqlx::PgConnection;

use crate::commands::apply_participation_event::apply_participation_event;
use crate::domain::participation::{CENTRES_KEYS, MEMBERSHIP_KEYS, ParticipationBody};
use crate::store::ratings::OtherEvent;

/// The payload under `key`, decoded.
pub fn decode(key: &str, payload: &[u8]) -> Result<ParticipationBody, String> {
    use ParticipationBody as B;
    use civicgrid_proto::centres::v1 as c;
    use civicgrid_proto::membership::v1 as m;
    let bad = |e: prost::DecodeError| e.to_string();
    Ok(match key {
        "membership.report.unit_registered" => {
            B::UnitReport(m::UnitReportRegistered::decode(payload).map_err(bad)?)
        }
        "membership.report.member_registered" => {
            B::MemberReport(m::MemberReportRegistered::decode(payload).map_err(bad)?)
        }
        "membership.report.ended" => B::ReportEnded(m::ReportEnded::decode(payload).map_err(bad)?),
        "membership.agreement.signed" => {
            B::AgreementSigned(m::AgreementSigned::decode(payload).map_err(bad)?)
        }
        "membership.agreement.commitment_fulfilled" => {
            B::CommitmentFulfilled(m::CommitmentFulfilled::decode(payload).map_err(bad)?)
        }
        "membership.conference_issue.raised" => {
            B::IssueRaised(m::ConferenceIssueRaised::decode(payload).map_err(bad)?)
        }
        "membership.conference_issue.resolved" => {
            B::IssueResolved(m::ConferenceIssueResolved::decode(payload).map_err(bad)?)
        }
        "centres.checkin.recorded" => B::Checkin(c::CheckinRecorded::decode(payload).map_err(bad)?),
        "centres.activity.held" => B::ActivityHeld(c::ActivityHeld::decode(payload).map_err(bad)?),
        "centres.project.started" => {
            B::ProjectStarted(c::ProjectStarted::decode(payload).map_err(bad)?)
        }
        "centres.project.completed" => {
            B::ProjectCompleted(c::ProjectCompleted::decode(payload).map_err(bad)?)
        }
        "centres.coverage.changed" => {
            B::CoverageChanged(c::CoverageChanged::decode(payload).map_err(bad)?)
        }
        "centres.compliance.changed" => {
            B::ComplianceChanged(c::ComplianceChanged::decode(payload).map_err(bad)?)
        }
        "membership.organisation.created" => {
            B::OrganisationCreated(m::OrganisationCreated::decode(payload).map_err(bad)?)
        }
        "membership.organisation.updated" => {
            B::OrganisationUpdated(m::OrganisationUpdated::decode(payload).map_err(bad)?)
        }
        "membership.community.one_shoulder.changed" => {
            B::OneShoulderChanged(m::OneShoulderChanged::decode(payload).map_err(bad)?)
        }
        other => return Err(format!("unexpected routing key {other}")),
    })
}

fn meta_of(body: &ParticipationBody) -> Option<&EventMeta> {
    use ParticipationBody as B;
    match body {
        B::UnitReport(e) => e.meta.as_ref(),
        B::MemberReport(e) => e.meta.as_ref(),
        B::ReportEnded(e) => e.meta.as_ref(),
        B::AgreementSigned(e) => e.meta.as_ref(),
        B::CommitmentFulfilled(e) => e.meta.as_ref(),
        B::IssueRaised(e) => e.meta.as_ref(),
        B::IssueResolved(e) => e.meta.as_ref(),
        B::Checkin(e) => e.meta.as_ref(),
        B::ActivityHeld(e) => e.meta.as_ref(),
        B::ProjectStarted(e) => e.meta.as_ref(),
        B::ProjectCompleted(e) => e.meta.as_ref(),
        B::CoverageChanged(e) => e.meta.as_ref(),
        B::ComplianceChanged(e) => e.meta.as_ref(),
        B::OrganisationCreated(e) => e.meta.as_ref(),
        B::OrganisationUpdated(e) => e.meta.as_ref(),
        B::OneShoulderChanged(e) => e.meta.as_ref(),
    }
}

/// Stores each contract event in its group and recomputes the group's facts.
pub struct ParticipationStore {
    source: &'static str,
}

impl Handler for ParticipationStore {
    fn name(&self) -> &'static str {
        match self.source {
            "membership" => "assessment.membership-event-store",
            _ => "assessment.centres-event-store",
        }
    }

    fn handle<'a>(
        &'a self,
        conn: &'a mut PgConnection,
        event: &'a InboundEvent,
    ) -> BoxFuture<'a, Result<(), HandlerError>> {
        Box::pin(async move {
            let body =
                decode(&event.routing_key, &event.payload).map_err(HandlerError::Permanent)?;
            let group = body.group();
            if group.is_empty() {
                return Err(HandlerError::Permanent(format!(
                    "{} without the resource it is about",
                    event.routing_key
                )));
            }
            let occurred_at = meta_of(&body)
                .and_then(|m| m.occurred_at.as_ref())
                .and_then(|t| {
                    chrono::DateTime::from_timestamp(t.seconds, u32::try_from(t.nanos).ok()?)
                })
                .ok_or_else(|| {
                    HandlerError::Permanent("event without meta.occurred_at".to_owned())
                })?;
            let stored = OtherEvent {
                event_id: event.event_id,
                source: self.source.to_owned(),
                routing_key: event.routing_key.clone(),
                aggregate_id: group,
                occurred_at,
                payload: event.payload.clone(),
            };
            apply_participation_event(conn, &stored)
                .await
                .map_err(|e| HandlerError::Transient(e.to_string()))?;
            Ok(())
        })
    }
}

/// What a replay of `source` empties first: the facts and levels of every
/// group holding one of its events (each such group gets one back during the
/// replay and is then recomputed whole, with the other source's events
/// still stored), its events, then the counts recounted.
pub fn reset(source: &str) -> Vec<String> {
    vec![
        format!(
            "DELETE FROM metric_levels WHERE group_key IN (SELECT 'other/' || aggregate_id FROM other_events WHERE source = '{source}')"
        ),
        format!(
            "DELETE FROM metric_facts WHERE task IN (SELECT 'other/' || aggregate_id FROM other_events WHERE source = '{source}')"
        ),
        format!("DELETE FROM other_events WHERE source = '{source}'"),
        super::RECOUNT[0].to_owned(),
        super::RECOUNT[1].to_owned(),
    ]
}

/// The membership and centres subscriptions. Each catches up from its
/// producer's log when `event_sources` names it; until the producers are
/// deployed a service configured without them consumes the live queue
/// only. Versions are not checked: one subscription binds only some of an
/// aggregate's events, and the facts do not depend on order.
pub fn subscriptions(
    topology: &Topology,
    sources: &std::collections::BTreeMap<String, String>,
) -> Vec<Subscription> {
    let mut out = Vec::new();
    for (source, keys) in [
        ("membership", &MEMBERSHIP_KEYS[..]),
        ("centres", &CENTRES_KEYS[..]),
    ] {
        let handler: Arc<dyn Handler> = Arc::new(ParticipationStore { source });
        let mut subscription =
            Subscription::new(topology, "assessment", &format!("{source}-events"));
        for key in keys {
            subscription = subscription.on(key, handler.clone());
        }
        if sources.contains_key(source) {
            let statements = reset(source);
            let statements: Vec<&str> = statements.iter().map(String::as_str).collect();
            subscription = subscription
                .catch_up(source, &statements)
                .without_version_order();
        }
        out.push(subscription);
    }
    out
}
