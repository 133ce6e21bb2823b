//! Loading dual reporting (双报到) through membership's public API: each
//! work unit's reports to its street's communities, then the in-service
//! members' reports to the communities they live in. Both are one active
//! report per year, so a rerun's repeat is ALREADY_EXISTS and counts as
//! already there.

use std::collections::HashMap;

use chrono::{Datelike, Utc};
use civicgrid_proto::membership::v1 as mpb;
use civicgrid_proto::membership::v1::membership_service_client::MembershipServiceClient;
use tonic::transport::Channel;

use super::load::{Count, Loader, internal};
use super::plan::{PlannedMemberReport, PlannedUnitReport};
use crate::endpoints::authorised;

impl Loader {
    /// Registers the units' and then the members' reports for this year;
    /// `members` holds the resource names of the reporting members.
    pub async fn reports(
        &self,
        membership: &Channel,
        units: &[PlannedUnitReport],
        reporting: &[PlannedMemberReport],
        members: &HashMap<u64, String>,
    ) -> anyhow::Result<Vec<Count>> {
        let year = Utc::now().year();
        let client = MembershipServiceClient::new(membership.clone());
        let mut unit_count = Count {
            kind: "unit reports",
            planned: units.len() as u64,
            ..Count::default()
        };
        let bar = self.bar("unit rep.", units.len() as u64);
        self.create_each(
            units,
            &bar,
            &mut unit_count,
            |report| format!("the report of `{}` to `{}`", report.unit, report.community),
            |report| {
                let request = authorised(
                    mpb::RegisterUnitReportRequest {
                        report: Some(mpb::UnitReport {
                            unit: format!("organisations/{}", report.unit),
                            community: format!("cells/{}", report.community),
                            period_year: year,
                            resources: report.resources.clone(),
                            ..Default::default()
                        }),
                    },
                    &self.token,
                );
                let mut client = client.clone();
                async move {
                    client
                        .register_unit_report(request.map_err(internal)?)
                        .await
                }
            },
        )
        .await?;
        bar.finish();

        let mut member_count = Count {
            kind: "member reports",
            planned: reporting.len() as u64,
            ..Count::default()
        };
        let bar = self.bar("member rep.", reporting.len() as u64);
        self.create_each(
            reporting,
            &bar,
            &mut member_count,
            |report| format!("the report of member {}", report.member),
            |report| {
                let member = members.get(&report.member).cloned();
                let request = authorised(
                    mpb::RegisterMemberReportRequest {
                        report: Some(mpb::MemberReport {
                            member: member.clone().unwrap_or_default(),
                            community: format!("cells/{}", report.community),
                            period_year: year,
                            skills: report.skills.clone(),
                            volunteer_posts: report.volunteer_posts.clone(),
                            ..Default::default()
                        }),
                    },
                    &self.token,
                );
                let mut client = client.clone();
                async move {
                    if member.is_none() {
                        return Err(tonic::Status::internal(format!(
                            "member {} was not looked up",
                            report.member
                        )));
                    }
                    client
                        .register_member_report(request.map_err(internal)?)
                        .await
                }
            },
        )
        .await?;
        bar.finish();
        Ok(vec![unit_count, member_count])
    }
}
