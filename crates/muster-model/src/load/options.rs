//! Checks of action options: the problems the action type finds in them
//! ([`ActionCatalog::check_options`](crate::catalog::ActionCatalog::check_options)) and
//! invalid expressions, each located at the option it is about.

use serde_json::Value;

use crate::catalog::OptionProblem;

use super::ExpressionCheck;
use super::diagnostic::{Pos, Report};
use super::positions::Pointer;
use super::semantic::{ActionEntry, Context};

pub(crate) fn check(context: &Context<'_>, expressions: &dyn ExpressionCheck, report: &mut Report) {
    for action in &context.actions {
        if let (Some(def), Some(_)) = (&action.def, &action.info) {
            for problem in context.catalog.check_options(def) {
                let pos = problem_position(context, action, &problem);
                report.add(pos, problem.message, problem.hint);
            }
        }
        if let Some(options) = action.object.get("options") {
            check_expressions(
                context,
                options,
                &action.pointer.key("options"),
                expressions,
                report,
            );
        }
    }
}

/// Where an option problem is: the option's key when the path names a mapping member, the
/// value for a list item, and the nearest existing parent (or the action) when the path
/// names an option that is missing.
fn problem_position(
    context: &Context<'_>,
    action: &ActionEntry<'_>,
    problem: &OptionProblem,
) -> Pos {
    let options_pointer = action.pointer.key("options");
    let Some(options) = action.object.get("options") else {
        return context.positions.value(&action.pointer);
    };
    let (pointer, complete, ends_at_key) = resolve_path(options, &options_pointer, &problem.path);
    if pointer == options_pointer {
        return context.positions.key(&options_pointer);
    }
    if complete && !ends_at_key {
        return context.positions.value(&pointer);
    }
    context.positions.key(&pointer)
}

/// Follows a dot path (`json.ip`, `headers.X-Key`, `items[2].name`, `items.2`) through
/// `value`. Keys may themselves contain dots, so at each mapping the longest key that
/// matches the rest of the path wins. Returns the deepest pointer reached, whether the whole
/// path was found, and whether the last step was a mapping key.
fn resolve_path(value: &Value, base: &Pointer, path: &str) -> (Pointer, bool, bool) {
    let mut pointer = base.clone();
    let mut current = value;
    let mut rest = path;
    let mut ends_at_key = false;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('.') {
            rest = after;
            continue;
        }
        match current {
            Value::Object(map) => {
                let found = map
                    .iter()
                    .filter(|(key, _)| {
                        rest.strip_prefix(key.as_str())
                            .is_some_and(|after| after.is_empty() || after.starts_with(['.', '[']))
                    })
                    .max_by_key(|(key, _)| key.len());
                let Some((key, child)) = found else {
                    return (pointer, false, ends_at_key);
                };
                pointer = pointer.key(key);
                current = child;
                rest = &rest[key.len()..];
                ends_at_key = true;
            }
            Value::Array(items) => {
                let inner = rest.strip_prefix('[').unwrap_or(rest);
                let digits = inner
                    .find(|c: char| !c.is_ascii_digit())
                    .unwrap_or(inner.len());
                let Some(item) = inner[..digits]
                    .parse::<usize>()
                    .ok()
                    .and_then(|i| items.get(i).map(|v| (i, v)))
                else {
                    return (pointer, false, ends_at_key);
                };
                pointer = pointer.index(item.0);
                current = item.1;
                rest = &inner[digits..];
                rest = rest.strip_prefix(']').unwrap_or(rest);
                ends_at_key = false;
            }
            _ => return (pointer, false, ends_at_key),
        }
    }
    (pointer, true, ends_at_key)
}

/// Compiles every string below `value`, reporting problems at the string.
fn check_expressions(
    context: &Context<'_>,
    value: &Value,
    pointer: &Pointer,
    expressions: &dyn ExpressionCheck,
    report: &mut Report,
) {
    match value {
        Value::String(text) => {
            for problem in expressions.check(text) {
                let expression = if problem.expression.is_empty() {
                    text.as_str()
                } else {
                    problem.expression.as_str()
                };
                report.hinted(
                    context.positions.value(pointer),
                    format!("invalid expression `{}`: {}", shorten(expression), problem.message),
                    "expressions use Jinja syntax, such as {{ alert.body.src_ip }} or {{ x | default(\"none\") }}",
                );
            }
        }
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                check_expressions(context, item, &pointer.index(index), expressions, report);
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                check_expressions(context, item, &pointer.key(key), expressions, report);
            }
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

fn shorten(text: &str) -> String {
    const MAX: usize = 80;
    let one_line = text.replace('\n', "⏎");
    if one_line.chars().count() <= MAX {
        return one_line;
    }
    let mut short: String = one_line.chars().take(MAX).collect();
    short.push('…');
    short
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths_resolve_through_dotted_keys_and_indexes() {
        let options = json!({
            "url": "https://x",
            "headers": { "X-Key": "a", "a.b": { "c": 1 } },
            "items": [ { "name": "n" } ]
        });
        let base = Pointer::root().key("options");
        let resolve = |path| {
            let (pointer, complete, at_key) = resolve_path(&options, &base, path);
            (pointer.as_str().to_string(), complete, at_key)
        };
        assert_eq!(resolve("url"), ("/options/url".into(), true, true));
        assert_eq!(
            resolve("headers.X-Key"),
            ("/options/headers/X-Key".into(), true, true)
        );
        assert_eq!(
            resolve("headers.a.b.c"),
            ("/options/headers/a.b/c".into(), true, true)
        );
        assert_eq!(
            resolve("items[0].name"),
            ("/options/items/0/name".into(), true, true)
        );
        assert_eq!(resolve("items.0"), ("/options/items/0".into(), true, false));
        assert_eq!(resolve("method"), ("/options".into(), false, false));
        assert_eq!(
            resolve("headers.missing"),
            ("/options/headers".into(), false, true)
        );
        assert_eq!(resolve(""), ("/options".into(), true, false));
    }
}
