//! Loading the county's party side through membership's public API: the
//! organisations level by level, then the members in CSV rolls through
//! ImportMembers (every rule of a county's own roll import applies). A roll
//! is all or nothing, so a rerun looks up each roll's first ID number and
//! skips a roll that is there: an interrupted load completes without
//! duplicates.

use civicgrid_proto::membership::v1 as mpb;
use civicgrid_proto::membership::v1::membership_service_client::MembershipServiceClient;
use futures::stream::{self, StreamExt};
use tonic::transport::Channel;
use tonic::{Code, Status};

use super::load::{Count, Loader, internal, retrying, units, wait_for_replica};
use super::plan::{self, PlannedOrganisation, Shape};
use crate::endpoints::authorised;

/// Members per ImportMembers request: one transaction, well inside a
/// service's request timeout.
const ROLL: u64 = 500;

impl Loader {
    /// Waits (bounded) until membership's replica knows every unit of the
    /// county's last building: cells are created level by level and the
    /// replica applies them in the order they were logged, so the rest are
    /// known by then.
    pub async fn wait_for_membership_replica(
        &self,
        membership: &Channel,
        root: &str,
        shape: &Shape,
    ) -> anyhow::Result<()> {
        let client = MembershipServiceClient::new(membership.clone());
        wait_for_replica("membership's", root, shape, |cell| {
            let mut client = client.clone();
            let request = authorised(
                mpb::ListKnownCellsRequest {
                    ancestor: cell,
                    page_size: 1000,
                    page_token: String::new(),
                },
                &self.token,
            );
            async move {
                let cells = client.list_known_cells(request?).await?.into_inner().cells;
                Ok(units(cells.iter().map(|c| c.level)))
            }
        })
        .await
    }

    /// Creates the party organisations level by level, each level in parallel.
    pub async fn organisations(
        &self,
        membership: &Channel,
        levels: &[Vec<PlannedOrganisation>],
    ) -> anyhow::Result<Count> {
        let planned: u64 = levels.iter().map(|l| l.len() as u64).sum();
        let bar = self.bar("orgs", planned);
        let mut count = Count {
            kind: "organisations",
            planned,
            ..Count::default()
        };
        let client = MembershipServiceClient::new(membership.clone());
        for level in levels {
            self.create_each(
                level,
                &bar,
                &mut count,
                |organisation| format!("organisation `{}`", organisation.id),
                |organisation| {
                    let request = authorised(request_for(organisation), &self.token);
                    let mut client = client.clone();
                    async move { client.create_organisation(request.map_err(internal)?).await }
                },
            )
            .await?;
        }
        bar.finish();
        Ok(count)
    }

    /// Imports the members in rolls of [`ROLL`], `concurrency` at a time,
    /// each generated when its turn comes.
    pub async fn members(
        &self,
        membership: &Channel,
        seed: u64,
        root: &str,
        shape: &Shape,
    ) -> anyhow::Result<Count> {
        let planned = plan::member_count(shape);
        let bar = self.bar("members", planned);
        let client = MembershipServiceClient::new(membership.clone());
        let results = stream::iter((0..planned.div_ceil(ROLL)).map(|roll| {
            let client = client.clone();
            let bar = bar.clone();
            async move {
                let (first, last) = (roll * ROLL, ((roll + 1) * ROLL).min(planned));
                let mut csv = String::from(plan::MEMBER_CSV_HEADER);
                let mut first_id_number = String::new();
                for index in first..last {
                    let (line, id_number) = plan::member(seed, index, root, shape);
                    if index == first {
                        first_id_number = id_number;
                    }
                    csv.push('\n');
                    csv.push_str(&line);
                }
                let size = last - first;
                let there = self
                    .member_exists(&client, &first_id_number)
                    .await
                    .map_err(|status| {
                        anyhow::anyhow!("looking up roll {first}..{last}: {}", status.message())
                    })?;
                let created = if there {
                    0
                } else {
                    let response = retrying(|| {
                        let request = authorised(
                            mpb::ImportMembersRequest {
                                content: csv.clone().into_bytes(),
                                validate_only: false,
                            },
                            &self.token,
                        );
                        let mut client = client.clone();
                        async move { client.import_members(request.map_err(internal)?).await }
                    })
                    .await
                    .map_err(|status| {
                        anyhow::anyhow!(
                            "importing members {first}..{last}: {:?}: {}",
                            status.code(),
                            status.message()
                        )
                    })?;
                    u64::try_from(response.into_inner().created_count).unwrap_or(0)
                };
                bar.inc(size);
                Ok::<_, anyhow::Error>((created, size - created))
            }
        }))
        .buffer_unordered(self.concurrency)
        .collect::<Vec<_>>()
        .await;
        let mut count = Count {
            kind: "members",
            planned,
            ..Count::default()
        };
        for result in results {
            let (created, existing) = result?;
            count.created += created;
            count.existing += existing;
        }
        bar.finish();
        Ok(count)
    }

    /// Whether a member with this ID number is registered.
    async fn member_exists(
        &self,
        client: &MembershipServiceClient<Channel>,
        id_number: &str,
    ) -> Result<bool, Status> {
        let found = retrying(|| {
            let request = authorised(
                mpb::LookupMemberRequest {
                    id_number: id_number.to_owned(),
                },
                &self.token,
            );
            let mut client = client.clone();
            async move { client.lookup_member(request.map_err(internal)?).await }
        })
        .await;
        match found {
            Ok(_) => Ok(true),
            Err(status) if status.code() == Code::NotFound => Ok(false),
            Err(status) => Err(status),
        }
    }
}

fn request_for(organisation: &PlannedOrganisation) -> mpb::CreateOrganisationRequest {
    mpb::CreateOrganisationRequest {
        organisation_id: organisation.id.clone(),
        organisation: Some(mpb::Organisation {
            display_name: organisation.display_name.clone(),
            kind: organisation.kind as i32,
            parent: if organisation.parent.is_empty() {
                String::new()
            } else {
                format!("organisations/{}", organisation.parent)
            },
            cell: format!("cells/{}", organisation.cell),
            ..Default::default()
        }),
        request_id: String::new(),
    }
}
