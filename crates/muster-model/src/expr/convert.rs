//! Conversion of engine values back to JSON, strict about what JSON cannot hold.

use minijinja::Value;
use minijinja::value::ValueKind;
use serde_json::{Map, Number};

use super::credential_ref::CredentialRef;
use super::filters::time::DateTime;

/// Deepest nesting of lists and maps in a result.
const MAX_DEPTH: usize = 128;
/// Most values (scalars, list items, map entries) in one result.
const MAX_NODES: usize = 1_000_000;

/// Why a value cannot become JSON.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ConvertError {
    #[error("the result is undefined")]
    Undefined,
    #[error("{0}")]
    Unsupported(String),
}

/// Converts an engine value to JSON: undefined values, functions, bytes and non-finite
/// numbers are errors; datetimes become RFC 3339 strings.
pub(crate) fn to_json(value: &Value) -> Result<serde_json::Value, ConvertError> {
    let mut budget = MAX_NODES;
    convert(value, 0, &mut budget)
}

fn convert(
    value: &Value,
    depth: usize,
    budget: &mut usize,
) -> Result<serde_json::Value, ConvertError> {
    if depth > MAX_DEPTH {
        return Err(unsupported(format!(
            "the result is nested more than {MAX_DEPTH} levels deep"
        )));
    }
    *budget = budget
        .checked_sub(1)
        .ok_or_else(|| unsupported(format!("the result has more than {MAX_NODES} values")))?;
    Ok(match value.kind() {
        ValueKind::Undefined => return Err(ConvertError::Undefined),
        ValueKind::None => serde_json::Value::Null,
        ValueKind::Bool => serde_json::Value::Bool(value.is_true()),
        ValueKind::Number => serde_json::Value::Number(number(value)?),
        ValueKind::String => {
            serde_json::Value::String(value.as_str().unwrap_or_default().to_owned())
        }
        ValueKind::Seq | ValueKind::Iterable => {
            let iter = value
                .try_iter()
                .map_err(|err| unsupported(format!("cannot list the result: {err}")))?;
            let mut items = Vec::with_capacity(value.len().unwrap_or(0).min(1024));
            for item in iter {
                items.push(convert(&item, depth + 1, budget)?);
            }
            serde_json::Value::Array(items)
        }
        ValueKind::Map => {
            let iter = value
                .try_iter()
                .map_err(|err| unsupported(format!("cannot list the result: {err}")))?;
            let mut map = Map::new();
            for key in iter {
                let item = value
                    .get_item(&key)
                    .map_err(|err| unsupported(err.to_string()))?;
                let key = match key.as_str() {
                    Some(key) => key.to_owned(),
                    None => key.to_string(),
                };
                map.insert(key, convert(&item, depth + 1, budget)?);
            }
            serde_json::Value::Object(map)
        }
        ValueKind::Plain => match value.downcast_object_ref::<DateTime>() {
            Some(datetime) => serde_json::Value::String(datetime.to_rfc3339()),
            None => {
                if let Some(reference) = value.downcast_object_ref::<CredentialRef>() {
                    return Ok(serde_json::Value::String(reference.marker()));
                }
                return Err(unsupported(format!(
                    "a {} value (such as a function or macro) cannot be stored as JSON",
                    value.kind()
                )));
            }
        },
        ValueKind::Bytes => {
            return Err(unsupported(
                "binary data cannot be stored as JSON; encode it first, e.g. with `b64encode`",
            ));
        }
        _ => {
            return Err(unsupported(format!(
                "a {} value cannot be stored as JSON",
                value.kind()
            )));
        }
    })
}

fn number(value: &Value) -> Result<Number, ConvertError> {
    if value.is_integer() {
        if let Ok(n) = i64::try_from(value.clone()) {
            return Ok(Number::from(n));
        }
        if let Ok(n) = u64::try_from(value.clone()) {
            return Ok(Number::from(n));
        }
    }
    let float = f64::try_from(value.clone())
        .map_err(|_| unsupported(format!("the number {value} cannot be stored as JSON")))?;
    Number::from_f64(float).ok_or_else(|| {
        unsupported(format!(
            "the number {value} is not finite and cannot be stored as JSON"
        ))
    })
}

fn unsupported(message: impl Into<String>) -> ConvertError {
    ConvertError::Unsupported(message.into())
}

/// Finds an undefined value anywhere inside `value` (itself included), keeping the engine's
/// record of where it came from.
pub(crate) fn find_undefined(value: &Value, depth: usize) -> Option<Value> {
    if value.is_undefined() {
        return Some(value.clone());
    }
    if depth > MAX_DEPTH {
        return None;
    }
    match value.kind() {
        ValueKind::Seq => value
            .try_iter()
            .ok()?
            .find_map(|item| find_undefined(&item, depth + 1)),
        ValueKind::Map => value.try_iter().ok()?.find_map(|key| {
            value
                .get_item(&key)
                .ok()
                .and_then(|item| find_undefined(&item, depth + 1))
        }),
        _ => None,
    }
}
