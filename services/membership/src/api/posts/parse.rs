//! Post requests into command inputs, once, with every field violation named.

use chrono::{DateTime, Utc};
use civicgrid_proto::membership::v1 as pb;
use civicgrid_runtime::status::FieldViolations;
use tonic::Status;
use uuid::Uuid;

use crate::api::organisations::parse::request_id;
use crate::commands::assign_post::AssignPost;
use crate::commands::end_post::EndPost;
use crate::domain::organisation::OrganisationId;
use crate::domain::post::PostKind;

/// A protobuf timestamp in `field` as a time; a violation when out of range.
pub fn time(
    at: Option<&prost_types::Timestamp>,
    field: &str,
    violations: &mut FieldViolations,
) -> Option<DateTime<Utc>> {
    let at = at?;
    let parsed = u32::try_from(at.nanos)
        .ok()
        .and_then(|nanos| DateTime::from_timestamp(at.seconds, nanos))
        // Microseconds, as PostgreSQL keeps them.
        .and_then(|t| DateTime::from_timestamp_micros(t.timestamp_micros()));
    if parsed.is_none() {
        violations.add(field, "is not a valid timestamp");
    }
    parsed
}

/// A `{collection}/{uuid}` name in `field`.
pub fn uuid_name(
    name: &str,
    collection: &str,
    field: &str,
    violations: &mut FieldViolations,
) -> Option<Uuid> {
    let parsed = name
        .strip_prefix(collection)
        .and_then(|rest| rest.strip_prefix('/'))
        .and_then(|id| Uuid::parse_str(id).ok());
    if parsed.is_none() {
        violations.add(field, format!("must be a name `{collection}/{{id}}`"));
    }
    parsed
}

/// An AssignPostRequest into a command input.
pub fn assign_post(request: &pb::AssignPostRequest) -> Result<AssignPost, Status> {
    let mut violations = FieldViolations::new();
    let request_id = request_id(&request.request_id, &mut violations);
    let Some(post) = request.post.as_ref() else {
        violations.add("post", "is required");
        return Err(violations.into_status());
    };
    let member = uuid_name(&post.member, "members", "post.member", &mut violations);
    let organisation = OrganisationId::parse_name(&post.organisation);
    if organisation.is_none() {
        violations.add(
            "post.organisation",
            "must be an organisation name `organisations/{organisation_id}`",
        );
    }
    let kind = PostKind::from_number(post.kind);
    if kind.is_none() {
        violations.add("post.kind", "must be a PostKind other than UNSPECIFIED");
    }
    let valid_from = time(post.valid_from.as_ref(), "post.valid_from", &mut violations);
    let valid_until = time(
        post.valid_until.as_ref(),
        "post.valid_until",
        &mut violations,
    );
    match (member, organisation, kind) {
        (Some(member), Some(organisation), Some(kind)) if violations.is_empty() => Ok(AssignPost {
            member,
            organisation,
            kind,
            valid_from,
            valid_until,
            request_id,
        }),
        _ => Err(violations.into_status()),
    }
}

/// An EndPostRequest into a command input.
pub fn end_post(request: &pb::EndPostRequest) -> Result<EndPost, Status> {
    let mut violations = FieldViolations::new();
    let id = uuid_name(&request.name, "posts", "name", &mut violations);
    let end_time = time(request.end_time.as_ref(), "end_time", &mut violations);
    match id {
        Some(id) if violations.is_empty() => Ok(EndPost { id, end_time }),
        _ => Err(violations.into_status()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use civicgrid_testkit::invalid_fields as fields;

    #[test]
    fn every_bad_field_of_an_assignment_is_named() {
        let request = pb::AssignPostRequest {
            post: Some(pb::Post {
                member: "members/x".into(),
                organisation: "orgs/m1".into(),
                kind: 0,
                valid_from: Some(prost_types::Timestamp {
                    seconds: 0,
                    nanos: -1,
                }),
                ..Default::default()
            }),
            request_id: "nope".into(),
        };
        assert_eq!(
            fields(assign_post(&request).expect_err("invalid")),
            vec![
                "request_id",
                "post.member",
                "post.organisation",
                "post.kind",
                "post.valid_from"
            ]
        );
        let end = pb::EndPostRequest {
            name: "post/1".into(),
            end_time: None,
        };
        assert_eq!(fields(end_post(&end).expect_err("invalid")), vec!["name"]);
    }
}
