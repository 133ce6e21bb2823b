//! The one place stored organisations and members become proto messages,
//! for responses and events alike. Members leave only masked.

use civicgrid_proto::membership::v1 as pb;
use civicgrid_runtime::crypto::CryptoError;
use prost_types::Timestamp;

use crate::domain::id_number::mask_id_number;
use crate::domain::member::mask_name;
use crate::domain::organisation::organisation_name;
use crate::sealing::PersonalDataKeys;
use crate::store::members::MemberRow;
use crate::store::organisations::OrganisationRow;

fn timestamp(at: chrono::DateTime<chrono::Utc>) -> Timestamp {
    Timestamp {
        seconds: at.timestamp(),
        nanos: i32::try_from(at.timestamp_subsec_nanos()).unwrap_or_default(),
    }
}

fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

/// `cells/{id}` for each segment of `path`, county first.
pub fn area(path: &str) -> Vec<String> {
    path.split('/')
        .filter(|segment| !segment.is_empty())
        .map(civicgrid_cell_tree::resource_name)
        .collect()
}

/// The `Organisation` of `row`.
pub fn organisation(row: &OrganisationRow) -> pb::Organisation {
    pb::Organisation {
        name: organisation_name(&row.id),
        display_name: row.display_name.clone(),
        kind: row.kind.number(),
        parent: row
            .parent_id
            .as_deref()
            .map(organisation_name)
            .unwrap_or_default(),
        cell: row
            .cell_id
            .as_deref()
            .map(civicgrid_cell_tree::resource_name)
            .unwrap_or_default(),
        compound: row
            .compound_id
            .as_deref()
            .map(civicgrid_cell_tree::compound_name)
            .unwrap_or_default(),
        standardisation: row
            .kind
            .is_party_organisation()
            .then_some(pb::Standardisation {
                branch_committee_formed: row.standardisation.branch_committee_formed,
                office_premises: row.standardisation.office_premises,
                activity_premises: row.standardisation.activity_premises,
            }),
        area: area(&row.area_path),
        version: row.version,
        etag: etag(row.version),
        create_time: Some(timestamp(row.create_time)),
        update_time: Some(timestamp(row.update_time)),
    }
}

/// The `Member` of `row` without any personal data (for events).
pub fn member_without_personal_data(row: &MemberRow) -> pb::Member {
    pb::Member {
        name: format!("members/{}", row.id),
        full_name: String::new(),
        id_number: String::new(),
        phone: String::new(),
        organisation: organisation_name(&row.organisation_id),
        standing: row.standing as i32,
        flow_member: row.flow_member,
        residence_cell: row
            .residence_cell_id
            .as_deref()
            .map(civicgrid_cell_tree::resource_name)
            .unwrap_or_default(),
        work_unit: row
            .work_unit_id
            .as_deref()
            .map(organisation_name)
            .unwrap_or_default(),
        version: row.version,
        etag: etag(row.version),
        create_time: Some(timestamp(row.create_time)),
        update_time: Some(timestamp(row.update_time)),
    }
}

/// The `Member` of `row` with name, ID number and phone opened and masked
/// (for responses); fails when a sealed value does not open with `keys`.
pub fn member_masked(row: &MemberRow, keys: &PersonalDataKeys) -> Result<pb::Member, CryptoError> {
    Ok(pb::Member {
        full_name: mask_name(&keys.open(&row.full_name_sealed)?),
        id_number: mask_id_number(&keys.open(&row.id_number_sealed)?),
        phone: civicgrid_runtime::crypto::mask_contact(&keys.open(&row.phone_sealed)?),
        ..member_without_personal_data(row)
    })
}

/// The `Post` of `row`.
pub fn post(row: &crate::store::posts::PostRow) -> pb::Post {
    pb::Post {
        name: format!("posts/{}", row.id),
        member: format!("members/{}", row.member_id),
        organisation: organisation_name(&row.organisation_id),
        kind: row.kind.number(),
        valid_from: Some(timestamp(row.valid_from)),
        valid_until: row.valid_until.map(timestamp),
        cell: row
            .cell_id
            .as_deref()
            .map(civicgrid_cell_tree::resource_name)
            .unwrap_or_default(),
        compound: row
            .compound_id
            .as_deref()
            .map(civicgrid_cell_tree::compound_name)
            .unwrap_or_default(),
        create_time: Some(timestamp(row.create_time)),
    }
}

/// `cells/{id}` of the cell an area lies in (its last segment).
pub fn area_cell(area_path: &str) -> String {
    area_path
        .split('/')
        .rfind(|segment| !segment.is_empty())
        .map(civicgrid_cell_tree::resource_name)
        .unwrap_or_default()
}

/// A protobuf timestamp of `at`.
pub fn to_timestamp(at: chrono::DateTime<chrono::Utc>) -> Timestamp {
    timestamp(at)
}

/// The `MemberTransfer` of `row`.
pub fn transfer(row: &crate::store::members::TransferRow) -> pb::MemberTransfer {
    pb::MemberTransfer {
        name: format!("members/{}/transfers/{}", row.member_id, row.id),
        from_organisation: organisation_name(&row.from_organisation),
        to_organisation: organisation_name(&row.to_organisation),
        reason: row.reason.clone(),
        transfer_time: Some(timestamp(row.transfer_time)),
    }
}
