//! The declarative mapping format: which source values become which fields of the normalised
//! event, in YAML or JSON.
//!
//! ```yaml
//! name: my_siem
//! ocsf_class: detection_finding
//! null_values: ["-"]
//! fields:
//!   finding_info.title: rule.name                  # one source path
//!   evidences[0].src_endpoint.ip:                  # candidates, first non-empty wins
//!     from: [src_ip, sourceAddress, "['remote-ip-address']"]
//!     coerce: ip
//!   severity_id:
//!     from: severity
//!     map: { low: 2, medium: 3, high: 4, "9..": 5 }
//!     otherwise: 99
//!     default: 0
//!   activity_id: 1                                 # a bare number or boolean is a constant
//! ```
//!
//! Each field runs a pipeline on the first candidate that has a value: `transform` steps, then
//! `map`, then `coerce`. A candidate whose value fails the pipeline is skipped (and reported as
//! a warning if no later candidate succeeds). Constants (`const`, `default`, constant items in
//! `from`) are written as they are.

use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::value::{MapAccessDeserializer, StrDeserializer};
use serde::de::{self, Deserializer, IntoDeserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use super::coerce::Coercion;
use super::enum_map::EnumMap;
use super::error::MappingError;
use super::ocsf::OcsfClass;
use super::path::{SourcePath, TargetPath};
use super::template::Template;
use super::transform::Transform;

/// The top-level key under which source fields that no rule used are kept.
pub const UNMAPPED_KEY: &str = "unmapped";
/// The top-level key that holds the raw text when `raw_data: true`.
pub const RAW_DATA_KEY: &str = "raw_data";

/// The format of raw text input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceFormat {
    /// A JSON object (one per line for several events).
    #[default]
    Json,
    /// ArcSight Common Event Format lines, optionally behind a syslog header.
    Cef,
    /// IBM QRadar Log Event Extended Format 1.0 or 2.0 lines, optionally behind a syslog header.
    Leef,
}

impl fmt::Display for SourceFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SourceFormat::Json => "json",
            SourceFormat::Cef => "cef",
            SourceFormat::Leef => "leef",
        })
    }
}

/// What happens to source fields that no rule used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unmapped {
    /// Kept under the top-level `unmapped` object (OCSF's place for them).
    #[default]
    Keep,
    /// Left out of the output.
    Drop,
}

/// A complete mapping from one source shape to the normalised shape.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "RawMapping")]
pub struct Mapping {
    pub(crate) name: Option<String>,
    pub(crate) description: Option<String>,
    pub(crate) source: SourceFormat,
    pub(crate) ocsf_class: Option<OcsfClass>,
    pub(crate) unmapped: Unmapped,
    pub(crate) raw_data: bool,
    pub(crate) null_values: Vec<String>,
    pub(crate) unwrap: Vec<SourcePath>,
    pub(crate) expect: Vec<Expectation>,
    pub(crate) fields: Vec<FieldRule>,
}

/// A guard: the input must hold one of `values` at the first present `path`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expectation {
    pub(crate) path: OneOrMany<SourcePath>,
    #[serde(rename = "in")]
    pub(crate) values: Vec<Value>,
}

/// How one target field gets its value.
#[derive(Debug, Clone)]
pub struct FieldRule {
    pub(crate) target: TargetPath,
    pub(crate) candidates: Vec<Candidate>,
    pub(crate) when: Vec<SourcePath>,
    pub(crate) transforms: Vec<Transform>,
    pub(crate) map: Option<EnumMap>,
    pub(crate) otherwise: Option<Value>,
    pub(crate) coerce: Vec<Coercion>,
    pub(crate) required: bool,
}

/// One place a field's value may come from.
#[derive(Debug, Clone)]
pub(crate) enum Candidate {
    Path(SourcePath),
    Format(Template),
    Const(Value),
}

