//! The OCSF schema subset, loaded from the compiled-in `schema.yaml`.
//!
//! Keeping the schema as data (rather than as Rust types) lets the validator, the derived
//! captions and the documentation share one source, and lets the schema grow without code.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::OnceLock;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};

const SCHEMA_YAML: &str = include_str!("schema.yaml");

/// Whether an attribute must be present.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Requirement {
    Required,
    Recommended,
    Optional,
}

/// What values an attribute takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Kind {
    String,
    Int,
    Long,
    Float,
    Bool,
    Timestamp,
    Datetime,
    Ip,
    Port,
    Email,
    Mac,
    Json,
    Object(String),
}

/// One attribute of a class or object.
#[derive(Debug, Clone)]
pub(crate) struct Attribute {
    pub(crate) kind: Kind,
    pub(crate) array: bool,
    pub(crate) requirement: Requirement,
    pub(crate) enumeration: Option<String>,
}

/// An OCSF object.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ObjectDef {
    #[serde(default)]
    pub(crate) complete: bool,
    #[serde(default)]
    pub(crate) at_least_one: Vec<String>,
    pub(crate) attributes: BTreeMap<String, Attribute>,
}

/// An OCSF event class.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ClassDef {
    pub(crate) uid: i64,
    pub(crate) caption: String,
    pub(crate) category_uid: i64,
    pub(crate) category: String,
    pub(crate) groups: Vec<String>,
    pub(crate) activities: BTreeMap<i64, String>,
    #[serde(default)]
    pub(crate) at_least_one: Vec<String>,
    pub(crate) attributes: BTreeMap<String, Attribute>,
}

/// The whole schema.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Schema {
    pub(crate) version: String,
    pub(crate) enums: BTreeMap<String, BTreeMap<i64, String>>,
    pub(crate) objects: BTreeMap<String, ObjectDef>,
    pub(crate) groups: BTreeMap<String, BTreeMap<String, Attribute>>,
    pub(crate) classes: BTreeMap<String, ClassDef>,
}

impl Schema {
    /// The class's own attributes merged over those of its groups.
    pub(crate) fn class_attributes(&self, class: &ClassDef) -> BTreeMap<String, Attribute> {
        let mut merged = BTreeMap::new();
        for group in &class.groups {
            if let Some(attributes) = self.groups.get(group) {
                merged.extend(attributes.iter().map(|(k, v)| (k.clone(), v.clone())));
            }
        }
        merged.extend(class.attributes.iter().map(|(k, v)| (k.clone(), v.clone())));
        merged
    }

    /// The caption of `id` in the named enum (with 0 Unknown and 99 Other always present).
    pub(crate) fn enum_caption(&self, name: &str, id: i64) -> Option<&str> {
        match self.enums.get(name)?.get(&id) {
            Some(caption) => Some(caption),
            None if id == 0 => Some("Unknown"),
            None if id == 99 => Some("Other"),
            None => None,
        }
    }

    /// The caption of an activity of a class (0 Unknown and 99 Other included).
    pub(crate) fn activity_caption<'a>(&self, class: &'a ClassDef, id: i64) -> Option<&'a str> {
        match class.activities.get(&id) {
            Some(caption) => Some(caption),
            None if id == 0 => Some("Unknown"),
            None if id == 99 => Some("Other"),
            None => None,
        }
    }

    /// Checks that every referenced object, group and enum exists.
    fn check(&self) -> Result<(), String> {
        let check_attributes = |owner: &str, attributes: &BTreeMap<String, Attribute>| {
            for (name, attribute) in attributes {
                if let Kind::Object(object) = &attribute.kind
                    && !self.objects.contains_key(object)
                {
                    return Err(format!("{owner}.{name}: unknown object `{object}`"));
                }
                if let Some(enumeration) = &attribute.enumeration
                    && !self.enums.contains_key(enumeration)
                {
                    return Err(format!("{owner}.{name}: unknown enum `{enumeration}`"));
                }
            }
            Ok(())
        };
        for (name, object) in &self.objects {
            check_attributes(name, &object.attributes)?;
        }
        for (name, group) in &self.groups {
            check_attributes(name, group)?;
        }
        for (name, class) in &self.classes {
            check_attributes(name, &class.attributes)?;
            for group in &class.groups {
                if !self.groups.contains_key(group) {
                    return Err(format!("{name}: unknown group `{group}`"));
                }
            }
        }
        Ok(())
    }
}

