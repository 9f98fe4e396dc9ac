//! The official SARIF 2.1.0 schema, as shipped inside the serde-sarif package (found through
//! `cargo metadata`), compiled into a validator.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

pub fn sarif_schema() -> jsonschema::Validator {
    let meta = Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1"])
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")))
        .output()
        .unwrap();
    let meta: Value = serde_json::from_slice(&meta.stdout).unwrap();
    let manifest = meta["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "serde-sarif")
        .and_then(|p| p["manifest_path"].as_str())
        .expect("serde-sarif is a dev-dependency");
    let schema_path = Path::new(manifest).parent().unwrap().join("src/schema.json");
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(schema_path).unwrap()).unwrap();
    jsonschema::validator_for(&schema).unwrap()
}
