//! The OCSF validator: walks a normalised event along the schema.
//!
//! Work is bounded: nesting is followed to a fixed depth and the number of findings is capped,
//! so a hostile or runaway event costs at most one pass over its values.

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde_json::{Map, Value};

use super::schema::{Attribute, Kind, Requirement, Schema, schema};
use super::{Finding, OcsfClass, Problem};
use crate::normalize::path::json_type;

/// Deepest object nesting followed.
const MAX_DEPTH: usize = 24;
/// Findings reported at most.
const MAX_FINDINGS: usize = 500;

struct Checker<'s> {
    schema: &'s Schema,
    findings: Vec<Finding>,
}

pub(crate) fn validate(class: OcsfClass, event: &Value) -> Vec<Finding> {
    let schema = schema();
    let mut checker = Checker {
        schema,
        findings: Vec::new(),
    };
    let Some(definition) = schema.classes.get(class.name()) else {
        return Vec::new();
    };
    let Value::Object(object) = event else {
        checker.report("", wrong_type("an object", event));
        return checker.findings;
    };
    let attributes = schema.class_attributes(definition);
    checker.check_object("", object, &attributes, &definition.at_least_one, true, 0);
    checker.check_classification(definition, object);
    checker.findings
}

fn wrong_type(expected: &str, found: &Value) -> Problem {
    Problem::WrongType {
        expected: expected.to_owned(),
        found: json_type(found).to_owned(),
    }
}

fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_owned()
    } else {
        format!("{path}.{name}")
    }
}

impl Checker<'_> {
    fn report(&mut self, path: &str, problem: Problem) {
        if self.findings.len() < MAX_FINDINGS {
            self.findings.push(Finding {
                path: path.to_owned(),
                problem,
            });
        }
    }

    fn check_object(
        &mut self,
        path: &str,
        object: &Map<String, Value>,
        attributes: &BTreeMap<String, Attribute>,
        at_least_one: &[String],
        complete: bool,
        depth: usize,
    ) {
        if depth > MAX_DEPTH {
            self.report(path, Problem::TooDeep);
            return;
        }
        for (name, attribute) in attributes {
            match object.get(name) {
                None | Some(Value::Null) => {
                    if attribute.requirement == Requirement::Required {
                        self.report(&join(path, name), Problem::MissingRequired);
                    }
                }
                Some(value) => self.check_attribute(&join(path, name), value, attribute, depth),
            }
        }
        if !at_least_one.is_empty()
            && !at_least_one
                .iter()
                .any(|name| object.get(name).is_some_and(|value| !value.is_null()))
        {
            self.report(path, Problem::NoneOf(at_least_one.to_vec()));
        }
        if complete {
            for name in object.keys() {
                if !attributes.contains_key(name) {
                    self.report(&join(path, name), Problem::UnknownAttribute);
                }
            }
        }
    }

    fn check_attribute(&mut self, path: &str, value: &Value, attribute: &Attribute, depth: usize) {
        if !attribute.array {
            self.check_value(path, value, attribute, depth);
            return;
        }
        let Value::Array(items) = value else {
            self.report(path, wrong_type("an array", value));
            return;
        };
        for (index, item) in items.iter().enumerate() {
            if self.findings.len() >= MAX_FINDINGS {
                return;
            }
            self.check_value(&format!("{path}[{index}]"), item, attribute, depth);
        }
    }

    fn check_value(&mut self, path: &str, value: &Value, attribute: &Attribute, depth: usize) {
        let ok = match &attribute.kind {
            Kind::Json => true,
            Kind::String => value.is_string(),
            Kind::Int | Kind::Long | Kind::Timestamp => value.is_i64() || value.is_u64(),
            Kind::Float => value.is_number(),
            Kind::Bool => value.is_boolean(),
            Kind::Datetime => value
                .as_str()
                .is_some_and(|text| chrono::DateTime::parse_from_rfc3339(text).is_ok()),
            Kind::Ip => value
                .as_str()
                .is_some_and(|text| text.parse::<IpAddr>().is_ok()),
            Kind::Port => value.as_u64().is_some_and(|port| port <= 65_535),
            Kind::Email => value.as_str().is_some_and(|text| {
                text.split_once('@')
                    .is_some_and(|(l, d)| !l.is_empty() && !d.is_empty())
            }),
            Kind::Mac => value.as_str().is_some_and(is_mac),
            Kind::Object(name) => {
                let Some(definition) = self.schema.objects.get(name) else {
                    return;
                };
                let Value::Object(object) = value else {
                    self.report(path, wrong_type(&format!("a {name} object"), value));
                    return;
                };
                self.check_object(
                    path,
                    object,
                    &definition.attributes,
                    &definition.at_least_one,
                    definition.complete,
                    depth + 1,
                );
                return;
            }
        };
        if !ok {
            self.report(path, wrong_type(kind_name(&attribute.kind), value));
            return;
        }
        if let (Some(enumeration), Some(id)) = (&attribute.enumeration, value.as_i64())
            && self.schema.enum_caption(enumeration, id).is_none()
        {
            self.report(
                path,
                Problem::NotInEnum {
                    value: id,
                    enumeration: enumeration.clone(),
                },
            );
        }
    }

    fn check_classification(
        &mut self,
        definition: &super::schema::ClassDef,
        object: &Map<String, Value>,
    ) {
        let expect = |checker: &mut Self, name: &str, expected: i64| {
            if let Some(found) = object.get(name).and_then(Value::as_i64)
                && found != expected
            {
                checker.report(
                    name,
                    Problem::WrongValue {
                        expected: expected.to_string(),
                        found: found.to_string(),
                    },
                );
            }
        };
        expect(self, "class_uid", definition.uid);
        expect(self, "category_uid", definition.category_uid);
        if let Some(activity) = object.get("activity_id").and_then(Value::as_i64) {
            if self.schema.activity_caption(definition, activity).is_none() {
                self.report(
                    "activity_id",
                    Problem::NotInEnum {
                        value: activity,
                        enumeration: format!("{} activities", definition.caption),
                    },
                );
            }
            if let Some(type_uid) = definition
                .uid
                .checked_mul(100)
                .and_then(|base| base.checked_add(activity))
            {
                expect(self, "type_uid", type_uid);
            }
        }
    }
}