/// The compiled-in schema. It is part of the crate, and a test loads it, so failing to read it
/// is a build defect rather than a runtime condition.
pub(crate) fn schema() -> &'static Schema {
    static SCHEMA: OnceLock<Schema> = OnceLock::new();
    SCHEMA.get_or_init(|| match load(SCHEMA_YAML) {
        Ok(schema) => schema,
        Err(error) => panic!("the compiled-in OCSF schema is invalid: {error}"),
    })
}

fn load(text: &str) -> Result<Schema, String> {
    let schema: Schema = serde_saphyr::from_str(text).map_err(|error| error.to_string())?;
    schema.check()?;
    Ok(schema)
}

impl Attribute {
    fn parse_shorthand(text: &str) -> Result<Self, String> {
        let mut words = text.split_whitespace();
        let type_word = words.next().ok_or("empty attribute type")?;
        let requirement = match words.next() {
            None => Requirement::Optional,
            Some(word) => parse_requirement(word)?,
        };
        if let Some(extra) = words.next() {
            return Err(format!("unexpected `{extra}` in attribute `{text}`"));
        }
        let (kind, array) = parse_type(type_word);
        Ok(Attribute {
            kind,
            array,
            requirement,
            enumeration: None,
        })
    }
}

fn parse_requirement(word: &str) -> Result<Requirement, String> {
    match word {
        "required" => Ok(Requirement::Required),
        "recommended" => Ok(Requirement::Recommended),
        "optional" => Ok(Requirement::Optional),
        other => Err(format!("unknown requirement `{other}`")),
    }
}

fn parse_type(word: &str) -> (Kind, bool) {
    let (name, array) = match word.strip_suffix("[]") {
        Some(name) => (name, true),
        None => (word, false),
    };
    let kind = match name {
        "string" => Kind::String,
        "int" => Kind::Int,
        "long" => Kind::Long,
        "float" => Kind::Float,
        "bool" => Kind::Bool,
        "timestamp" => Kind::Timestamp,
        "datetime" => Kind::Datetime,
        "ip" => Kind::Ip,
        "port" => Kind::Port,
        "email" => Kind::Email,
        "mac" => Kind::Mac,
        "json" => Kind::Json,
        object => Kind::Object(object.to_owned()),
    };
    (kind, array)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AttributeBody {
    #[serde(rename = "type")]
    type_name: String,
    #[serde(default)]
    requirement: Option<String>,
    #[serde(default, rename = "enum")]
    enumeration: Option<String>,
}

impl<'de> Deserialize<'de> for Attribute {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct AttributeVisitor;
        impl<'de> Visitor<'de> for AttributeVisitor {
            type Value = Attribute;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("\"TYPE [requirement]\" or {type, requirement, enum}")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Attribute, E> {
                Attribute::parse_shorthand(v).map_err(E::custom)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Attribute, A::Error> {
                let body = AttributeBody::deserialize(de::value::MapAccessDeserializer::new(map))?;
                let (kind, array) = parse_type(&body.type_name);
                let requirement = match body.requirement.as_deref() {
                    None => Requirement::Optional,
                    Some(word) => parse_requirement(word).map_err(de::Error::custom)?,
                };
                Ok(Attribute {
                    kind,
                    array,
                    requirement,
                    enumeration: body.enumeration,
                })
            }
        }
        deserializer.deserialize_any(AttributeVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_compiled_in_schema_loads_and_is_consistent() {
        let schema = load(SCHEMA_YAML).unwrap();
        assert_eq!(schema.classes.len(), 5);
        let finding = &schema.classes["detection_finding"];
        assert_eq!(finding.uid, 2004);
        let attributes = schema.class_attributes(finding);
        assert_eq!(
            attributes["finding_info"].requirement,
            Requirement::Required
        );
        assert_eq!(attributes["time"].kind, Kind::Timestamp);
        assert_eq!(schema.enum_caption("severity_id", 4), Some("High"));
        assert_eq!(schema.enum_caption("severity_id", 42), None);
    }
}
