//! Derived OCSF attributes: once a mapping that declares `ocsf_class` has run, the attributes
//! that follow from the class and from the mapped ids are filled in when the mapping did not
//! write them: `class_uid`, `category_uid`, `type_uid` (= class_uid × 100 + activity_id), the
//! captions `class_name`, `category_name`, `activity_name`, `type_name`, `severity` and
//! `status`, and `metadata.version`. Classification attributes are then moved to the front.

use serde_json::{Map, Value};

use super::ocsf::{OcsfClass, schema};

/// Classification attributes, in the order they lead the event.
const LEADING: &[&str] = &[
    "class_uid",
    "class_name",
    "category_uid",
    "category_name",
    "activity_id",
    "activity_name",
    "type_uid",
    "type_name",
    "severity_id",
    "severity",
];

/// Fills the derived attributes of `class` into `event`.
pub(crate) fn fill(class: OcsfClass, event: &mut Map<String, Value>) {
    let schema = schema();
    let Some(definition) = schema.classes.get(class.name()) else {
        return;
    };
    let set_default = |event: &mut Map<String, Value>, key: &str, value: Value| {
        event.entry(key.to_owned()).or_insert(value);
    };
    set_default(event, "class_uid", Value::from(definition.uid));
    set_default(event, "class_name", Value::from(definition.caption.clone()));
    set_default(event, "category_uid", Value::from(definition.category_uid));
    set_default(
        event,
        "category_name",
        Value::from(definition.category.clone()),
    );
    if let Some(activity) = event.get("activity_id").and_then(Value::as_i64) {
        if let Some(caption) = schema.activity_caption(definition, activity) {
            set_default(event, "activity_name", Value::from(caption));
            set_default(
                event,
                "type_name",
                Value::from(format!("{}: {caption}", definition.caption)),
            );
        }
        if let Some(class_uid) = event.get("class_uid").and_then(Value::as_i64)
            && let Some(type_uid) = class_uid
                .checked_mul(100)
                .and_then(|b| b.checked_add(activity))
        {
            set_default(event, "type_uid", Value::from(type_uid));
        }
    }
    if let Some(severity) = event.get("severity_id").and_then(Value::as_i64)
        && let Some(caption) = schema.enum_caption("severity_id", severity)
    {
        set_default(event, "severity", Value::from(caption));
    }
    let status_enum = if class == OcsfClass::DetectionFinding {
        "finding_status_id"
    } else {
        "status_id"
    };
    if let Some(status) = event.get("status_id").and_then(Value::as_i64)
        && let Some(caption) = schema.enum_caption(status_enum, status)
    {
        set_default(event, "status", Value::from(caption));
    }
    if let Value::Object(metadata) = event
        .entry("metadata")
        .or_insert_with(|| Value::Object(Map::new()))
    {
        metadata
            .entry("version")
            .or_insert_with(|| Value::from(schema.version.clone()));
    }
    lead_with_classification(event);
}

fn lead_with_classification(event: &mut Map<String, Value>) {
    let mut ordered = Map::new();
    for key in LEADING {
        if let Some(value) = event.shift_remove(*key) {
            ordered.insert((*key).to_owned(), value);
        }
    }
    ordered.append(event);
    *event = ordered;
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fills_ids_and_captions_without_overwriting() {
        let mut event =
            json!({"severity_id": 4, "activity_id": 1, "status_id": 2, "class_name": "Mine"})
                .as_object()
                .cloned()
                .unwrap();
        fill(OcsfClass::Authentication, &mut event);
        assert_eq!(
            Value::Object(event),
            json!({
                "class_uid": 3002, "class_name": "Mine", "category_uid": 3,
                "category_name": "Identity & Access Management",
                "activity_id": 1, "activity_name": "Logon",
                "type_uid": 300201, "type_name": "Authentication: Logon",
                "severity_id": 4, "severity": "High",
                "status_id": 2, "status": "Failure",
                "metadata": {"version": "1.5.0"}
            })
        );
    }
}
