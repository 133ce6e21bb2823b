//! The demo county: a grid of every level and the directory tasks are
//! measured against, loaded through the public API like any integrator
//! would. Re-running it finds everything already there and changes nothing.

use civicgrid_proto::google::r#type::Date;
use civicgrid_proto::grid::v1 as pb;
use civicgrid_proto::grid::v1::directory_service_client::DirectoryServiceClient;
use civicgrid_proto::grid::v1::grid_service_client::GridServiceClient;
use tonic::Code;
use tonic::transport::Channel;

const COUNTY: &str = "demo-county";

const STREETS: [(&str, &str); 3] = [
    ("qingshan", "青山街道 Qingshan Street"),
    ("hexi", "河西街道 Hexi Street"),
    ("dongcheng", "东城街道 Dongcheng Street"),
];

/// Creates the demo grid: 1 county, 3 streets, 2 communities each, 2 grids
/// each, 2 buildings each, 2 units each; the residential compounds of
/// [`COMPOUNDS`]; then the directory (see [`load_directory`]).
pub async fn load(grid: &str, token: &str) -> anyhow::Result<()> {
    let mut client = GridServiceClient::connect(grid.to_owned()).await?;
    let mut created = 0;
    let mut existing = 0;
    let mut cells = vec![(
        COUNTY.to_owned(),
        String::new(),
        pb::CellLevel::County,
        "示范县 Demo County".to_owned(),
        false,
    )];
    for (street, street_name) in STREETS {
        let street_id = format!("{COUNTY}-{street}");
        cells.push((
            street_id.clone(),
            COUNTY.to_owned(),
            pb::CellLevel::Street,
            street_name.to_owned(),
            false,
        ));
        for c in 1..=2 {
            let community = format!("{street_id}-c{c}");
            cells.push((
                community.clone(),
                street_id.clone(),
                pb::CellLevel::Community,
                format!("{street_name} 第{c}社区"),
                false,
            ));
            for g in 1..=2 {
                let grid_id = format!("{community}-g{g}");
                cells.push((
                    grid_id.clone(),
                    community.clone(),
                    pb::CellLevel::Grid,
                    format!("第{g}网格"),
                    false,
                ));
                for b in 1..=2 {
                    let building = format!("{grid_id}-b{b}");
                    cells.push((
                        building.clone(),
                        grid_id.clone(),
                        pb::CellLevel::Building,
                        format!("{b}号楼"),
                        // "Newly built" belongs to compounds now
                        // (Cell.newly_built is deprecated).
                        false,
                    ));
                    for u in 1..=2 {
                        cells.push((
                            format!("{building}-u{u}"),
                            building.clone(),
                            pb::CellLevel::Unit,
                            format!("{u}单元"),
                            false,
                        ));
                    }
                }
            }
        }
    }
    for (id, parent, level, display_name, _) in cells {
        let request = pb::CreateCellRequest {
            cell_id: id,
            cell: Some(pb::Cell {
                parent: if parent.is_empty() {
                    parent
                } else {
                    format!("cells/{parent}")
                },
                level: level as i32,
                display_name,
                ..Default::default()
            }),
            request_id: String::new(),
        };
        let mut request = tonic::Request::new(request);
        request
            .metadata_mut()
            .insert("authorization", format!("Bearer {token}").parse()?);
        match client.create_cell(request).await {
            Ok(_) => created += 1,
            Err(status) if status.code() == Code::AlreadyExists => existing += 1,
            Err(status) => return Err(anyhow::anyhow!("creating a demo cell failed: {status}")),
        }
    }
    println!("demo county `cells/{COUNTY}`: {created} cells created, {existing} already there");
    load_compounds(&mut client, token).await?;
    load_directory(grid, token).await?;
    crate::demo_membership::load(token).await?;
    // Real members check in at the centres' activities, so their
    // participation and points follow in membership.
    let attendees =
        crate::demo_membership::some_members(token, crate::demo_centres::ATTENDEES).await?;
    crate::demo_centres::load(token, &attendees).await?;
    crate::demo_assessment::load(token).await
}

