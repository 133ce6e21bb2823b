//! The binary's configuration: the shared keys only, plus none of its own.

#[test]
fn a_grid_only_key_or_an_unknown_key_stops_the_service_naming_the_key() {
    for (key, value, named) in [
        ("CIVICGRID_DATA_KEY_PATH", "/keys/data.key", "data_key_path"),
        (
            "CIVICGRID_SUPERVISION_SWEEP_INTERVAL_MS",
            "1000",
            "supervision_sweep_interval_ms",
        ),
        ("CIVICGRID_GRPC_ADRESS", "127.0.0.1:1", "grpc_adress"),
        ("CIVICGRID_DELIVERY_LIMIT", "-3", "delivery_limit"),
    ] {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_civicgrid-assessment"))
            .env(key, value)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{key}={value}: {stderr}");
        assert!(
            stderr.to_lowercase().contains(named),
            "{key}={value}: {stderr}"
        );
    }
}
