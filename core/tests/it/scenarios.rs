//! Plays every shared scenario in tests/scenarios against the mock provider over real HTTP.
//! The Python, Node and C suites play the same files; see tests/scenarios/README.md.

use crate::common::scenario::{matches, play, scenario_files, Options};
use mock_provider::MockServer;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_shared_scenario_passes() {
    let mock = MockServer::start().await.expect("mock provider starts");
    let files = scenario_files();
    assert!(!files.is_empty(), "no scenarios found");
    let mut failures = Vec::new();
    let mut steps = 0;
    for f in &files {
        match play(f, &mock, &Options::default()).await {
            Ok(n) => steps += n,
            Err(e) => failures.push(format!(
                "{}: {e}",
                f.file_name()
                    .map(|n| n.to_string_lossy())
                    .unwrap_or_default()
            )),
        }
    }
    println!("{} scenarios, {steps} steps played", files.len());
    assert!(
        failures.is_empty(),
        "scenario failures:\n{}",
        failures.join("\n")
    );
}

#[test]
fn matching_rules() {
    let v = serde_json::json!({"a": 2.0, "b": [1, {"c": "x", "d": 1}], "e": null});
    assert!(matches(
        &serde_json::json!({"a": 2, "b": [1, {"c": "x"}]}),
        Some(&v),
        ""
    )
    .is_ok());
    assert!(matches(&serde_json::json!({"b": [1]}), Some(&v), "").is_err());
    assert!(matches(
        &serde_json::json!({"z": null, "e": null, "a": "<any>"}),
        Some(&v),
        ""
    )
    .is_ok());
    assert!(matches(&serde_json::json!({"e": "<any>"}), Some(&v), "").is_err());
}
