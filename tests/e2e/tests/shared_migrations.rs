//! The outbox, inbox and cell tables are owned by shared crates and copied
//! into each service's migrations; the copies must never drift.

#![allow(clippy::unwrap_used)]

use std::path::Path;

#[test]
fn every_service_carries_identical_copies_of_the_shared_migrations() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    for owner in ["crates/messaging/migrations", "crates/cell-tree/migrations"] {
        for file in std::fs::read_dir(root.join(owner)).unwrap() {
            let file = file.unwrap();
            let original = std::fs::read_to_string(file.path()).unwrap();
            for service in ["grid", "membership", "centres", "assessment"] {
                let copy = root
                    .join("services")
                    .join(service)
                    .join("migrations")
                    .join(file.file_name());
                let copy = std::fs::read_to_string(&copy)
                    .unwrap_or_else(|_| panic!("{} is missing", copy.display()));
                assert_eq!(
                    copy,
                    original,
                    "services/{service} has a drifted copy of {owner}/{:?}",
                    file.file_name()
                );
            }
        }
    }
}
