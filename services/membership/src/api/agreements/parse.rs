//! Agreement requests into command inputs, once, with every field violation named.

use civicgrid_proto::membership::v1 as pb;
use civicgrid_runtime::status::FieldViolations;
use tonic::Status;
use uuid::Uuid;

use crate::api::posts::parse::time;
use crate::commands::sign_agreement::{NewCommitment, SignAgreement};
use crate::domain::organisation::OrganisationId;

/// Characters an agreement's text has at least and at most.
const BODY_CHARS: std::ops::RangeInclusive<usize> = 20..=20_000;

/// A SignAgreementRequest into a command input, with the configured threshold.
pub fn sign_agreement(
    request: &pb::SignAgreementRequest,
    threshold: f64,
) -> Result<SignAgreement, Status> {
    let mut violations = FieldViolations::new();
    let Some(agreement) = request.agreement.as_ref() else {
        violations.add("agreement", "is required");
        return Err(violations.into_status());
    };
    let community = civicgrid_cell_tree::parse_name(&agreement.community).map(str::to_owned);
    if community.is_none() {
        violations.add(
            "agreement.community",
            "must be a cell name `cells/{cell_id}`",
        );
    }
    let mut parties: Vec<OrganisationId> = Vec::new();
    for (i, party) in agreement.parties.iter().enumerate() {
        match OrganisationId::parse_name(party) {
            Some(id) if parties.contains(&id) => violations.add(
                format!("agreement.parties[{i}]"),
                "names a party a second time",
            ),
            Some(id) => parties.push(id),
            None => violations.add(
                format!("agreement.parties[{i}]"),
                "must be an organisation name `organisations/{organisation_id}`",
            ),
        }
    }
    if agreement.parties.len() < 2 {
        violations.add("agreement.parties", "must name at least two parties");
    }
    let title = agreement.title.trim();
    if title.is_empty() || title.chars().count() > 200 {
        violations.add("agreement.title", "is required: 1-200 characters");
    }
    let body = agreement.text.trim();
    if !BODY_CHARS.contains(&body.chars().count()) {
        violations.add("agreement.text", "must be 20-20000 characters");
    }
    let term_start = time(
        agreement.term_start.as_ref(),
        "agreement.term_start",
        &mut violations,
    );
    let term_end = time(
        agreement.term_end.as_ref(),
        "agreement.term_end",
        &mut violations,
    );
    match (term_start, term_end) {
        (Some(start), Some(end)) if end <= start => {
            violations.add("agreement.term_end", "must be after term_start")
        }
        (None, _) if agreement.term_start.is_none() => {
            violations.add("agreement.term_start", "is required")
        }
        (_, None) if agreement.term_end.is_none() => {
            violations.add("agreement.term_end", "is required")
        }
        _ => {}
    }
    let mut commitments = Vec::new();
    for (i, c) in agreement.commitments.iter().enumerate() {
        let field = |part: &str| format!("agreement.commitments[{i}].{part}");
        let description = c.description.trim();
        if description.is_empty() || description.chars().count() > 500 {
            violations.add(field("description"), "is required: 1-500 characters");
        }
        let owner = OrganisationId::parse_name(&c.owner).filter(|o| parties.contains(o));
        if owner.is_none() {
            violations.add(field("owner"), "must be one of the agreement's parties");
        }
        let due = time(c.due_time.as_ref(), &field("due_time"), &mut violations);
        if c.due_time.is_none() {
            violations.add(field("due_time"), "is required");
        }
        if let (Some(owner), Some(due_time)) = (owner, due) {
            commitments.push(NewCommitment {
                description: description.to_owned(),
                owner,
                due_time,
            });
        }
    }
    match (community, term_start, term_end) {
        (Some(community), Some(term_start), Some(term_end)) if violations.is_empty() => {
            Ok(SignAgreement {
                community,
                parties,
                title: title.to_owned(),
                body: body.to_owned(),
                term_start,
                term_end,
                commitments,
                threshold,
            })
        }
        _ => Err(violations.into_status()),
    }
}

/// `agreements/{id}` in `field`.
pub fn agreement_name(name: &str, field: &str) -> Result<Uuid, Status> {
    let mut violations = FieldViolations::new();
    crate::api::posts::parse::uuid_name(name, "agreements", field, &mut violations)
        .ok_or_else(|| violations.into_status())
}

/// `agreements/{a}/commitments/{c}` in `name`.
pub fn commitment_name(name: &str) -> Result<(Uuid, Uuid), Status> {
    let parsed = name
        .strip_prefix("agreements/")
        .and_then(|rest| rest.split_once("/commitments/"))
        .and_then(|(a, c)| Some((Uuid::parse_str(a).ok()?, Uuid::parse_str(c).ok()?)));
    parsed.ok_or_else(|| {
        let mut violations = FieldViolations::new();
        violations.add(
            "name",
            "must be a commitment name `agreements/{agreement_id}/commitments/{commitment_id}`",
        );
        violations.into_status()
    })
}
