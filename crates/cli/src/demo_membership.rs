//! The demo county's party side, loaded through the membership API like
//! any integrator would: organisations of every kind, a few thousand
//! members with valid generated ID numbers, posts (some 一肩挑, some
//! compounds with all four parties cross-appointed), dual reports,
//! co-building agreements (a few near duplicates among them) and joint
//! conferences with open and overdue issues. Each part is skipped when a
//! re-run finds it there already.
//!
//! Membership learns the demo grid from the grid's events, so the loader
//! first waits (bounded) until membership knows the demo cells.

use std::time::{Duration, Instant};

use civicgrid_proto::membership::v1 as pb;
use civicgrid_proto::membership::v1::membership_service_client::MembershipServiceClient;
use tonic::Code;
use tonic::transport::Channel;

use crate::demo::authorized;

type Client = MembershipServiceClient<Channel>;

/// Sets the timestamp `slot` to `days` from now (the CLI does not depend
/// on prost-types, so the type is inferred from the slot).
macro_rules! days_from_now {
    ($slot:expr, $days:expr) => {{
        $slot = Some(Default::default());
        if let Some(at) = $slot.as_mut() {
            at.seconds = chrono::Utc::now().timestamp() + $days * 86_400;
        }
    }};
}

const COUNTY: &str = "demo-county";
const STREETS: [&str; 3] = ["qingshan", "hexi", "dongcheng"];
/// (code suffix, property company) of the demo compounds.
const COMPOUNDS: [(&str, &str); 6] = [
    ("jinxiu", "绿城物业"),
    ("xinyue", "万科物业"),
    ("hexi-xincun", "河西物业"),
    ("binjiang", "碧桂园服务"),
    ("taoyuan", "县城投物业"),
    ("dongfang", "保利物业"),
];
/// Compounds whose four parties are all in place and cross-appointed.
const FOUR_PARTY: [&str; 2] = ["jinxiu", "taoyuan"];
/// How many members the demo registers.
const MEMBERS: u32 = 3000;
/// Communities (street, number) whose secretary also directs the residents' committee.
const ONE_SHOULDER: [(&str, u8); 3] = [("qingshan", 1), ("hexi", 2), ("dongcheng", 1)];

/// Where membership listens unless `CIVICGRID_DEMO_MEMBERSHIP` says otherwise.
const DEFAULT_ADDR: &str = "http://127.0.0.1:50051";

fn communities() -> Vec<(String, &'static str, u8)> {
    STREETS
        .iter()
        .flat_map(|s| (1..=2).map(move |c| (format!("{COUNTY}-{s}-c{c}"), *s, c)))
        .collect()
}

/// Loads everything into the membership at `CIVICGRID_DEMO_MEMBERSHIP`
/// (or `MEMBERSHIP_PORT` on localhost, or the default port); `token` is a
/// county admin's.
pub async fn load(token: &str) -> anyhow::Result<()> {
    load_into(&membership_addr(), token).await
}

/// The membership the demo loads into.
fn membership_addr() -> String {
    std::env::var("CIVICGRID_DEMO_MEMBERSHIP")
        .or_else(|_| {
            std::env::var("MEMBERSHIP_PORT").map(|port| format!("http://127.0.0.1:{port}"))
        })
        .unwrap_or_else(|_| DEFAULT_ADDR.to_owned())
}

/// The names of `n` of the demo's members (the first page of the list):
/// the centres demo registers and checks them in at its activities, so
/// their participation and points follow from real check-ins.
pub async fn some_members(token: &str, n: usize) -> anyhow::Result<Vec<String>> {
    let mut client = MembershipServiceClient::connect(membership_addr()).await?;
    let members = client
        .list_members(authorized(
            pb::ListMembersRequest {
                page_size: i32::try_from(n)?,
                ..Default::default()
            },
            token,
        )?)
        .await?
        .into_inner()
        .members;
    anyhow::ensure!(
        members.len() == n,
        "the membership demo has {} members, {n} are needed",
        members.len()
    );
    Ok(members.into_iter().map(|m| m.name).collect())
}

/// Loads everything into the membership at `addr`.
pub async fn load_into(addr: &str, token: &str) -> anyhow::Result<()> {
    let mut client = MembershipServiceClient::connect(addr.to_owned()).await?;
    wait_for_cells(&mut client, token).await?;
    organisations(&mut client, token).await?;
    let members = members(&mut client, token).await?;
    posts(&mut client, token, &members).await?;
    reports(&mut client, token, &members).await?;
    agreements(&mut client, token).await?;
    conferences(&mut client, token).await?;
    eprintln!("demo membership loaded into {addr}");
    Ok(())
}

