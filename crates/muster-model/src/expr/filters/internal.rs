//! Filters the compiler inserts; not part of the documented language.

use minijinja::value::StringInput;
use minijinja::{Environment, Error, ErrorKind, State, Value};

use crate::expr::convert::find_undefined;
use crate::expr::rewrite::CHAIN_FILTER;

pub(crate) fn register(env: &mut Environment<'static>) {
    env.add_filter(CHAIN_FILTER, chain);
    env.add_filter("__require", require);
}

/// One step of a lookup chain that stays undefined once a step is missing. The compiler
/// turns `a.x.y` in fallback positions (`a.x.y or b`) into `a|__chain("x")|__chain("y")`.
fn chain(value: &Value, key: &Value) -> Value {
    if value.is_undefined() {
        return Value::UNDEFINED;
    }
    value.get_item(key).unwrap_or(Value::UNDEFINED)
}

/// Fails when `value` is or contains an undefined value, with the engine's description of
/// the expression that produced it.
fn require(state: &State, value: &Value) -> Result<Value, Error> {
    match find_undefined(value, 0) {
        None => Ok(value.clone()),
        Some(undefined) => {
            // In SemiStrict mode this fails and names where the undefined value came from.
            StringInput::new(state, &undefined)?;
            Err(Error::new(
                ErrorKind::UndefinedError,
                "a value it uses is undefined",
            ))
        }
    }
}
