//! Lists, maps and strings beyond minijinja's built-ins: `keys`, `values`, `flatten`,
//! `contains`, `startswith`, `endswith`, the `uuid()` function, and `int`/`float` with
//! errors that say which text could not be read as a number.

use minijinja::value::{Kwargs, StringInput, ValueKind};
use minijinja::{Environment, Error, State, Value};

use super::fail;

/// Deepest nesting `flatten` descends into.
const MAX_FLATTEN_DEPTH: usize = 64;

pub(crate) fn register(env: &mut Environment<'static>) {
    env.add_filter("keys", keys);
    env.add_filter("values", values);
    env.add_filter("flatten", flatten);
    env.add_filter("contains", contains);
    env.add_test("contains", contains);
    env.add_filter("startswith", startswith);
    env.add_test("startswith", startswith);
    env.add_filter("endswith", endswith);
    env.add_test("endswith", endswith);
    env.add_function("uuid", || Value::from(uuid::Uuid::now_v7().to_string()));
    env.add_filter("int", int);
    env.add_filter("float", float);
}

/// minijinja's `int` (with `default=` and `base=`), with a clearer error.
fn int(
    state: &State,
    value: &Value,
    default: Option<Value>,
    base: Option<u32>,
    kwargs: Kwargs,
) -> Result<Value, Error> {
    minijinja::filters::int(state, value, default, base, kwargs)
        .map_err(|err| number_error("int", "a whole number", value, err))
}

/// minijinja's `float` (with `default=`), with a clearer error.
fn float(
    state: &State,
    value: &Value,
    default: Option<Value>,
    kwargs: Kwargs,
) -> Result<Value, Error> {
    minijinja::filters::float(state, value, default, kwargs)
        .map_err(|err| number_error("float", "a number", value, err))
}

fn number_error(name: &str, what: &str, value: &Value, err: Error) -> Error {
    match value.as_str() {
        Some(text) if err.kind() == minijinja::ErrorKind::InvalidOperation => fail(
            name,
            format!("cannot read `{text}` as {what}; add `default=…` for a fallback"),
        ),
        _ => err,
    }
}

fn map_entries(name: &str, state: &State, value: &Value) -> Result<Vec<(Value, Value)>, Error> {
    if value.kind() != ValueKind::Map {
        StringInput::new(state, value)?;
        return Err(fail(
            name,
            format!("expected a map, got a {}", value.kind()),
        ));
    }
    let mut entries = Vec::new();
    for key in value.try_iter()? {
        state.consume_fuel(1)?;
        let item = value.get_item(&key)?;
        entries.push((key, item));
    }
    Ok(entries)
}

fn keys(state: &State, value: &Value) -> Result<Value, Error> {
    let entries = map_entries("keys", state, value)?;
    Ok(Value::from(
        entries.into_iter().map(|(key, _)| key).collect::<Vec<_>>(),
    ))
}

fn values(state: &State, value: &Value) -> Result<Value, Error> {
    let entries = map_entries("values", state, value)?;
    Ok(Value::from(
        entries
            .into_iter()
            .map(|(_, item)| item)
            .collect::<Vec<_>>(),
    ))
}

/// Flattens nested lists completely, or `levels` deep.
fn flatten(state: &State, value: &Value, kwargs: Kwargs) -> Result<Value, Error> {
    let levels: Option<usize> = kwargs.get("levels")?;
    kwargs.assert_all_used()?;
    if !matches!(value.kind(), ValueKind::Seq | ValueKind::Iterable) {
        StringInput::new(state, value)?;
        return Err(fail(
            "flatten",
            format!("expected a list, got a {}", value.kind()),
        ));
    }
    let mut out = Vec::new();
    flatten_into(
        state,
        value,
        levels.unwrap_or(MAX_FLATTEN_DEPTH).min(MAX_FLATTEN_DEPTH),
        &mut out,
    )?;
    Ok(Value::from(out))
}

fn flatten_into(
    state: &State,
    value: &Value,
    levels: usize,
    out: &mut Vec<Value>,
) -> Result<(), Error> {
    for item in value.try_iter()? {
        state.consume_fuel(1)?;
        if levels > 0 && matches!(item.kind(), ValueKind::Seq | ValueKind::Iterable) {
            flatten_into(state, &item, levels - 1, out)?;
        } else {
            out.push(item);
        }
    }
    Ok(())
}

/// Substring for strings, membership for lists, key for maps.
fn contains(state: &State, haystack: &Value, needle: &Value) -> Result<bool, Error> {
    if needle.is_undefined() {
        StringInput::new(state, needle)?;
    }
    match haystack.kind() {
        ValueKind::String => Ok(haystack
            .as_str()
            .unwrap_or_default()
            .contains(StringInput::new(state, needle)?.as_str())),
        ValueKind::Seq | ValueKind::Iterable => {
            for item in haystack.try_iter()? {
                state.consume_fuel(1)?;
                if &item == needle {
                    return Ok(true);
                }
            }
            Ok(false)
        }
        ValueKind::Map => Ok(!haystack.get_item(needle)?.is_undefined()),
        _ => {
            StringInput::new(state, haystack)?;
            Err(fail(
                "contains",
                format!("cannot search in a {}", haystack.kind()),
            ))
        }
    }
}

/// Whether the text starts with the prefix, or with any prefix of a list.
fn startswith(state: &State, value: &Value, prefixes: &Value) -> Result<bool, Error> {
    affix(state, value, prefixes, |text, prefix| {
        text.starts_with(prefix)
    })
}

fn endswith(state: &State, value: &Value, suffixes: &Value) -> Result<bool, Error> {
    affix(state, value, suffixes, |text, suffix| {
        text.ends_with(suffix)
    })
}

fn affix(
    state: &State,
    value: &Value,
    affixes: &Value,
    test: impl Fn(&str, &str) -> bool,
) -> Result<bool, Error> {
    let text = StringInput::new(state, value)?;
    if affixes.kind() == ValueKind::Seq {
        for affix in affixes.try_iter()? {
            if test(text.as_str(), StringInput::new(state, &affix)?.as_str()) {
                return Ok(true);
            }
        }
        return Ok(false);
    }
    Ok(test(
        text.as_str(),
        StringInput::new(state, affixes)?.as_str(),
    ))
}