impl Mapping {
    /// Reads a mapping from YAML; errors give the line and column and name the field.
    pub fn from_yaml(text: &str) -> Result<Self, MappingError> {
        serde_saphyr::from_str(text).map_err(|error| MappingError::new(error.to_string()))
    }

    /// Reads a mapping from JSON; errors give the line and column and name the field.
    pub fn from_json(text: &str) -> Result<Self, MappingError> {
        serde_json::from_str(text).map_err(|error| MappingError::new(error.to_string()))
    }

    /// The mapping's name, if it has one.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The mapping's description, if it has one.
    pub fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }

    /// The format of raw text this mapping reads.
    pub fn source_format(&self) -> SourceFormat {
        self.source
    }

    /// The OCSF class the output belongs to, if the mapping declares one.
    pub fn ocsf_class(&self) -> Option<OcsfClass> {
        self.ocsf_class
    }

    /// The target fields, in the order they are written.
    pub fn targets(&self) -> impl Iterator<Item = &str> {
        self.fields.iter().map(|rule| rule.target.as_str())
    }
}

/// The mapping as written, before cross-field checks.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMapping {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    source: SourceFormat,
    #[serde(default)]
    ocsf_class: Option<OcsfClass>,
    #[serde(default)]
    unmapped: Unmapped,
    #[serde(default)]
    raw_data: bool,
    #[serde(default)]
    null_values: Vec<String>,
    #[serde(default)]
    unwrap: Option<OneOrMany<SourcePath>>,
    #[serde(default)]
    expect: Vec<Expectation>,
    fields: FieldRules,
}

impl TryFrom<RawMapping> for Mapping {
    type Error = String;

    fn try_from(raw: RawMapping) -> Result<Self, String> {
        let fields = raw.fields.0;
        if fields.is_empty() {
            return Err("`fields` is empty".to_owned());
        }
        for (position, rule) in fields.iter().enumerate() {
            if let Some(other) = fields[..position]
                .iter()
                .find(|other| other.target.conflicts_with(&rule.target))
            {
                return Err(format!(
                    "fields `{}` and `{}` overlap: one would overwrite the other",
                    other.target, rule.target
                ));
            }
            let top = rule.target.first_key();
            if raw.unmapped == Unmapped::Keep && top == UNMAPPED_KEY {
                return Err(format!(
                    "field `{}`: `{UNMAPPED_KEY}` holds the unmapped source fields; set `unmapped: drop` to write it yourself",
                    rule.target
                ));
            }
            if raw.raw_data && top == RAW_DATA_KEY {
                return Err(format!(
                    "field `{}`: `{RAW_DATA_KEY}` is written by `raw_data: true`",
                    rule.target
                ));
            }
        }
        Ok(Mapping {
            name: raw.name,
            description: raw.description,
            source: raw.source,
            ocsf_class: raw.ocsf_class,
            unmapped: raw.unmapped,
            raw_data: raw.raw_data,
            null_values: raw.null_values,
            unwrap: raw.unwrap.map(|paths| paths.0).unwrap_or_default(),
            expect: raw.expect,
            fields,
        })
    }
}

/// The `fields` map, kept in the order written.
struct FieldRules(Vec<FieldRule>);

impl<'de> Deserialize<'de> for FieldRules {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct RulesVisitor;
        impl<'de> Visitor<'de> for RulesVisitor {
            type Value = FieldRules;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map from target fields to rules")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<FieldRules, A::Error> {
                let mut rules = Vec::new();
                while let Some(key) = access.next_key::<String>()? {
                    let target = TargetPath::parse(&key).map_err(|error| {
                        de::Error::custom(format!("field `{key}`: bad target path: {error}"))
                    })?;
                    let spec: RuleSpec = access
                        .next_value()
                        .map_err(|error| de::Error::custom(format!("field `{key}`: {error}")))?;
                    let rule = spec
                        .build(target)
                        .map_err(|error| de::Error::custom(format!("field `{key}`: {error}")))?;
                    rules.push(rule);
                }
                Ok(FieldRules(rules))
            }
        }
        deserializer.deserialize_map(RulesVisitor)
    }
}

