//! Domain changes into versioned protobuf events for the outbox. Member
//! events carry no personal data at all: no consumer needs a name, an ID
//! number or a phone, masked or not.

use civicgrid_messaging::NewEvent;
use civicgrid_messaging::event::meta;
use civicgrid_proto::membership::v1 as pb;

use crate::convert;
use crate::domain::organisation::organisation_name;
use crate::store::members::MemberRow;
use crate::store::organisations::OrganisationRow;

const PRODUCER: &str = "membership";

/// Routing key of [`organisation_created`].
pub const ORGANISATION_CREATED: &str = "membership.organisation.created";
/// Routing key of [`organisation_updated`].
pub const ORGANISATION_UPDATED: &str = "membership.organisation.updated";
/// Routing key of [`member_registered`].
pub const MEMBER_REGISTERED: &str = "membership.member.registered";

/// `membership.organisation.created` for a new organisation.
pub fn organisation_created(row: &OrganisationRow, actor: &str, causation: &str) -> NewEvent {
    let (event_id, meta) = meta(
        PRODUCER,
        ORGANISATION_CREATED,
        &organisation_name(&row.id),
        row.version,
        actor,
        causation,
    );
    NewEvent::encode(
        event_id,
        ORGANISATION_CREATED,
        &pb::OrganisationCreated {
            meta: Some(meta),
            organisation: Some(convert::organisation(row)),
        },
    )
}

/// `membership.organisation.updated`, naming the changed `paths`.
pub fn organisation_updated(row: &OrganisationRow, paths: Vec<String>, actor: &str) -> NewEvent {
    let (event_id, meta) = meta(
        PRODUCER,
        ORGANISATION_UPDATED,
        &organisation_name(&row.id),
        row.version,
        actor,
        "",
    );
    NewEvent::encode(
        event_id,
        ORGANISATION_UPDATED,
        &pb::OrganisationUpdated {
            meta: Some(meta),
            organisation: Some(convert::organisation(row)),
            update_mask: Some(prost_types::FieldMask { paths }),
        },
    )
}

/// `membership.member.registered`, without personal data.
pub fn member_registered(row: &MemberRow, actor: &str, causation: &str) -> NewEvent {
    let (event_id, meta) = meta(
        PRODUCER,
        MEMBER_REGISTERED,
        &format!("members/{}", row.id),
        row.version,
        actor,
        causation,
    );
    NewEvent::encode(
        event_id,
        MEMBER_REGISTERED,
        &pb::MemberRegistered {
            meta: Some(meta),
            member: Some(convert::member_without_personal_data(row)),
        },
    )
}
