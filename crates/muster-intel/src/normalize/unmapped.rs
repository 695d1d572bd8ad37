//! The `unmapped` remainder: every part of the input that no field rule used.
//!
//! Used locations are collected as a trie of concrete paths; the remainder is the input with
//! those leaves removed and emptied containers pruned. Array elements keep their order but not
//! their index. Nesting is copied to a fixed depth so that the work stays bounded.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::path::Concrete;

/// Deepest nesting copied into `unmapped`; deeper values are replaced by a marker.
const MAX_COPY_DEPTH: usize = 64;
/// What replaces a value nested deeper than [`MAX_COPY_DEPTH`].
pub(crate) const TOO_DEEP_MARKER: &str = "(nested too deeply to copy)";

/// The set of input locations a mapping used.
#[derive(Debug, Default)]
pub(crate) struct UsedPaths {
    whole: bool,
    children: BTreeMap<Concrete, UsedPaths>,
}

impl UsedPaths {
    /// Marks the value at `path` (and everything under it) as used.
    pub(crate) fn insert(&mut self, path: &[Concrete]) {
        let mut node = self;
        for step in path {
            if node.whole {
                return;
            }
            node = node.children.entry(step.clone()).or_default();
        }
        node.whole = true;
        node.children.clear();
    }
}

/// The part of `input` not covered by `used`, or `None` when nothing is left. Sets
/// `truncated` when some value was nested too deeply to copy.
pub(crate) fn remainder(input: &Value, used: &UsedPaths, truncated: &mut bool) -> Option<Value> {
    remainder_at(input, used, 0, truncated).filter(|rest| match rest {
        Value::Object(object) => !object.is_empty(),
        Value::Array(items) => !items.is_empty(),
        _ => true,
    })
}

fn remainder_at(
    value: &Value,
    used: &UsedPaths,
    depth: usize,
    truncated: &mut bool,
) -> Option<Value> {
    if used.whole {
        return None;
    }
    if used.children.is_empty() {
        return Some(copy_bounded(value, depth, truncated));
    }
    match value {
        Value::Object(object) => {
            let mut kept = Map::new();
            for (key, child) in object {
                let left = match used.children.get(&Concrete::Key(key.clone())) {
                    Some(child_used) => remainder_at(child, child_used, depth + 1, truncated),
                    None => Some(copy_bounded(child, depth + 1, truncated)),
                };
                if let Some(left) = left {
                    kept.insert(key.clone(), left);
                }
            }
            (!kept.is_empty()).then_some(Value::Object(kept))
        }
        Value::Array(items) => {
            let kept: Vec<Value> = items
                .iter()
                .enumerate()
                .filter_map(
                    |(index, item)| match used.children.get(&Concrete::Index(index)) {
                        Some(child_used) => remainder_at(item, child_used, depth + 1, truncated),
                        None => Some(copy_bounded(item, depth + 1, truncated)),
                    },
                )
                .collect();
            (!kept.is_empty()).then_some(Value::Array(kept))
        }
        scalar => Some(scalar.clone()),
    }
}

/// Copies a value, replacing anything nested deeper than the limit by a marker string.
pub(crate) fn copy_bounded(value: &Value, depth: usize, truncated: &mut bool) -> Value {
    if depth >= MAX_COPY_DEPTH && (value.is_object() || value.is_array()) {
        *truncated = true;
        return Value::String(TOO_DEEP_MARKER.to_owned());
    }
    match value {
        Value::Object(object) => Value::Object(
            object
                .iter()
                .map(|(key, child)| (key.clone(), copy_bounded(child, depth + 1, truncated)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|item| copy_bounded(item, depth + 1, truncated))
                .collect(),
        ),
        scalar => scalar.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn key(name: &str) -> Concrete {
        Concrete::Key(name.to_owned())
    }

    #[test]
    fn removes_used_leaves_and_prunes_empty_containers() {
        let input = json!({
            "a": {"b": 1, "c": 2},
            "list": [{"x": 1}, {"x": 2, "y": 3}],
            "gone": {"only": true},
            "keep": "me"
        });
        let mut used = UsedPaths::default();
        used.insert(&[key("a"), key("b")]);
        used.insert(&[key("list"), Concrete::Index(0), key("x")]);
        used.insert(&[key("list"), Concrete::Index(1), key("x")]);
        used.insert(&[key("gone"), key("only")]);
        let mut truncated = false;
        assert_eq!(
            remainder(&input, &used, &mut truncated),
            Some(json!({"a": {"c": 2}, "list": [{"y": 3}], "keep": "me"}))
        );
        assert!(!truncated);
        let mut all = UsedPaths::default();
        all.insert(&[]);
        assert_eq!(remainder(&input, &all, &mut truncated), None);
    }

    #[test]
    fn deep_values_are_cut_off() {
        let mut deep = json!(1);
        for _ in 0..100 {
            deep = json!([deep]);
        }
        let mut truncated = false;
        let copy = copy_bounded(&deep, 0, &mut truncated);
        assert!(truncated);
        assert!(copy.to_string().contains(TOO_DEEP_MARKER));
    }
}
