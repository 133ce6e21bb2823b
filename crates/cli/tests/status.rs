//! `civicgrid status` end to end: the built binary against the four
//! services running in this process (each with its own database, on the
//! real broker), then with a service that is not there and a dead letter.

#![allow(clippy::unwrap_used)]

use std::process::{Command, Output};
use std::time::Duration;

use civicgrid_e2e::{County, Workers};
use civicgrid_runtime::auth::Role;
use civicgrid_testkit::{TestKeys, eventually};
use lapin::BasicProperties;
use lapin::options::BasicPublishOptions;

fn status(county: &County, extra: &[&str]) -> Output {
    let token = TestKeys::get().token(&[Role::ReadOnlyAnalyst], &["*"], None);
    let mut command = Command::new(env!("CARGO_BIN_EXE_civicgrid"));
    command.args(["status", "--timeout", "3", "--token", &token]);
    for service in county.all() {
        command.args([
            "--service",
            &format!("{}=http://{}", service.name, service.addr),
        ]);
    }
    command.args(extra).output().unwrap()
}

fn json_of(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout).unwrap()
}

/// Waits until every consumer is attached (they attach after catching up).
async fn all_healthy(county: &County) -> serde_json::Value {
    eventually(Duration::from_secs(60), "every service healthy", || async {
        let output = status(county, &["--output", "json"]);
        output.status.success().then(|| json_of(&output))
    })
    .await
}

/// A port nothing listens on: a stopped service.
fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

// Multi-threaded: the services in this process must answer while a test
// thread waits for the binary.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_lists_every_service_and_subscription_and_exits_zero_when_all_are_healthy() {
    let county = County::start(Workers::Background).await;
    let report = all_healthy(&county).await;

    assert_eq!(report["healthy"], true);
    let services = report["services"].as_array().unwrap();
    let names: Vec<&str> = services
        .iter()
        .map(|s| s["service"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["grid", "membership", "centres", "assessment"]);
    for service in services {
        assert_eq!(service["health"], "SERVING", "{service}");
        assert_eq!(service["outbox_backlog"], 0, "{service}");
    }
    // Every replica's grid-cells subscription is listed with its queue and
    // a consumer attached.
    for service in &services[1..] {
        let subscriptions = service["subscriptions"].as_array().unwrap();
        let cells = subscriptions
            .iter()
            .find(|s| s["subscription"] == "grid-cells")
            .unwrap_or_else(|| panic!("no grid-cells in {service}"));
        assert_eq!(cells["consumers"], 1, "{service}");
        assert_eq!(cells["dead_letters"], 0, "{service}");
        assert!(cells["queue"].as_str().unwrap().ends_with(".grid-cells"));
    }

    let table = status(&county, &[]);
    assert!(table.status.success());
    let text = String::from_utf8(table.stdout).unwrap();
    assert!(text.starts_with("SERVICE"), "{text}");
    for name in ["grid", "membership", "centres", "assessment"] {
        assert!(
            text.lines()
                .any(|l| l.starts_with(name) && l.contains("SERVING")),
            "{text}"
        );
    }
    assert!(
        text.contains("SUBSCRIPTION") && text.contains("DEAD LETTERS"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_exits_one_and_names_the_address_when_a_service_is_stopped() {
    let county = County::start(Workers::Background).await;
    all_healthy(&county).await;
    let stopped = format!("http://127.0.0.1:{}", closed_port());

    let output = status(&county, &["--service", &format!("ghost={stopped}")]);

    assert_eq!(output.status.code(), Some(1));
    let text = String::from_utf8(output.stdout).unwrap();
    let ghost = text.lines().find(|l| l.starts_with("ghost")).unwrap();
    assert!(ghost.contains("UNREACHABLE"), "{ghost}");
    assert!(
        ghost.contains(&format!("cannot reach ghost at {stopped}")),
        "{ghost}"
    );
    // The healthy ones are still reported.
    assert!(
        text.lines()
            .any(|l| l.starts_with("grid") && l.contains("SERVING")),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_letter_is_counted_and_fails_the_status_only_when_asked_to() {
    let county = County::start(Workers::Background).await;
    all_healthy(&county).await;
    let assessment = county
        .replicas
        .iter()
        .find(|r| r.name == "assessment")
        .unwrap();
    let queue = assessment.cell_consumer().queue_name().to_owned();
    let connection = lapin::Connection::connect(&county.broker.url, Default::default())
        .await
        .unwrap();
    let channel = connection.create_channel().await.unwrap();
    channel
        .basic_publish(
            "".into(),
            format!("{queue}.dlq").as_str().into(),
            BasicPublishOptions::default(),
            b"not an event",
            BasicProperties::default(),
        )
        .await
        .unwrap()
        .await
        .unwrap();

    let report = eventually(
        Duration::from_secs(20),
        "the dead letter counted",
        || async {
            let report = json_of(&status(&county, &["--output", "json"]));
            let dead = report["services"][3]["subscriptions"]
                .as_array()
                .unwrap()
                .iter()
                .find(|s| s["subscription"] == "grid-cells")
                .map(|s| s["dead_letters"].clone());
            (dead == Some(serde_json::json!(1))).then_some(report)
        },
    )
    .await;
    assert_eq!(report["healthy"], true);
    assert!(status(&county, &[]).status.success());
    assert_eq!(
        status(&county, &["--fail-on-dead-letters"]).status.code(),
        Some(1)
    );
}