/// Until membership's replica holds the demo's 6 communities (at most two minutes).
async fn wait_for_cells(client: &mut Client, token: &str) -> anyhow::Result<()> {
    let started = Instant::now();
    loop {
        let known = client
            .list_known_cells(authorized(
                pb::ListKnownCellsRequest {
                    ancestor: format!("cells/{COUNTY}"),
                    page_size: 1000,
                    page_token: String::new(),
                },
                token,
            )?)
            .await;
        let communities = communities();
        if let Ok(known) = known {
            let names: Vec<String> = known
                .into_inner()
                .cells
                .into_iter()
                .map(|c| c.name)
                .collect();
            if communities
                .iter()
                .all(|(c, _, _)| names.contains(&format!("cells/{c}-g2")))
            {
                return Ok(());
            }
        }
        if started.elapsed() > Duration::from_secs(120) {
            anyhow::bail!(
                "membership does not know the demo grid after two minutes: is its replica consuming grid.cell.*?"
            );
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Creates one organisation; ALREADY_EXISTS counts as done. Compounds may
/// reach membership a little after cells: their organisations are retried.
async fn organisation(
    client: &mut Client,
    token: &str,
    id: &str,
    kind: pb::OrganisationKind,
    parent: &str,
    place: &str,
    display_name: &str,
) -> anyhow::Result<bool> {
    let (cell, compound) = match place.strip_prefix("compounds/") {
        Some(_) => (String::new(), place.to_owned()),
        None if place.is_empty() => (String::new(), String::new()),
        None => (format!("cells/{place}"), String::new()),
    };
    let party = !matches!(
        kind,
        pb::OrganisationKind::PropertyCompany | pb::OrganisationKind::OwnersCommittee
    );
    // Some organisations formed their committees and found premises; the
    // gaps report shows the rest.
    let standardisation = party.then_some(pb::Standardisation {
        branch_committee_formed: id.len().is_multiple_of(2),
        office_premises: !id.len().is_multiple_of(3),
        activity_premises: id.len().is_multiple_of(4),
    });
    let started = Instant::now();
    loop {
        let request = pb::CreateOrganisationRequest {
            organisation_id: id.to_owned(),
            organisation: Some(pb::Organisation {
                display_name: display_name.to_owned(),
                kind: kind as i32,
                parent: if parent.is_empty() {
                    String::new()
                } else {
                    format!("organisations/{parent}")
                },
                cell: cell.clone(),
                compound: compound.clone(),
                standardisation,
                ..Default::default()
            }),
            request_id: String::new(),
        };
        match client
            .create_organisation(authorized(request, token)?)
            .await
        {
            Ok(_) => return Ok(true),
            Err(status) if status.code() == Code::AlreadyExists => return Ok(false),
            Err(status)
                if status.code() == Code::InvalidArgument
                    && !compound.is_empty()
                    && started.elapsed() < Duration::from_secs(60) =>
            {
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            Err(status) => anyhow::bail!("creating demo organisation `{id}` failed: {status}"),
        }
    }
}

async fn organisations(client: &mut Client, token: &str) -> anyhow::Result<()> {
    use pb::OrganisationKind as K;
    let mut created = 0;
    let mut add = |r: bool| created += usize::from(r);
    add(organisation(
        client,
        token,
        "cc",
        K::CountyCommittee,
        "",
        COUNTY,
        "中共示范县委",
    )
    .await?);
    for (id, kind, name) in [
        ("gov-housing", K::GovernmentBody, "县住建局机关党委"),
        ("gov-tax", K::GovernmentBody, "县税务局机关党委"),
        ("soe-power", K::StateEnterprise, "县供电公司党委"),
        ("inst-hospital", K::Institution, "县人民医院党总支"),
        ("inst-school", K::Institution, "县第一中学党总支"),
    ] {
        add(organisation(client, token, id, kind, "cc", "", name).await?);
    }
    for street in STREETS {
        let wc = format!("{street}-wc");
        let cell = format!("{COUNTY}-{street}");
        add(organisation(
            client,
            token,
            &wc,
            K::StreetWorkingCommittee,
            "cc",
            &cell,
            &format!("{street}街道党工委"),
        )
        .await?);
        add(organisation(
            client,
            token,
            &format!("{street}-npe"),
            K::NonPublicEnterprise,
            &wc,
            "",
            &format!("{street}商贸有限公司党支部"),
        )
        .await?);
        add(organisation(
            client,
            token,
            &format!("{street}-couriers"),
            K::Couriers,
            &wc,
            "",
            &format!("{street}快递行业党支部"),
        )
        .await?);
        add(organisation(
            client,
            token,
            &format!("{street}-riders"),
            K::Riders,
            &wc,
            "",
            &format!("{street}外卖骑手党支部"),
        )
        .await?);
        add(organisation(
            client,
            token,
            &format!("{street}-platform"),
            K::PlatformWorkers,
            &wc,
            "",
            &format!("{street}网约车党支部"),
        )
        .await?);
    }
    for (community, street, c) in communities() {
        let pc = format!("{street}-c{c}-pc");
        add(organisation(
            client,
            token,
            &pc,
            K::CommunityPartyCommittee,
            &format!("{street}-wc"),
            &community,
            &format!("{street}第{c}社区党委"),
        )
        .await?);
        add(organisation(
            client,
            token,
            &format!("{street}-c{c}-gb"),
            K::GeneralBranch,
            &pc,
            &community,
            &format!("{street}第{c}社区党总支"),
        )
        .await?);
        add(organisation(
            client,
            token,
            &format!("{street}-c{c}-b1"),
            K::Branch,
            &pc,
            &format!("{community}-g1"),
            &format!("{street}第{c}社区第一网格党支部"),
        )
        .await?);
        add(organisation(
            client,
            token,
            &format!("{street}-c{c}-so"),
            K::SocialOrganisation,
            &pc,
            "",
            &format!("{street}第{c}社区志愿者协会党支部"),
        )
        .await?);
    }
    for (code, company) in COMPOUNDS {
        let compound = format!("compounds/{COUNTY}-{code}");
        let (street, c) = compound_community(code);
        let pc = format!("{street}-c{c}-pc");
        add(organisation(
            client,
            token,
            &format!("{code}-b"),
            K::CompoundBranch,
            &pc,
            &compound,
            &format!("{code}小区党支部"),
        )
        .await?);
        add(organisation(
            client,
            token,
            &format!("{code}-pm"),
            K::PropertyCompany,
            &pc,
            &compound,
            company,
        )
        .await?);
        // Owners' committees exist only in some compounds (a gap the red
        // property report shows).
        if FOUR_PARTY.contains(&code) || code == "binjiang" {
            add(organisation(
                client,
                token,
                &format!("{code}-oc"),
                K::OwnersCommittee,
                &pc,
                &compound,
                &format!("{code}业主委员会"),
            )
            .await?);
        }
    }
    eprintln!("demo organisations: {created} created");
    Ok(())
}

/// The (street, community number) of a demo compound.
fn compound_community(code: &str) -> (&'static str, u8) {
    match code {
        "jinxiu" => ("qingshan", 1),
        "xinyue" => ("qingshan", 2),
        "hexi-xincun" | "binjiang" => ("hexi", 1),
        "taoyuan" => ("hexi", 2),
        _ => ("dongcheng", 1),
    }
}

/// The `n`th demo ID number: one of a few real region codes, a birth date
/// between 1950 and 2003, a sequence, and its MOD 11-2 check character.
/// The region codes are none of the county generator's (`county::plan`),
/// so a generated county beside the demo never draws a number of the
/// demo's (a large one did, and its roll was refused).
fn id_number(n: u32) -> String {
    const REGIONS: [&str; 4] = ["330106", "110108", "440304", "510107"];
    let born = chrono::NaiveDate::from_ymd_opt(1950, 1, 1).unwrap_or_default()
        + chrono::Duration::days(i64::from(n * 7 % 19_700));
    let body = format!(
        "{}{}{:03}",
        REGIONS[(n % 4) as usize],
        born.format("%Y%m%d"),
        n % 1000
    );
    let check = civicgrid_membership::domain::id_number::check_character(body.as_bytes());
    format!("{body}{}", char::from(check))
}

fn full_name(n: u32) -> String {
    const SURNAMES: [&str; 12] = [
        "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙",
    ];
    const GIVEN: [&str; 10] = ["伟", "芳", "娜", "敏", "静", "强", "磊", "洋", "艳", "勇"];
    format!(
        "{}{}{}",
        SURNAMES[(n % 12) as usize],
        GIVEN[(n / 12 % 10) as usize],
        GIVEN[(n / 120 % 10) as usize]
    )
}

/// Registers the demo's members (unless the first is there already) and
/// returns the names of every demo member by organisation of record.
async fn members(client: &mut Client, token: &str) -> anyhow::Result<Vec<(String, String)>> {
    let there = client
        .lookup_member(authorized(
            pb::LookupMemberRequest {
                id_number: id_number(0),
            },
            token,
        )?)
        .await
        .is_ok();
    let mut organisations: Vec<(String, String)> = Vec::new();
    for (_, street, c) in communities() {
        organisations.push((
            format!("{street}-c{c}-pc"),
            format!("{COUNTY}-{street}-c{c}-g1"),
        ));
        organisations.push((
            format!("{street}-c{c}-b1"),
            format!("{COUNTY}-{street}-c{c}-g1"),
        ));
        organisations.push((
            format!("{street}-c{c}-gb"),
            format!("{COUNTY}-{street}-c{c}-g2"),
        ));
    }
    for (code, _) in COMPOUNDS {
        let (street, c) = compound_community(code);
        organisations.push((format!("{code}-b"), format!("{COUNTY}-{street}-c{c}-g1")));
    }
    const UNITS: [&str; 5] = [
        "gov-housing",
        "gov-tax",
        "soe-power",
        "inst-hospital",
        "inst-school",
    ];
    if !there {
        let header = "full_name,id_number,phone,organisation,standing,flow_member,residence_cell,work_unit\n";
        for chunk in 0..MEMBERS.div_ceil(1000) {
            let mut roll = String::from(header);
            for n in chunk * 1000..((chunk + 1) * 1000).min(MEMBERS) {
                let (organisation, cell) = &organisations[(n as usize) % organisations.len()];
                let unit = if n % 5 < 2 {
                    UNITS[(n % UNITS.len() as u32) as usize]
                } else {
                    ""
                };
                roll.push_str(&format!(
                    "{},{},13{:09},{organisation},{},{},{cell},{unit}\n",
                    full_name(n),
                    id_number(n),
                    800_000_000 + n,
                    if n % 17 == 0 { "probationary" } else { "full" },
                    n % 23 == 0,
                ));
            }
            client
                .import_members(authorized(
                    pb::ImportMembersRequest {
                        content: roll.into_bytes(),
                        validate_only: false,
                    },
                    token,
                )?)
                .await
                .map_err(|status| anyhow::anyhow!("importing the demo roll failed: {status}"))?;
        }
        eprintln!("demo members: {MEMBERS} registered");
    }
    let mut members = Vec::new();
    for (organisation, _) in &organisations {
        let mut page_token = String::new();
        loop {
            let page = client
                .list_members(authorized(
                    pb::ListMembersRequest {
                        page_size: 1000,
                        page_token: page_token.clone(),
                        organisation: format!("organisations/{organisation}"),
                    },
                    token,
                )?)
                .await?
                .into_inner();
            members.extend(
                page.members
                    .into_iter()
                    .map(|m| (organisation.clone(), m.name)),
            );
            page_token = page.next_page_token;
            if page_token.is_empty() {
                break;
            }
        }
    }
    Ok(members)
}

async fn assign(
    client: &mut Client,
    token: &str,
    member: &str,
    organisation: &str,
    kind: pb::PostKind,
) -> anyhow::Result<()> {
    let request = pb::AssignPostRequest {
        post: Some(pb::Post {
            member: member.to_owned(),
            organisation: format!("organisations/{organisation}"),
            kind: kind as i32,
            ..Default::default()
        }),
        request_id: String::new(),
    };
    match client.assign_post(authorized(request, token)?).await {
        Ok(_) => Ok(()),
        Err(status) if status.code() == Code::AlreadyExists => Ok(()),
        Err(status) => anyhow::bail!("assigning a demo post failed: {status}"),
    }
}

fn of<'a>(members: &'a [(String, String)], organisation: &str) -> Vec<&'a str> {
    members
        .iter()
        .filter(|(o, _)| o == organisation)
        .map(|(_, m)| m.as_str())
        .collect()
}

async fn posts(
    client: &mut Client,
    token: &str,
    members: &[(String, String)],
) -> anyhow::Result<()> {
    use pb::PostKind as P;
    for (_, street, c) in communities() {
        let pc = format!("{street}-c{c}-pc");
        let people = of(members, &pc);
        let [secretary, deputy, director, ..] = people[..] else {
            continue;
        };
        assign(client, token, secretary, &pc, P::Secretary).await?;
        assign(client, token, deputy, &pc, P::DeputySecretary).await?;
        let director = if ONE_SHOULDER.contains(&(street, c)) {
            secretary
        } else {
            director
        };
        assign(client, token, director, &pc, P::ResidentsCommitteeDirector).await?;
    }
    for code in FOUR_PARTY {
        let branch = format!("{code}-b");
        let people = of(members, &branch);
        let [secretary, owner, deputy, ..] = people[..] else {
            continue;
        };
        assign(client, token, secretary, &branch, P::Secretary).await?;
        assign(
            client,
            token,
            secretary,
            &format!("{code}-oc"),
            P::OwnersCommitteeMember,
        )
        .await?;
        assign(
            client,
            token,
            owner,
            &format!("{code}-oc"),
            P::OwnersCommitteeMember,
        )
        .await?;
        assign(
            client,
            token,
            deputy,
            &format!("{code}-pm"),
            P::PropertyDeputyManager,
        )
        .await?;
    }
    eprintln!(
        "demo posts assigned (一肩挑 in {} of 6 communities)",
        ONE_SHOULDER.len()
    );
    Ok(())
}

async fn reports(
    client: &mut Client,
    token: &str,
    members: &[(String, String)],
) -> anyhow::Result<()> {
    let year = chrono::Utc::now()
        .format("%Y")
        .to_string()
        .parse()
        .unwrap_or(2026);
    let mut created = 0;
    for (i, (community, _, _)) in communities().into_iter().enumerate() {
        for unit in [
            ["gov-housing", "soe-power"],
            ["inst-hospital", "gov-tax"],
            ["inst-school", "soe-power"],
        ][i % 3]
        {
            let request = pb::RegisterUnitReportRequest {
                report: Some(pb::UnitReport {
                    unit: format!("organisations/{unit}"),
                    community: format!("cells/{community}"),
                    period_year: year,
                    resources: vec![pb::PledgedResource {
                        category: ["legal_aid", "venue", "volunteers", "elderly_care"][i % 4]
                            .into(),
                        capacity: 10 + i32::try_from(i).unwrap_or(0) * 5,
                        unit: "hours".into(),
                        description: "每月服务社区居民".into(),
                    }],
                    ..Default::default()
                }),
            };
            match client
                .register_unit_report(authorized(request, token)?)
                .await
            {
                Ok(_) => created += 1,
                Err(status) if status.code() == Code::AlreadyExists => {}
                Err(status) => anyhow::bail!("a demo unit report failed: {status}"),
            }
        }
    }
    // Members with a work unit report to the community they live in; one
    // in three of the branches' members.
    for (i, (organisation, member)) in members.iter().enumerate().filter(|(i, _)| i % 3 == 0) {
        let Some(community) = organisation
            .strip_suffix("-b1")
            .map(|community| format!("{COUNTY}-{community}"))
        else {
            continue;
        };
        let request = pb::RegisterMemberReportRequest {
            report: Some(pb::MemberReport {
                member: member.clone(),
                community: format!("cells/{community}"),
                period_year: year,
                skills: vec![["法律咨询", "医疗", "维修", "文艺"][i % 4].into()],
                volunteer_posts: vec!["楼栋长助理".into()],
                ..Default::default()
            }),
        };
        match client
            .register_member_report(authorized(request, token)?)
            .await
        {
            Ok(_) => created += 1,
            // No work unit, or reported already.
            Err(status)
                if matches!(
                    status.code(),
                    Code::AlreadyExists | Code::FailedPrecondition
                ) => {}
            Err(status) => anyhow::bail!("a demo member report failed: {status}"),
        }
    }
    eprintln!("demo reports: {created} registered");
    Ok(())
}

/// The template most agreements copy, with the parties' names and dates
/// filled in: the near duplicates the report flags.
const TEMPLATE: &str = "甲方{a}与乙方{b}本着资源共享、优势互补、共驻共建的原则，经双方协商，于{date}签订本协议。一、乙方每季度到社区开展一次志愿服务活动。二、甲方为乙方党员到社区报到提供场地和志愿服务岗位。三、双方每半年召开一次联席会议，通报协议落实情况。";

async fn agreements(client: &mut Client, token: &str) -> anyhow::Result<()> {
    let report = client
        .get_co_building_report(authorized(
            pb::GetCoBuildingReportRequest::default(),
            token,
        )?)
        .await?
        .into_inner();
    if !report
        .two_new_without_agreement
        .contains(&"organisations/qingshan-npe".to_owned())
    {
        return Ok(());
    }
    let agreements: [(&str, &str, &str, String); 6] = [
        ("qingshan-c1", "qingshan-c1-pc", "gov-housing", TEMPLATE.replace("{a}", "qingshan第1社区党委").replace("{b}", "县住建局机关党委").replace("{date}", "2026年3月1日")),
        ("hexi-c1", "hexi-c1-pc", "soe-power", TEMPLATE.replace("{a}", "hexi第1社区党委").replace("{b}", "县供电公司党委").replace("{date}", "2026年5月12日")),
        ("dongcheng-c1", "dongcheng-c1-pc", "inst-hospital", TEMPLATE.replace("{a}", "dongcheng第1社区党委").replace("{b}", "县人民医院党总支").replace("{date}", "2026年6月8日")),
        ("qingshan-c2", "qingshan-c2-pc", "qingshan-npe", "非公企业每月为社区困难家庭提供一次免费家电维修服务，社区党委提供场地并组织网格员登记需求，双方每季度回访一次。".to_owned()),
        ("hexi-c2", "hexi-c2-pc", "inst-school", "学校在寒暑假向社区儿童开放图书馆和操场，每周三下午安排教师志愿者为困境儿童辅导功课；社区为学生提供社会实践岗位。".to_owned()),
        ("dongcheng-c2", "dongcheng-c2-pc", "gov-tax", "税务局党员干部每月到社区开展一次税费政策宣讲，为个体工商户现场办理业务；社区负责组织商户并收集问题清单。".to_owned()),
    ];
    for (community, a, b, text) in agreements {
        let mut commitment = pb::Commitment {
            description: "每季度开展一次共建活动".into(),
            owner: format!("organisations/{b}"),
            ..Default::default()
        };
        days_from_now!(commitment.due_time, 60);
        let mut agreement = pb::Agreement {
            community: format!("cells/{COUNTY}-{community}"),
            parties: vec![format!("organisations/{a}"), format!("organisations/{b}")],
            title: "共驻共建协议".into(),
            text,
            commitments: vec![commitment],
            ..Default::default()
        };
        days_from_now!(agreement.term_start, -30);
        days_from_now!(agreement.term_end, 335);
        let request = pb::SignAgreementRequest {
            agreement: Some(agreement),
        };
        client
            .sign_agreement(authorized(request, token)?)
            .await
            .map_err(|status| anyhow::anyhow!("a demo agreement failed: {status}"))?;
    }
    eprintln!("demo agreements: 6 signed, 3 of them copies of one template");
    Ok(())
}

async fn conferences(client: &mut Client, token: &str) -> anyhow::Result<()> {
    let overdue = client
        .list_overdue_conference_issues(authorized(
            pb::ListOverdueConferenceIssuesRequest::default(),
            token,
        )?)
        .await?
        .into_inner();
    if !overdue.issues.is_empty() {
        return Ok(());
    }
    for street in STREETS {
        let conference = client
            .create_conference(authorized(
                pb::CreateConferenceRequest {
                    conference: Some(pb::Conference {
                        kind: pb::ConferenceKind::StreetBigWorkingCommittee as i32,
                        cell: format!("cells/{COUNTY}-{street}"),
                        display_name: format!("{street}街道大工委"),
                        member_units: vec![
                            format!("organisations/{street}-wc"),
                            "organisations/gov-housing".into(),
                            "organisations/soe-power".into(),
                        ],
                        ..Default::default()
                    }),
                },
                token,
            )?)
            .await?
            .into_inner()
            .conference
            .unwrap_or_default();
        for (title, owner, days) in [
            ("老旧小区加装电梯协调", "gov-housing", -10),
            ("背街小巷路灯维修", "soe-power", -2),
            ("农贸市场周边停车秩序", "gov-housing", 20),
        ] {
            let mut issue = pb::ConferenceIssue {
                title: title.into(),
                owner: format!("organisations/{owner}"),
                ..Default::default()
            };
            days_from_now!(issue.due_time, days);
            client
                .raise_conference_issue(authorized(
                    pb::RaiseConferenceIssueRequest {
                        parent: conference.name.clone(),
                        issue: Some(issue),
                    },
                    token,
                )?)
                .await?;
        }
    }
    eprintln!("demo conferences: 3 with 9 issues, 6 of them overdue");
    Ok(())
}