/// A rule as written: a path, a list of candidates, a constant, or the full form.
enum RuleSpec {
    Candidates(Vec<CandidateSpec>),
    Body(Box<RuleBody>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleBody {
    #[serde(default)]
    from: Option<OneOrMany<CandidateSpec>>,
    #[serde(default, rename = "const")]
    constant: Option<Value>,
    #[serde(default)]
    format: Option<Template>,
    #[serde(default)]
    default: Option<Value>,
    #[serde(default)]
    when: Option<OneOrMany<SourcePath>>,
    #[serde(default)]
    transform: Option<OneOrMany<Transform>>,
    #[serde(default)]
    map: Option<EnumMap>,
    #[serde(default)]
    otherwise: Option<Value>,
    #[serde(default)]
    coerce: Option<OneOrMany<Coercion>>,
    #[serde(default)]
    required: bool,
}

impl RuleSpec {
    fn build(self, target: TargetPath) -> Result<FieldRule, String> {
        let body = match self {
            RuleSpec::Candidates(candidates) => RuleBody {
                from: Some(OneOrMany(candidates)),
                constant: None,
                format: None,
                default: None,
                when: None,
                transform: None,
                map: None,
                otherwise: None,
                coerce: None,
                required: false,
            },
            RuleSpec::Body(body) => *body,
        };
        let sources = usize::from(body.from.is_some())
            + usize::from(body.constant.is_some())
            + usize::from(body.format.is_some());
        if sources == 0 {
            return Err("give the value's source: `from`, `const` or `format`".to_owned());
        }
        if sources > 1 {
            return Err("use only one of `from`, `const` and `format` (put formats and constants inside `from` to combine them)".to_owned());
        }
        if body.constant.is_some()
            && (body.transform.is_some()
                || body.map.is_some()
                || body.coerce.is_some()
                || body.default.is_some())
        {
            return Err(
                "a `const` is written as it is: drop `transform`, `map`, `coerce` and `default`"
                    .to_owned(),
            );
        }
        if body.otherwise.is_some() && body.map.is_none() {
            return Err("`otherwise` only applies with a `map`".to_owned());
        }
        let mut candidates: Vec<Candidate> = match (body.from, body.constant, body.format) {
            (Some(from), _, _) => from
                .0
                .into_iter()
                .map(CandidateSpec::into_candidate)
                .collect(),
            (_, Some(constant), _) => vec![Candidate::Const(constant)],
            (_, _, Some(format)) => vec![Candidate::Format(format)],
            _ => Vec::new(),
        };
        if candidates.is_empty() {
            return Err("`from` is empty".to_owned());
        }
        if let Some(default) = body.default {
            candidates.push(Candidate::Const(default));
        }
        Ok(FieldRule {
            target,
            candidates,
            when: body.when.map(|paths| paths.0).unwrap_or_default(),
            transforms: body.transform.map(|list| list.0).unwrap_or_default(),
            map: body.map,
            otherwise: body.otherwise,
            coerce: body.coerce.map(|list| list.0).unwrap_or_default(),
            required: body.required,
        })
    }
}

impl<'de> Deserialize<'de> for RuleSpec {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SpecVisitor;
        impl<'de> Visitor<'de> for SpecVisitor {
            type Value = RuleSpec;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a source path, a list of candidates, a number or boolean constant, or a map with `from`, `const` or `format`")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RuleSpec, E> {
                Ok(RuleSpec::Candidates(vec![CandidateSpec::path(v)?]))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RuleSpec, E> {
                Ok(RuleSpec::Candidates(vec![CandidateSpec::Const(
                    Value::from(v),
                )]))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<RuleSpec, E> {
                Ok(RuleSpec::Candidates(vec![CandidateSpec::Const(
                    Value::from(v),
                )]))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<RuleSpec, E> {
                Ok(RuleSpec::Candidates(vec![CandidateSpec::Const(
                    Value::from(v),
                )]))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<RuleSpec, E> {
                Ok(RuleSpec::Candidates(vec![CandidateSpec::Const(
                    Value::Bool(v),
                )]))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RuleSpec, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(RuleSpec::Candidates(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RuleSpec, A::Error> {
                RuleBody::deserialize(MapAccessDeserializer::new(map))
                    .map(|body| RuleSpec::Body(Box::new(body)))
            }
        }
        deserializer.deserialize_any(SpecVisitor)
    }
}

/// One item of `from`: a path, `{const: value}`, `{format: "..."}`, or a bare number/boolean.
enum CandidateSpec {
    Path(SourcePath),
    Format(Template),
    Const(Value),
}

impl CandidateSpec {
    fn path<E: de::Error>(text: &str) -> Result<Self, E> {
        SourcePath::parse(text)
            .map(CandidateSpec::Path)
            .map_err(|error| E::custom(format!("bad source path `{text}`: {error}")))
    }

    fn into_candidate(self) -> Candidate {
        match self {
            CandidateSpec::Path(path) => Candidate::Path(path),
            CandidateSpec::Format(template) => Candidate::Format(template),
            CandidateSpec::Const(value) => Candidate::Const(value),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CandidateBody {
    #[serde(default, rename = "const")]
    constant: Option<Value>,
    #[serde(default)]
    format: Option<Template>,
}

impl<'de> Deserialize<'de> for CandidateSpec {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct CandidateVisitor;
        impl<'de> Visitor<'de> for CandidateVisitor {
            type Value = CandidateSpec;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a source path, `{const: value}` or `{format: \"...\"}`")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<CandidateSpec, E> {
                CandidateSpec::path(v)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<CandidateSpec, E> {
                Ok(CandidateSpec::Const(Value::from(v)))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<CandidateSpec, E> {
                Ok(CandidateSpec::Const(Value::from(v)))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<CandidateSpec, E> {
                Ok(CandidateSpec::Const(Value::from(v)))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<CandidateSpec, E> {
                Ok(CandidateSpec::Const(Value::Bool(v)))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<CandidateSpec, A::Error> {
                let body = CandidateBody::deserialize(MapAccessDeserializer::new(map))?;
                match (body.constant, body.format) {
                    (Some(constant), None) => Ok(CandidateSpec::Const(constant)),
                    (None, Some(format)) => Ok(CandidateSpec::Format(format)),
                    _ => Err(de::Error::custom(
                        "a candidate map holds exactly one of `const` and `format`",
                    )),
                }
            }
        }
        deserializer.deserialize_any(CandidateVisitor)
    }
}

/// A value written either alone or as a list.
#[derive(Debug, Clone)]
pub(crate) struct OneOrMany<T>(pub(crate) Vec<T>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for OneOrMany<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ListVisitor<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for ListVisitor<T> {
            type Value = OneOrMany<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("one value or a list of values")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<OneOrMany<T>, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(OneOrMany(items))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<OneOrMany<T>, E> {
                T::deserialize(StrDeserializer::<E>::new(v)).map(|item| OneOrMany(vec![item]))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<OneOrMany<T>, E> {
                T::deserialize(v.into_deserializer()).map(|item| OneOrMany(vec![item]))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<OneOrMany<T>, E> {
                T::deserialize(v.into_deserializer()).map(|item| OneOrMany(vec![item]))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<OneOrMany<T>, E> {
                T::deserialize(v.into_deserializer()).map(|item| OneOrMany(vec![item]))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<OneOrMany<T>, E> {
                T::deserialize(v.into_deserializer()).map(|item| OneOrMany(vec![item]))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<OneOrMany<T>, A::Error> {
                T::deserialize(MapAccessDeserializer::new(map)).map(|item| OneOrMany(vec![item]))
            }
        }
        deserializer.deserialize_any(ListVisitor(PhantomData))
    }
}