/// A demo compound: (street, community number, grids whose buildings it
/// holds, code suffix, display name, address, year built, newly built and
/// still lacking the required facilities, property company).
type DemoCompound = (
    &'static str,
    u8,
    &'static [u8],
    &'static str,
    &'static str,
    &'static str,
    i32,
    bool,
    &'static str,
);

/// Compounds in five of the six communities; the three built since 2022
/// are newly built and still lack the required facilities (新建住宅小区配套).
const COMPOUNDS: [DemoCompound; 6] = [
    (
        "qingshan",
        1,
        &[1, 2],
        "jinxiu",
        "锦绣花园 Jinxiu Garden",
        "青山路 18 号",
        2008,
        false,
        "绿城物业 Greentown Property",
    ),
    (
        "qingshan",
        2,
        &[1],
        "xinyue",
        "新悦府 Xinyue Residence",
        "青山路 260 号",
        2024,
        true,
        "万科物业 Vanke Property",
    ),
    (
        "hexi",
        1,
        &[1],
        "hexi-xincun",
        "河西新村 Hexi New Village",
        "河西大街 3 号",
        1996,
        false,
        "",
    ),
    (
        "hexi",
        1,
        &[2],
        "binjiang",
        "滨江苑 Binjiang Court",
        "滨江路 99 号",
        2023,
        true,
        "碧桂园服务 Country Garden Services",
    ),
    (
        "hexi",
        2,
        &[1, 2],
        "taoyuan",
        "桃源小区 Taoyuan Compound",
        "桃源路 5 号",
        2012,
        false,
        "县城投物业 County Property Management",
    ),
    (
        "dongcheng",
        1,
        &[1, 2],
        "dongfang",
        "东方明珠苑 Dongfang Pearl Court",
        "东城大道 66 号",
        2025,
        true,
        "保利物业 Poly Property",
    ),
];

/// Creates the demo compounds; ones already there are left as they are.
async fn load_compounds(
    client: &mut GridServiceClient<Channel>,
    token: &str,
) -> anyhow::Result<()> {
    let mut created = 0;
    for (street, c, grids, code, display_name, address, year_built, newly_built, company) in
        COMPOUNDS
    {
        let community = format!("{COUNTY}-{street}-c{c}");
        let buildings = grids
            .iter()
            .flat_map(|g| (1..=2).map(move |b| (*g, b)))
            .map(|(g, b)| format!("cells/{community}-g{g}-b{b}"))
            .collect();
        let request = pb::CreateCompoundRequest {
            compound_id: format!("{COUNTY}-{code}"),
            compound: Some(pb::Compound {
                community: format!("cells/{community}"),
                display_name: display_name.to_owned(),
                buildings,
                address: address.to_owned(),
                year_built,
                newly_built,
                lacks_required_facilities: newly_built,
                property_company: company.to_owned(),
                ..Default::default()
            }),
            request_id: String::new(),
        };
        match client.create_compound(authorized(request, token)?).await {
            Ok(_) => created += 1,
            Err(status) if status.code() == Code::AlreadyExists => {}
            Err(status) => anyhow::bail!("creating demo compound `{code}` failed: {status}"),
        }
    }
    println!("demo compounds: {created} created of {}", COMPOUNDS.len());
    Ok(())
}

/// A request carrying the bearer token.
pub(crate) fn authorized<T>(message: T, token: &str) -> anyhow::Result<tonic::Request<T>> {
    let mut request = tonic::Request::new(message);
    request
        .metadata_mut()
        .insert("authorization", format!("Bearer {token}").parse()?);
    Ok(request)
}

