//! The shared outbox, inbox and cell migrations live once, in
//! crates/messaging and crates/cell-tree, and the host applies them with
//! each service's own. Databases migrated when every service carried copies
//! must still validate: the merged set has the same versions and checksums.

#![allow(clippy::unwrap_used)]

use civicgrid_host::Service;
use sqlx::migrate::Migrator;

const OUTBOX: (i64, &str) = (
    20261127000000,
    "4633e115706b951f7352f8555768d41637a66c2c29f524aa3ec42c73017539979fafdaf0d70664472db3353aeb60bcf9",
);
const CELLS: (i64, &str) = (
    20261127000001,
    "165f57d4ab7b81ba3d0a4e626bde4146caaede45a599eb869522482cbafe88647e37294483be30280d5c97d5949cea8b",
);
const WAKE_RELAY: (i64, &str) = (
    20261128000000,
    "a4406a55d9d505a4eb565d317a0973f2e304c827ff588438fe081259cf4a720140d0e58664a2d37e4d759fd9595d1a44",
);

/// (version, SHA-384 of the file) of each service's migrations directory
/// before the shared copies were removed (commit dc72d53).
fn before_the_copies_went(service: &str) -> Vec<(i64, &'static str)> {
    match service {
        "grid" => vec![
            OUTBOX,
            CELLS,
            (
                20261127000002,
                "003795ff539733a3287cdcc93f1bac1bb2e54548c04aceafc7c7f1cc2d157fe6839cb4ef38b6eab6fbc8042d922f4590",
            ),
            (
                20261127010000,
                "6cfab7198b6e3daf580c18af833d34edb398b84e9fc72246a16f8dc244aada50b47ca84f4d6d00283e35b6a24a595723",
            ),
            (
                20261127020000,
                "67a1f32cfb5107b4f3a74ee49d5f58b8722eb12c8567aca8d8638352d0606a766fcde25760e5ea5cde010be81d4965f4",
            ),
            (
                20261127030000,
                "256195d5c80cb29f3669f0abaa1aa4e1def36cab7103dd3e7cdef82a911120b59b11364d3b0dc4583f3ec08eae40d57d",
            ),
            WAKE_RELAY,
        ],
        _ => vec![OUTBOX, CELLS, WAKE_RELAY],
    }
}

fn merged(sets: &[&'static Migrator]) -> Vec<(i64, String)> {
    civicgrid_host::migrator(sets)
        .unwrap()
        .iter()
        .map(|m| {
            let hex: String = m.checksum.iter().map(|b| format!("{b:02x}")).collect();
            (m.version, hex)
        })
        .collect()
}

#[test]
fn each_services_merged_migrations_keep_the_versions_and_checksums_of_its_old_copies() {
    let services: [(&str, &[&'static Migrator]); 4] = [
        ("grid", civicgrid_grid::Application::MIGRATIONS),
        ("membership", civicgrid_membership::Application::MIGRATIONS),
        ("centres", civicgrid_centres::Application::MIGRATIONS),
        ("assessment", civicgrid_assessment::Application::MIGRATIONS),
    ];
    for (service, sets) in services {
        let expected: Vec<(i64, String)> = before_the_copies_went(service)
            .into_iter()
            .map(|(v, c)| (v, c.to_owned()))
            .collect();
        // Every old migration keeps its version and checksum, in order;
        // later ones may follow.
        let merged = merged(sets);
        assert_eq!(
            merged[..expected.len().min(merged.len())],
            expected,
            "{service}"
        );
    }
}

#[test]
fn no_service_carries_a_copy_of_a_shared_migration() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let shared: Vec<i64> = civicgrid_messaging::MIGRATOR
        .iter()
        .chain(civicgrid_cell_tree::MIGRATOR.iter())
        .map(|m| m.version)
        .collect();
    for entry in civicgrid_host::catalog::services().unwrap() {
        let dir = root.join("services").join(entry.name).join("migrations");
        let Ok(files) = std::fs::read_dir(&dir) else {
            continue;
        };
        for file in files {
            let name = file.unwrap().file_name().into_string().unwrap();
            let version: i64 = name.split('_').next().unwrap().parse().unwrap();
            assert!(
                !shared.contains(&version),
                "{} copies shared migration {name}",
                dir.display()
            );
        }
    }
}
