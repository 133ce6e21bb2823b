//! Demo tasks in every state, driven through the TaskService like any
//! integrator. Each has a fixed request id, so a re-run finds them instead
//! of reporting them again.

use civicgrid_proto::grid::v1 as pb;
use civicgrid_proto::grid::v1::task_service_client::TaskServiceClient;
use civicgrid_proto::grid::v1::transition_task_request::{self as tr, Action as A};
use civicgrid_runtime::auth::Role;
use tonic::transport::Channel;

use crate::demo::authorized;

/// Mints a token for a role (and a department, for department operators).
pub type Mint<'a> = &'a dyn Fn(Role, Option<&str>) -> anyhow::Result<String>;

/// Who takes a step.
#[derive(Clone, Copy)]
enum By {
    Admin,
    Department(&'static str),
    Centre,
}

/// One demo task: where, what, and the steps that bring it to its state.
struct DemoTask {
    cell: &'static str,
    category: &'static str,
    urgency: pb::Urgency,
    description: &'static str,
    fields: &'static [(&'static str, &'static str)],
    steps: &'static [(Step, By, &'static str)],
}

#[derive(Clone, Copy)]
enum Step {
    Accept,
    Start,
    ResolveByGrid,
    Whistle(&'static str, &'static [&'static str]),
    CheckIn,
    ResolvePart,
    Return,
    Rate(bool),
    Reject,
    MergeIntoFirst,
}

const G1: &str = "demo-county-qingshan-c1-g1";
const G2: &str = "demo-county-hexi-c2-g1";
const G3: &str = "demo-county-dongcheng-c1-g2";

const TASKS: [DemoTask; 10] = [
    DemoTask {
        cell: G1,
        category: "noise",
        urgency: pb::Urgency::Normal,
        description: "深夜广场舞音响扰民 Loud music in the square after 22:00",
        fields: &[],
        steps: &[],
    },
    DemoTask {
        cell: G1,
        category: "garbage",
        urgency: pb::Urgency::Low,
        description: "楼道堆放杂物 Junk piled in the stairwell",
        fields: &[],
        steps: &[(Step::Accept, By::Admin, "")],
    },
    DemoTask {
        cell: G2,
        category: "garbage",
        urgency: pb::Urgency::Normal,
        description: "小区垃圾桶满溢 Overflowing bins at the compound gate",
        fields: &[],
        steps: &[(Step::Accept, By::Admin, ""), (Step::Start, By::Admin, "")],
    },
    DemoTask {
        cell: G2,
        category: "water-leak",
        urgency: pb::Urgency::Urgent,
        description: "地下管道漏水 Water main leaking under the road",
        fields: &[("meter_number", "WS-2026-0042")],
        steps: &[
            (Step::Accept, By::Admin, ""),
            (Step::Whistle("water-supply", &["housing"]), By::Admin, ""),
            (Step::CheckIn, By::Department("water-supply"), ""),
        ],
    },
    DemoTask {
        cell: G3,
        category: "road-damage",
        urgency: pb::Urgency::Normal,
        description: "人行道塌陷 Sunken pavement outside No. 3 Middle School",
        fields: &[("road_name", "东城路 Dongcheng Road")],
        steps: &[
            (Step::Whistle("housing", &[]), By::Admin, ""),
            (
                Step::Return,
                By::Department("housing"),
                "道路归交通局管理 The road is the transport bureau's",
            ),
        ],
    },
    DemoTask {
        cell: G3,
        category: "illegal-parking",
        urgency: pb::Urgency::Normal,
        description: "车辆长期占用消防通道 A car blocks the fire lane for days",
        fields: &[("licence_plate", "浙A12345")],
        steps: &[
            (Step::Whistle("public-security", &[]), By::Admin, ""),
            (Step::CheckIn, By::Department("public-security"), ""),
            (Step::ResolvePart, By::Department("public-security"), ""),
        ],
    },
    DemoTask {
        cell: G1,
        category: "noise",
        urgency: pb::Urgency::Low,
        description: "装修噪音 Renovation noise at weekends",
        fields: &[],
        steps: &[
            (Step::Accept, By::Admin, ""),
            (Step::ResolveByGrid, By::Admin, ""),
            (Step::Rate(true), By::Admin, ""),
        ],
    },
    DemoTask {
        cell: G2,
        category: "property-dispute",
        urgency: pb::Urgency::Normal,
        description: "物业费争议 Dispute over the property fee increase",
        fields: &[],
        steps: &[
            (Step::Accept, By::Admin, ""),
            (Step::ResolveByGrid, By::Admin, ""),
            (
                Step::Rate(false),
                By::Admin,
                "居民不认可调解结果 The residents reject the mediation",
            ),
        ],
    },
    DemoTask {
        cell: G3,
        category: "garbage",
        urgency: pb::Urgency::Low,
        description: "测试 test",
        fields: &[],
        steps: &[(Step::Reject, By::Centre, "恶作剧来电 Prank call")],
    },
    DemoTask {
        cell: G1,
        category: "noise",
        urgency: pb::Urgency::Normal,
        description: "广场舞噪音 Square dancing music again",
        fields: &[],
        steps: &[(Step::MergeIntoFirst, By::Admin, "")],
    },
];

/// Reports and advances the demo tasks; returns how many there are.
pub async fn load(grid: &str, mint: Mint<'_>) -> anyhow::Result<usize> {
    let mut client = TaskServiceClient::connect(grid.to_owned()).await?;
    let admin = mint(Role::CountyAdmin, None)?;
    let mut first: Option<String> = None;
    for (index, demo) in TASKS.iter().enumerate() {
        let task = pb::Task {
            cell: format!("cells/{}", demo.cell),
            category: format!("categories/{}", demo.category),
            urgency: demo.urgency as i32,
            channel: pb::Channel::Resident as i32,
            description: demo.description.to_owned(),
            fields: demo
                .fields
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            ..Default::default()
        };
        let request = pb::ReportTaskRequest {
            task: Some(task),
            reporter_contact: format!("1380000{:04}", index),
            // Fixed ids: a re-run gets the same tasks back.
            request_id: uuid_for(index),
        };
        let mut task = client
            .report_task(authorized(request, &admin)?)
            .await?
            .into_inner()
            .task
            .unwrap_or_default();
        if first.is_none() {
            first = Some(task.name.clone());
        }
        if task.version > 1 {
            // Advanced by an earlier run.
            continue;
        }
        for (step, by, reason) in demo.steps {
            task = advance(
                &mut client,
                &task,
                *step,
                *by,
                reason,
                first.as_deref().unwrap_or_default(),
                mint,
            )
            .await?;
        }
    }
    println!(
        "demo tasks: {} (reported, accepted, in progress, whistled, returned, resolved, closed, reopened, rejected, merged)",
        TASKS.len()
    );
    Ok(TASKS.len())
}

fn uuid_for(index: usize) -> String {
    format!(
        "00000000-0000-4000-8000-{:012x}",
        0xdead_0000_u64 + index as u64
    )
}

async fn advance(
    client: &mut TaskServiceClient<Channel>,
    task: &pb::Task,
    step: Step,
    by: By,
    reason: &str,
    first: &str,
    mint: Mint<'_>,
) -> anyhow::Result<pb::Task> {
    let token = match by {
        By::Admin => mint(Role::CountyAdmin, None)?,
        By::Department(department) => mint(Role::DepartmentOperator, Some(department))?,
        By::Centre => mint(Role::CommandCentre, None)?,
    };
    let own = String::new();
    let action = match step {
        Step::Accept => A::Accept(tr::Accept {}),
        Step::Start => A::Start(tr::Start {}),
        Step::ResolveByGrid => A::ResolveByGrid(tr::ResolveByGrid {}),
        Step::Whistle(lead, assisting) => A::Whistle(tr::Whistle {
            lead: format!("departments/{lead}"),
            assisting: assisting
                .iter()
                .map(|d| format!("departments/{d}"))
                .collect(),
        }),
        Step::CheckIn => A::CheckIn(tr::CheckIn { department: own }),
        Step::ResolvePart => A::ResolvePart(tr::ResolvePart { department: own }),
        Step::Return => A::Return(tr::Return { department: own }),
        Step::Rate(satisfied) => A::Rate(tr::Rate { satisfied }),
        Step::Reject => A::Reject(tr::Reject {
            kind: pb::RejectionKind::Invalid as i32,
        }),
        Step::MergeIntoFirst => A::MergeAsDuplicate(tr::MergeAsDuplicate {
            duplicate_of: first.to_owned(),
        }),
    };
    let request = pb::TransitionTaskRequest {
        name: task.name.clone(),
        etag: task.etag.clone(),
        reason: reason.to_owned(),
        action: Some(action),
    };
    Ok(client
        .transition_task(authorized(request, &token)?)
        .await?
        .into_inner()
        .task
        .unwrap_or_default())
}