const DEPARTMENTS: [(&str, &str); 7] = [
    (
        "housing",
        "县住房和城乡建设局 County Housing and Urban-Rural Development Bureau",
    ),
    (
        "urban-management",
        "县城市管理局 County Urban Management Bureau",
    ),
    (
        "market-supervision",
        "县市场监督管理局 County Market Supervision Administration",
    ),
    ("public-security", "县公安局 County Public Security Bureau"),
    ("water-supply", "县自来水公司 County Water Supply Company"),
    ("power-supply", "县供电公司 County Power Supply Company"),
    ("transport", "县交通运输局 County Transport Bureau"),
];

/// (id, display name, extra fields as (key, display name, required)).
type DemoCategory = (
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str, bool)],
);

const CATEGORIES: [DemoCategory; 7] = [
    (
        "illegal-parking",
        "违章停车 Illegal parking",
        &[
            ("licence_plate", "车牌号 Licence plate", true),
            ("vehicle_colour", "车身颜色 Vehicle colour", false),
        ],
    ),
    (
        "noise",
        "噪音扰民 Noise nuisance",
        &[("noise_source", "噪音来源 Source of the noise", false)],
    ),
    ("garbage", "垃圾堆放 Garbage dumping", &[]),
    (
        "road-damage",
        "道路破损 Road damage",
        &[("road_name", "道路名称 Road name", true)],
    ),
    (
        "water-leak",
        "漏水 Water leak",
        &[("meter_number", "水表号 Water meter number", false)],
    ),
    (
        "elevator-failure",
        "电梯故障 Elevator failure",
        &[
            (
                "elevator_code",
                "电梯注册代码 Elevator registration code",
                true,
            ),
            ("people_trapped", "是否有人被困 People trapped", true),
        ],
    ),
    (
        "property-dispute",
        "物业纠纷 Property management dispute",
        &[("property_company", "物业公司 Property company", false)],
    ),
];

/// Per urgency: the policy name segment, the clock, and the minutes to
/// accept, check in, resolve and return. Working minutes: 420 are one
/// working day. Emergencies run on the wall clock, nights included.
const POLICIES: [(&str, pb::DeadlineClock, [i32; 4]); 4] = [
    ("low", pb::DeadlineClock::Working, [840, 420, 6300, 840]),
    ("normal", pb::DeadlineClock::Working, [420, 240, 2100, 420]),
    ("urgent", pb::DeadlineClock::Working, [60, 120, 420, 120]),
    ("emergency", pb::DeadlineClock::Calendar, [15, 30, 240, 30]),
];

/// The working calendars shipped with the grid service.
const CALENDARS: [(&str, &str); 2] = [
    (
        "cn-2026.json",
        include_str!("../../../services/grid/calendars/cn-2026.json"),
    ),
    (
        "cn-2027.json",
        include_str!("../../../services/grid/calendars/cn-2027.json"),
    ),
];

