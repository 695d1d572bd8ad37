//! The OCSF target schema: the event classes Muster normalises to, and a validator that says
//! what a normalised event lacks or has wrong.
//!
//! Covered classes: Process Activity (1007), Detection Finding (2004), Authentication (3002),
//! Network Activity (4001) and Email Activity (4009), with the objects they use. The schema is
//! data (`ocsf/schema.yaml`), aligned with OCSF 1.x.

mod schema;
mod validate;

use std::fmt;
use std::str::FromStr;

use serde::de::{self, Deserialize, Deserializer, Visitor};
use serde_json::Value;

pub(crate) use schema::schema;

/// An OCSF event class covered by the schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OcsfClass {
    /// Process Activity (1007), System Activity category.
    ProcessActivity,
    /// Detection Finding (2004), Findings category.
    DetectionFinding,
    /// Authentication (3002), Identity & Access Management category.
    Authentication,
    /// Network Activity (4001), Network Activity category.
    NetworkActivity,
    /// Email Activity (4009), Network Activity category.
    EmailActivity,
}

impl OcsfClass {
    /// Every covered class.
    pub const ALL: [OcsfClass; 5] = [
        OcsfClass::ProcessActivity,
        OcsfClass::DetectionFinding,
        OcsfClass::Authentication,
        OcsfClass::NetworkActivity,
        OcsfClass::EmailActivity,
    ];

    /// The class's `class_uid`.
    pub fn uid(self) -> u32 {
        match self {
            OcsfClass::ProcessActivity => 1007,
            OcsfClass::DetectionFinding => 2004,
            OcsfClass::Authentication => 3002,
            OcsfClass::NetworkActivity => 4001,
            OcsfClass::EmailActivity => 4009,
        }
    }

    /// The class's snake_case name (`detection_finding`).
    pub fn name(self) -> &'static str {
        match self {
            OcsfClass::ProcessActivity => "process_activity",
            OcsfClass::DetectionFinding => "detection_finding",
            OcsfClass::Authentication => "authentication",
            OcsfClass::NetworkActivity => "network_activity",
            OcsfClass::EmailActivity => "email_activity",
        }
    }

    /// The class's caption (`Detection Finding`).
    pub fn caption(self) -> &'static str {
        match self {
            OcsfClass::ProcessActivity => "Process Activity",
            OcsfClass::DetectionFinding => "Detection Finding",
            OcsfClass::Authentication => "Authentication",
            OcsfClass::NetworkActivity => "Network Activity",
            OcsfClass::EmailActivity => "Email Activity",
        }
    }

    /// The class with this `class_uid`.
    pub fn from_uid(uid: u64) -> Option<Self> {
        OcsfClass::ALL
            .into_iter()
            .find(|class| u64::from(class.uid()) == uid)
    }
}

impl fmt::Display for OcsfClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for OcsfClass {
    type Err = String;

    /// Accepts the name (`detection_finding`), the caption (`Detection Finding`) or the uid.
    fn from_str(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if let Ok(uid) = text.parse::<u64>() {
            return OcsfClass::from_uid(uid).ok_or_else(|| unknown_class(text));
        }
        OcsfClass::ALL
            .into_iter()
            .find(|class| class.name() == text || class.caption().eq_ignore_ascii_case(text))
            .ok_or_else(|| unknown_class(text))
    }
}

fn unknown_class(text: &str) -> String {
    let known: Vec<String> = OcsfClass::ALL
        .iter()
        .map(|class| format!("{} ({})", class.name(), class.uid()))
        .collect();
    format!("unknown OCSF class `{text}`; known: {}", known.join(", "))
}

impl<'de> Deserialize<'de> for OcsfClass {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ClassVisitor;
        impl Visitor<'_> for ClassVisitor {
            type Value = OcsfClass;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an OCSF class name or class_uid")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<OcsfClass, E> {
                v.parse().map_err(E::custom)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<OcsfClass, E> {
                OcsfClass::from_uid(v).ok_or_else(|| E::custom(unknown_class(&v.to_string())))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<OcsfClass, E> {
                u64::try_from(v)
                    .ok()
                    .and_then(OcsfClass::from_uid)
                    .ok_or_else(|| E::custom(unknown_class(&v.to_string())))
            }
        }
        deserializer.deserialize_any(ClassVisitor)
    }
}

/// One problem the validator found in a normalised event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Where: a path like `evidences[0].src_endpoint.ip` (empty for the event itself).
    pub path: String,
    /// What.
    pub problem: Problem,
}

/// The kinds of problem the validator reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// A required attribute is absent or null.
    MissingRequired,
    /// None of a group of attributes is present, but OCSF wants at least one of them.
    NoneOf(Vec<String>),
    /// The value has the wrong type.
    WrongType {
        /// The OCSF type expected.
        expected: String,
        /// The JSON type found.
        found: String,
    },
    /// An enum attribute holds an id the enum does not define.
    NotInEnum {
        /// The id found.
        value: i64,
        /// The enum's name.
        enumeration: String,
    },
    /// A classification attribute disagrees with the class (`class_uid`, `type_uid`, …).
    WrongValue {
        /// The value the class implies.
        expected: String,
        /// The value found.
        found: String,
    },
    /// An attribute the schema does not define, in an object whose attributes are all known.
    /// Not an error in itself (vendors extend OCSF), but usually a misspelt target field.
    UnknownAttribute,
    /// The event nests deeper than the validator follows.
    TooDeep,
}

impl Finding {
    /// Whether this is a required attribute that is missing.
    pub fn is_missing_required(&self) -> bool {
        matches!(self.problem, Problem::MissingRequired | Problem::NoneOf(_))
    }

    /// Whether the event is invalid OCSF because of this finding (unknown attributes are not).
    pub fn is_error(&self) -> bool {
        !matches!(self.problem, Problem::UnknownAttribute)
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let place = if self.path.is_empty() {
            "the event".to_owned()
        } else {
            format!("`{}`", self.path)
        };
        match &self.problem {
            Problem::MissingRequired => write!(f, "{place} is required but missing"),
            Problem::NoneOf(names) => {
                write!(f, "{place} needs at least one of: {}", names.join(", "))
            }
            Problem::WrongType { expected, found } => {
                write!(f, "{place} should be {expected}, found {found}")
            }
            Problem::NotInEnum { value, enumeration } => {
                write!(
                    f,
                    "{place} is {value}, which is not a value of {enumeration}"
                )
            }
            Problem::WrongValue { expected, found } => {
                write!(f, "{place} should be {expected}, found {found}")
            }
            Problem::UnknownAttribute => write!(f, "{place} is not an attribute of this object"),
            Problem::TooDeep => write!(f, "{place} nests too deeply to check"),
        }
    }
}

/// Checks `event` against the OCSF class: missing required attributes, wrong types, unknown
/// enum ids, unmet "at least one of" constraints and classification values that disagree with
/// the class. Returns the findings in a stable order; an empty list means valid.
pub fn validate(class: OcsfClass, event: &Value) -> Vec<Finding> {
    validate::validate(class, event)
}

/// Like [`validate`], with the class taken from the event's `class_uid`.
pub fn validate_event(event: &Value) -> Result<Vec<Finding>, String> {
    let uid = event
        .get("class_uid")
        .and_then(Value::as_u64)
        .ok_or("the event has no numeric `class_uid`")?;
    let class = OcsfClass::from_uid(uid).ok_or_else(|| unknown_class(&uid.to_string()))?;
    Ok(validate(class, event))
}

/// The OCSF schema version the schema data follows.
pub fn schema_version() -> &'static str {
    &schema().version
}
