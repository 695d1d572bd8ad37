//! Regular expressions (the `regex` crate's syntax: no look-around or back-references, and
//! matching time linear in the input). Compiled patterns are cached process-wide.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use minijinja::value::Kwargs;
use minijinja::{Environment, Error, State, Value};
use regex::{Regex, RegexBuilder};

use super::{fail, text};

/// Longest accepted pattern, in bytes.
pub const MAX_PATTERN_BYTES: usize = 4096;
/// Largest compiled program, in bytes (the `regex` crate's size limit).
const MAX_COMPILED_BYTES: usize = 2 * 1024 * 1024;
/// Patterns kept compiled; the cache is emptied when it fills up.
const CACHE_CAPACITY: usize = 512;

pub(crate) fn register(env: &mut Environment<'static>) {
    env.add_filter("regex_match", regex_match);
    env.add_test("regex_match", regex_match);
    env.add_filter("regex_search", regex_search);
    env.add_filter("regex_findall", regex_findall);
    env.add_filter("regex_replace", regex_replace);
}

/// Whether the pattern matches anywhere in the value (anchor with `^…$` for a full match).
fn regex_match(state: &State, value: &Value, pattern: &str, kwargs: Kwargs) -> Result<bool, Error> {
    let regex = compiled("regex_match", pattern, &kwargs)?;
    Ok(regex.is_match(&text(state, value)?))
}

/// The first match (or its first group when the pattern has groups), or none.
fn regex_search(
    state: &State,
    value: &Value,
    pattern: &str,
    kwargs: Kwargs,
) -> Result<Value, Error> {
    let regex = compiled("regex_search", pattern, &kwargs)?;
    let input = text(state, value)?;
    let Some(captures) = regex.captures(&input) else {
        return Ok(Value::from(()));
    };
    let found = if regex.captures_len() > 1 {
        captures.get(1)
    } else {
        captures.get(0)
    };
    Ok(found.map_or(Value::from(()), |m| Value::from(m.as_str())))
}

/// All matches: whole matches without groups, the group with one group, a list of groups
/// per match with several.
fn regex_findall(
    state: &State,
    value: &Value,
    pattern: &str,
    kwargs: Kwargs,
) -> Result<Value, Error> {
    let regex = compiled("regex_findall", pattern, &kwargs)?;
    let input = text(state, value)?;
    let groups = regex.captures_len() - 1;
    let mut found = Vec::new();
    for captures in regex.captures_iter(&input) {
        state.consume_fuel(1)?;
        let group = |index: usize| {
            captures
                .get(index)
                .map_or(Value::from(()), |m| Value::from(m.as_str()))
        };
        found.push(match groups {
            0 => group(0),
            1 => group(1),
            _ => Value::from((1..=groups).map(group).collect::<Vec<_>>()),
        });
    }
    Ok(Value::from(found))
}

/// Replaces matches (all, or the first `count`); `$1` and `${name}` insert groups.
fn regex_replace(
    state: &State,
    value: &Value,
    pattern: &str,
    replacement: &str,
    kwargs: Kwargs,
) -> Result<String, Error> {
    let count: Option<usize> = kwargs.get("count")?;
    let regex = compiled("regex_replace", pattern, &kwargs)?;
    let input = text(state, value)?;
    Ok(regex
        .replacen(&input, count.unwrap_or(0), replacement)
        .into_owned())
}

/// The compiled pattern, honouring `ignorecase=true`; checks that no other keyword is given.
fn compiled(filter: &str, pattern: &str, kwargs: &Kwargs) -> Result<Arc<Regex>, Error> {
    let ignore_case: Option<bool> = kwargs.get("ignorecase")?;
    kwargs.assert_all_used()?;
    if pattern.len() > MAX_PATTERN_BYTES {
        return Err(fail(
            filter,
            format!("the pattern is longer than {MAX_PATTERN_BYTES} bytes"),
        ));
    }
    let ignore_case = ignore_case.unwrap_or(false);
    let key = format!("{}{pattern}", if ignore_case { 'i' } else { 's' });
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<Regex>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(regex) = lock(cache).get(&key) {
        return Ok(regex.clone());
    }
    let regex = RegexBuilder::new(pattern)
        .case_insensitive(ignore_case)
        .size_limit(MAX_COMPILED_BYTES)
        .dfa_size_limit(MAX_COMPILED_BYTES)
        .build()
        .map_err(|err| {
            fail(
                filter,
                format!("invalid pattern `{pattern}`: {}", one_line(&err)),
            )
        })?;
    let regex = Arc::new(regex);
    let mut cache = lock(cache);
    if cache.len() >= CACHE_CAPACITY {
        cache.clear();
    }
    cache.insert(key, regex.clone());
    Ok(regex)
}

/// The regex crate's multi-line syntax errors end with the one line that says what is wrong.
fn one_line(err: &regex::Error) -> String {
    let text = err.to_string();
    text.lines()
        .last()
        .map(|line| line.trim_start_matches("error: ").to_owned())
        .unwrap_or(text)
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // The cache holds no invariant a panic could break.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
