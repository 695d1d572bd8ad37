//! The JSON Schema of the playbook format, generated from the types so that it cannot drift
//! from what the loader accepts. Editors use it for completion and checking as authors type;
//! `docs/playbook.schema.json` is a committed copy, kept current by a test.

use serde_json::Value;

use crate::playbook::Playbook;

/// Where the schema is published in the repository.
pub const SCHEMA_ID: &str =
    "https://raw.githubusercontent.com/muster-soar/muster/main/docs/playbook.schema.json";

pub(crate) fn generate() -> Value {
    let schema = schemars::schema_for!(Playbook);
    let mut value = schema.to_value();
    if let Value::Object(map) = &mut value {
        // Put `$id` right after `$schema`, where readers look for it.
        let mut ordered = serde_json::Map::new();
        if let Some(draft) = map.remove("$schema") {
            ordered.insert("$schema".to_string(), draft);
        }
        ordered.insert("$id".to_string(), Value::String(SCHEMA_ID.to_string()));
        ordered.append(map);
        *map = ordered;
    }
    value
}