/// Departments, categories, a policy for every category and urgency, and
/// the working calendars (what it did goes to stderr, so a caller's stdout
/// stays its own, e.g. `county load --output json`). Creates what is missing, replaces policies and
/// calendars only where they differ, so a re-run bumps no version.
pub(crate) async fn load_directory(grid: &str, token: &str) -> anyhow::Result<()> {
    let mut client = DirectoryServiceClient::connect(grid.to_owned()).await?;

    let mut created = 0;
    for (id, display_name) in DEPARTMENTS {
        let request = pb::CreateDepartmentRequest {
            department_id: id.to_owned(),
            department: Some(pb::Department {
                display_name: display_name.to_owned(),
                ..Default::default()
            }),
        };
        match client.create_department(authorized(request, token)?).await {
            Ok(_) => created += 1,
            Err(status) if status.code() == Code::AlreadyExists => {}
            Err(status) => anyhow::bail!("creating demo department `{id}` failed: {status}"),
        }
    }
    eprintln!(
        "demo departments: {created} created of {}",
        DEPARTMENTS.len()
    );

    let mut created = 0;
    for (id, display_name, fields) in CATEGORIES {
        let request = pb::CreateCategoryRequest {
            category_id: id.to_owned(),
            category: Some(pb::Category {
                display_name: display_name.to_owned(),
                fields: fields
                    .iter()
                    .map(|&(key, display_name, required)| pb::CategoryField {
                        key: key.to_owned(),
                        display_name: display_name.to_owned(),
                        required,
                    })
                    .collect(),
                ..Default::default()
            }),
        };
        match client.create_category(authorized(request, token)?).await {
            Ok(_) => created += 1,
            Err(status) if status.code() == Code::AlreadyExists => {}
            Err(status) => anyhow::bail!("creating demo category `{id}` failed: {status}"),
        }
    }
    eprintln!("demo categories: {created} created of {}", CATEGORIES.len());

    let existing = all_policies(&mut client, token).await?;
    let mut set = 0;
    for (category, _, _) in CATEGORIES {
        for (urgency, clock, [accept, check_in, resolve, r#return]) in POLICIES {
            let allowance = |minutes| {
                Some(pb::Allowance {
                    minutes,
                    clock: clock as i32,
                })
            };
            let policy = pb::DeadlinePolicy {
                name: format!("categories/{category}/deadlinePolicies/{urgency}"),
                accept: allowance(accept),
                check_in: allowance(check_in),
                resolve: allowance(resolve),
                r#return: allowance(r#return),
                version: 0,
            };
            let unchanged = existing.iter().any(|old| {
                old.name == policy.name
                    && old.accept == policy.accept
                    && old.check_in == policy.check_in
                    && old.resolve == policy.resolve
                    && old.r#return == policy.r#return
            });
            if unchanged {
                continue;
            }
            let name = policy.name.clone();
            let request = pb::SetDeadlinePolicyRequest {
                policy: Some(policy),
            };
            if let Err(status) = client
                .set_deadline_policy(authorized(request, token)?)
                .await
            {
                anyhow::bail!("setting demo policy `{name}` failed: {status}");
            }
            set += 1;
        }
    }
    eprintln!(
        "demo deadline policies: {set} set of {}",
        CATEGORIES.len() * POLICIES.len()
    );

    for (file, json) in CALENDARS {
        let calendar = calendar_from_json(json)
            .map_err(|e| anyhow::anyhow!("services/grid/calendars/{file}: {e}"))?;
        let name = calendar.name.clone();
        let request = pb::GetWorkingCalendarRequest { name: name.clone() };
        let current = match client
            .get_working_calendar(authorized(request, token)?)
            .await
        {
            Ok(response) => response.into_inner().calendar,
            Err(status) if status.code() == Code::NotFound => None,
            Err(status) => anyhow::bail!("reading `{name}` failed: {status}"),
        };
        let unchanged = current.is_some_and(|current| {
            current.holidays == calendar.holidays
                && current.make_up_working_days == calendar.make_up_working_days
        });
        if unchanged {
            eprintln!("demo calendar `{name}`: already there");
            continue;
        }
        let request = pb::SetWorkingCalendarRequest {
            calendar: Some(calendar),
        };
        if let Err(status) = client
            .set_working_calendar(authorized(request, token)?)
            .await
        {
            anyhow::bail!("setting demo calendar `{name}` failed: {status}");
        }
        eprintln!("demo calendar `{name}`: set from {file}");
    }
    Ok(())
}

/// Every deadline policy the grid holds.
async fn all_policies(
    client: &mut DirectoryServiceClient<Channel>,
    token: &str,
) -> anyhow::Result<Vec<pb::DeadlinePolicy>> {
    let mut policies = Vec::new();
    let mut page_token = String::new();
    loop {
        let request = pb::ListDeadlinePoliciesRequest {
            parent: String::new(),
            page_size: 1000,
            page_token,
        };
        let page = client
            .list_deadline_policies(authorized(request, token)?)
            .await
            .map_err(|status| anyhow::anyhow!("listing deadline policies failed: {status}"))?
            .into_inner();
        policies.extend(page.policies);
        if page.next_page_token.is_empty() {
            return Ok(policies);
        }
        page_token = page.next_page_token;
    }
}

/// A calendar file (`{"year", "holidays": ["YYYY-MM-DD", ...],
/// "make_up_working_days": [...]}`) as the contract's WorkingCalendar, days
/// in date order as the service returns them.
fn calendar_from_json(json: &str) -> anyhow::Result<pb::WorkingCalendar> {
    let value: serde_json::Value = serde_json::from_str(json)?;
    let year = value
        .get("year")
        .and_then(serde_json::Value::as_i64)
        .ok_or_else(|| anyhow::anyhow!("`year` must be a number"))?;
    let days = |key: &str| -> anyhow::Result<Vec<Date>> {
        let list = value
            .get(key)
            .and_then(serde_json::Value::as_array)
            .ok_or_else(|| anyhow::anyhow!("`{key}` must be a list of dates"))?;
        let mut dates = list
            .iter()
            .map(|day| {
                let text = day
                    .as_str()
                    .ok_or_else(|| anyhow::anyhow!("`{key}` must hold strings"))?;
                let date = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
                    .map_err(|e| anyhow::anyhow!("`{key}`: `{text}`: {e}"))?;
                Ok(date)
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        dates.sort();
        dates.dedup();
        Ok(dates.into_iter().map(date_proto).collect())
    };
    Ok(pb::WorkingCalendar {
        name: format!("workingCalendars/{year}"),
        holidays: days("holidays")?,
        make_up_working_days: days("make_up_working_days")?,
        version: 0,
    })
}

fn date_proto(date: chrono::NaiveDate) -> Date {
    use chrono::Datelike;
    Date {
        year: date.year(),
        // Months and days are at most 12 and 31.
        month: i32::try_from(date.month()).unwrap_or_default(),
        day: i32::try_from(date.day()).unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Datelike, NaiveDate, Weekday};

    fn naive(date: &Date) -> NaiveDate {
        NaiveDate::from_ymd_opt(date.year, date.month as u32, date.day as u32).unwrap()
    }

    #[test]
    fn the_shipped_calendars_list_weekday_holidays_and_weekend_make_up_days_of_their_year() {
        for (file, json) in CALENDARS {
            let calendar = calendar_from_json(json).unwrap();
            let year: i32 = calendar.name["workingCalendars/".len()..].parse().unwrap();
            assert!(file.contains(&year.to_string()), "{file}");
            for day in calendar.holidays.iter().map(naive) {
                assert_eq!(day.year(), year, "{file}: {day}");
                assert!(
                    !matches!(day.weekday(), Weekday::Sat | Weekday::Sun),
                    "{file}: {day}"
                );
            }
            for day in calendar.make_up_working_days.iter().map(naive) {
                assert_eq!(day.year(), year, "{file}: {day}");
                assert!(
                    matches!(day.weekday(), Weekday::Sat | Weekday::Sun),
                    "{file}: {day}"
                );
            }
            let note: serde_json::Value = serde_json::from_str(json).unwrap();
            assert!(
                note["note"].as_str().is_some_and(|n| !n.is_empty()),
                "{file}"
            );
        }
    }

    #[test]
    fn the_2027_calendar_says_it_is_an_estimate() {
        let value: serde_json::Value = serde_json::from_str(CALENDARS[1].1).unwrap();
        assert!(value["note"].as_str().unwrap().starts_with("ESTIMATE"));
    }

    #[test]
    fn every_demo_field_key_and_id_follows_the_contract() {
        let id_ok = |id: &str| {
            !id.starts_with('-')
                && id
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        };
        for (id, _) in DEPARTMENTS {
            assert!(id_ok(id), "{id}");
        }
        for (_, _, _, code, ..) in COMPOUNDS {
            assert!(id_ok(code), "{code}");
        }
        for (id, _, fields) in CATEGORIES {
            assert!(id_ok(id), "{id}");
            for (key, _, _) in fields {
                assert!(
                    key.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                    "{key}"
                );
            }
        }
    }
}