fn kind_name(kind: &Kind) -> &'static str {
    match kind {
        Kind::String => "a string",
        Kind::Int | Kind::Long => "an integer",
        Kind::Float => "a number",
        Kind::Bool => "a boolean",
        Kind::Timestamp => "a timestamp (integer milliseconds since the epoch)",
        Kind::Datetime => "an RFC 3339 date-time",
        Kind::Ip => "an IP address",
        Kind::Port => "a port number (0-65535)",
        Kind::Email => "an email address",
        Kind::Mac => "a MAC address",
        Kind::Json | Kind::Object(_) => "a value",
    }
}

fn is_mac(text: &str) -> bool {
    let parts: Vec<&str> = text.split([':', '-']).collect();
    (parts.len() == 6 || parts.len() == 8)
        && parts
            .iter()
            .all(|part| part.len() == 2 && part.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn minimal_finding() -> Value {
        json!({
            "class_uid": 2004, "category_uid": 2, "activity_id": 1, "type_uid": 200401,
            "severity_id": 4, "time": 1705314093000_i64,
            "metadata": {"version": "1.5.0", "product": {"name": "Suricata"}},
            "finding_info": {"uid": "x-1", "title": "ET SCAN"}
        })
    }

    #[test]
    fn a_minimal_valid_event_has_no_findings() {
        assert_eq!(
            validate(OcsfClass::DetectionFinding, &minimal_finding()),
            vec![]
        );
    }

    #[test]
    fn reports_missing_wrong_and_unknown() {
        let mut event = minimal_finding();
        event["finding_info"].as_object_mut().unwrap().remove("uid");
        event["severity_id"] = json!(7);
        event["time"] = json!("2024-01-15T10:21:33Z");
        event["type_uid"] = json!(200402);
        event["evidences"] = json!([{"src_endpoint": {"ip": "10.0.0.300", "port": 70000}}]);
        event["metadata"]["product"] = json!({});
        event["finding_info"]["titel"] = json!("typo");
        let findings: Vec<String> = validate(OcsfClass::DetectionFinding, &event)
            .iter()
            .map(ToString::to_string)
            .collect();
        let expected = [
            "`evidences[0].src_endpoint.ip` should be an IP address, found a string",
            "`evidences[0].src_endpoint.port` should be a port number (0-65535), found a number",
            "`finding_info.uid` is required but missing",
            "`finding_info.titel` is not an attribute of this object",
            "`metadata.product` needs at least one of: name, uid",
            "`severity_id` is 7, which is not a value of severity_id",
            "`time` should be a timestamp (integer milliseconds since the epoch), found a string",
            "`type_uid` should be 200401, found 200402",
        ];
        for line in expected {
            assert!(
                findings.contains(&line.to_owned()),
                "missing {line:?} in {findings:#?}"
            );
        }
        assert_eq!(findings.len(), expected.len(), "{findings:#?}");
    }

    #[test]
    fn an_empty_object_lists_every_required_attribute() {
        let findings = validate(OcsfClass::ProcessActivity, &json!({}));
        let missing: Vec<&str> = findings
            .iter()
            .filter(|f| f.is_missing_required())
            .map(|f| f.path.as_str())
            .collect();
        for name in [
            "activity_id",
            "actor",
            "category_uid",
            "class_uid",
            "device",
            "metadata",
            "process",
            "severity_id",
            "time",
            "type_uid",
        ] {
            assert!(missing.contains(&name), "{name} not reported: {missing:?}");
        }
        assert_eq!(validate(OcsfClass::EmailActivity, &json!([1]))[0].path, "");
    }

    #[test]
    fn deep_nesting_is_cut_off() {
        let mut process = json!({"pid": 1});
        for _ in 0..100 {
            process = json!({"pid": 1, "parent_process": process});
        }
        let event = json!({"process": process});
        let findings = validate(OcsfClass::ProcessActivity, &event);
        assert!(findings.iter().any(|f| f.problem == Problem::TooDeep));
    }
}
