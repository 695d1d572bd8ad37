//! Filters, tests and functions added to minijinja's built-ins, grouped by theme. Each one
//! is documented with an example in `docs/expressions.md`.
//!
//! Conventions: inputs that are missing are errors (minijinja's `SemiStrict` mode does this
//! for `String` arguments; `&Value` arguments go through [`text`]); errors name the filter;
//! work proportional to input size is charged as fuel.

pub mod collections;
pub mod encoding;
pub mod intel;
pub mod internal;
pub mod regex;
pub mod time;
pub mod web;

use std::borrow::Cow;

use minijinja::value::{StringInput, ValueKind};
use minijinja::{Environment, Error, ErrorKind, State, Value};

/// Adds every filter, test and function to `env`.
pub(crate) fn register(env: &mut Environment<'static>) {
    internal::register(env);
    intel::register(env);
    encoding::register(env);
    regex::register(env);
    time::register(env);
    collections::register(env);
    web::register(env);
}

/// An error raised by the filter or function `name`.
pub(crate) fn fail(name: &str, message: impl std::fmt::Display) -> Error {
    Error::new(ErrorKind::InvalidOperation, format!("{name}: {message}"))
}

/// The text a filter works on: strings as they are, lists and maps as JSON, other values as
/// they print. Missing values are errors that name the missing expression.
pub(crate) fn text<'v>(state: &State, value: &'v Value) -> Result<Cow<'v, str>, Error> {
    if let Some(text) = value.as_str() {
        return Ok(Cow::Borrowed(text));
    }
    match value.kind() {
        ValueKind::Seq | ValueKind::Map | ValueKind::Iterable => {
            let json = super::convert::to_json(value)
                .map_err(|err| Error::new(ErrorKind::InvalidOperation, err.to_string()))?;
            let text = json.to_string();
            state.consume_fuel(text.len() as u64 / 64)?;
            Ok(Cow::Owned(text))
        }
        _ => Ok(Cow::Owned(
            StringInput::new(state, value)?.as_str().to_owned(),
        )),
    }
}
