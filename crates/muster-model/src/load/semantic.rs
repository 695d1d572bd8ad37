//! Checks that need more than the shape of the document: name and id formats, duplicate ids,
//! known action types, a trigger to start runs, sane retry policies and limits, input
//! defaults of the declared type, and layout entries that name actions. Links are checked in
//! [`super::links`], options and expressions in [`super::options`].
//!
//! The checks work on the parts of the document that are well-formed, so that one broken
//! action does not hide the problems of the others.

use std::collections::HashMap;

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::catalog::{ActionCatalog, ActionKindInfo};
use crate::playbook::{ActionDef, InputSpec, RetryPolicy, Settings};

use super::ExpressionCheck;
use super::diagnostic::Report;
use super::positions::{Pointer, Positions};
use super::structure::describe;
use super::suggest::did_you_mean;
use super::yaml::Document;

/// Longest accepted playbook name and action id.
pub const MAX_NAME_LEN: usize = 100;
pub const MAX_ID_LEN: usize = 64;

/// Names that expressions already use, so an action with such an id could not be referred
/// to: the words of the expression language and the variables every expression sees.
pub const RESERVED_IDS: [&str; 18] = [
    "and",
    "or",
    "not",
    "in",
    "is",
    "if",
    "else",
    "elif",
    "for",
    "true",
    "false",
    "none",
    "task",
    "run",
    "item",
    "loop",
    "credentials",
    "resources",
];

/// One item of `actions` that is a mapping.
pub(crate) struct ActionEntry<'a> {
    pub pointer: Pointer,
    pub object: &'a Map<String, Value>,
    pub id: Option<&'a str>,
    pub kind: Option<&'a str>,
    /// `None` when the type is unknown (or not text).
    pub info: Option<ActionKindInfo>,
    /// The typed action, when the item is well-formed.
    pub def: Option<ActionDef>,
}

impl ActionEntry<'_> {
    pub fn is_trigger(&self) -> bool {
        self.info.as_ref().is_some_and(|i| i.trigger)
    }
}

/// What the checks share.
pub(crate) struct Context<'a> {
    pub root: &'a Map<String, Value>,
    pub positions: &'a Positions,
    pub catalog: &'a dyn ActionCatalog,
    pub actions: Vec<ActionEntry<'a>>,
    /// Index in `actions` by id (of the first action with that id).
    by_id: HashMap<&'a str, usize>,
}

impl<'a> Context<'a> {
    fn new(
        root: &'a Map<String, Value>,
        positions: &'a Positions,
        catalog: &'a dyn ActionCatalog,
    ) -> Self {
        let actions = action_entries(root, catalog);
        let mut by_id = HashMap::new();
        for (index, action) in actions.iter().enumerate() {
            if let Some(id) = action.id {
                by_id.entry(id).or_insert(index);
            }
        }
        Self {
            root,
            positions,
            catalog,
            actions,
            by_id,
        }
    }

    /// The action with this id (the first one, if the id is duplicated).
    pub fn action(&self, id: &str) -> Option<&ActionEntry<'a>> {
        self.by_id.get(id).map(|&index| &self.actions[index])
    }

    pub fn ids(&self) -> impl Iterator<Item = &'a str> + Clone + '_ {
        self.actions.iter().filter_map(|a| a.id)
    }
}

/// Runs every check that goes beyond the document's shape.
pub(crate) fn check(
    document: &Document,
    catalog: &dyn ActionCatalog,
    expressions: &dyn ExpressionCheck,
    report: &mut Report,
) {
    let Some(root) = document.value.as_object() else {
        return;
    };
    let context = Context::new(root, &document.positions, catalog);
    check_name(&context, report);
    check_actions(&context, report);
    check_triggers(&context, report);
    super::options::check(&context, expressions, report);
    super::links::check(&context, report);
    check_inputs(&context, report);
    check_layout(&context, report);
    check_settings(&context, report);
}

fn action_entries<'a>(
    root: &'a Map<String, Value>,
    catalog: &dyn ActionCatalog,
) -> Vec<ActionEntry<'a>> {
    let Some(items) = root.get("actions").and_then(Value::as_array) else {
        return Vec::new();
    };
    let base = Pointer::root().key("actions");
    items
        .iter()
        .enumerate()
        .filter_map(|(index, item)| {
            let object = item.as_object()?;
            let kind = object.get("type").and_then(Value::as_str);
            Some(ActionEntry {
                pointer: base.index(index),
                object,
                id: object.get("id").and_then(Value::as_str),
                kind,
                info: kind.and_then(|k| catalog.kind_info(k)),
                def: ActionDef::deserialize(item).ok(),
            })
        })
        .collect()
}

fn check_name(context: &Context<'_>, report: &mut Report) {
    let Some(name) = context.root.get("name").and_then(Value::as_str) else {
        return;
    };
    if is_playbook_name(name) {
        return;
    }
    let pointer = Pointer::root().key("name");
    let example = slug(name, '_')
        .filter(|s| is_playbook_name(s))
        .unwrap_or_else(|| "brute_force_block".to_string());
    report.hinted(
        context.positions.value(&pointer),
        format!("invalid playbook name `{name}`"),
        format!(
            "use lowercase letters, digits, `_` or `-`, starting with a letter, at most {MAX_NAME_LEN} characters, such as `{example}`"
        ),
    );
}

/// Lowercase letters, digits, `_` and `-`, starting with a letter.
pub(crate) fn is_playbook_name(name: &str) -> bool {
    let mut chars = name.chars();
    name.len() <= MAX_NAME_LEN
        && chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}

/// snake_case: lowercase letters, digits and `_`, starting with a letter.
pub(crate) fn is_action_id(id: &str) -> bool {
    let mut chars = id.chars();
    id.len() <= MAX_ID_LEN
        && chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// `Lookup IP-Address` → `lookup_ip_address`, for hints.
fn slug(text: &str, separator: char) -> Option<String> {
    let mut out = String::new();
    for c in text.trim().chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with(separator) {
            out.push(separator);
        }
    }
    let out = out.trim_end_matches(separator).to_string();
    (!out.is_empty()).then_some(out)
}

fn check_actions(context: &Context<'_>, report: &mut Report) {
    let mut first_line: HashMap<&str, usize> = HashMap::new();
    for action in &context.actions {
        if let Some(id) = action.id {
            let id_pos = context.positions.value(&action.pointer.key("id"));
            check_action_id(id, id_pos, report);
            match first_line.get(id) {
                Some(line) => report.hinted(
                    id_pos,
                    format!("duplicate action id `{id}` (first used on line {line})"),
                    "give each action its own id",
                ),
                None => {
                    first_line.insert(id, id_pos.line);
                }
            }
        }
        if let Some(kind) = action.kind
            && action.info.is_none()
        {
            let names = context.catalog.kind_names();
            let hint = did_you_mean(kind, names.iter().map(String::as_str))
                .unwrap_or_else(|| "`muster actions list` shows the available types".to_string());
            report.hinted(
                context.positions.value(&action.pointer.key("type")),
                format!("unknown action type `{kind}`"),
                hint,
            );
        }
        if let Some(def) = &action.def {
            check_limits(context, action, def, report);
        }
    }
}

fn check_action_id(id: &str, pos: super::diagnostic::Pos, report: &mut Report) {
    if RESERVED_IDS.contains(&id) {
        report.hinted(
            pos,
            format!("`{id}` is reserved in expressions and cannot be an action id"),
            format!("choose another id, such as `{id}_step`"),
        );
    } else if !is_action_id(id) {
        let example = slug(id, '_')
            .map(|s| {
                if s.starts_with(|c: char| c.is_ascii_digit()) {
                    format!("step_{s}")
                } else {
                    s
                }
            })
            .filter(|s| is_action_id(s))
            .unwrap_or_else(|| "lookup_ip".to_string());
        report.hinted(
            pos,
            format!("invalid action id `{id}`"),
            format!(
                "use snake_case (lowercase letters, digits and `_`, starting with a letter, at most {MAX_ID_LEN} characters), such as `{example}`"
            ),
        );
    }
}

/// Retry policy, timeout and concurrency of one action.
fn check_limits(
    context: &Context<'_>,
    action: &ActionEntry<'_>,
    def: &ActionDef,
    report: &mut Report,
) {
    let at = |key: &str| context.positions.value(&action.pointer.key(key));
    if let Some(retry) = &def.retry {
        check_retry(context, &action.pointer.key("retry"), retry, report);
    }
    if def.timeout.is_some_and(|t| t.as_millis() == 0) {
        report.hinted(
            at("timeout"),
            "`timeout` must be longer than 0s",
            "remove it to use the playbook's `settings.action_timeout`",
        );
    }
    if def.concurrency == Some(0) {
        report.hinted(
            at("concurrency"),
            "`concurrency` must be at least 1",
            "remove it for no per-action limit",
        );
    }
}

fn check_retry(context: &Context<'_>, pointer: &Pointer, retry: &RetryPolicy, report: &mut Report) {
    let at = |key: &str| context.positions.value(&pointer.key(key));
    let written = |key: &str| context.positions.contains(&pointer.key(key));
    if retry.attempts == 0 {
        report.hinted(
            at("attempts"),
            "`attempts` must be at least 1 (the first attempt counts)",
            "write `attempts: 1` for no retry, or remove `retry`",
        );
    }
    if retry.factor.is_nan() || retry.factor < 1.0 {
        report.hinted(
            at("factor"),
            format!("`factor` must be at least 1, found {}", retry.factor),
            "use 1 to wait the same time before each retry, or 2 to double it each time",
        );
    }
    if retry.backoff > retry.max_backoff {
        let key = if written("max_backoff") {
            "max_backoff"
        } else {
            "backoff"
        };
        report.hinted(
            at(key),
            format!(
                "`backoff` ({}) is longer than `max_backoff` ({})",
                retry.backoff, retry.max_backoff
            ),
            "raise `max_backoff` or lower `backoff`",
        );
    }
}

fn check_triggers(context: &Context<'_>, report: &mut Report) {
    let Some(actions) = context.root.get("actions").and_then(Value::as_array) else {
        return;
    };
    let pointer = Pointer::root().key("actions");
    let trigger_types: Vec<String> = {
        let mut names = context.catalog.kind_names();
        names.retain(|n| context.catalog.kind_info(n).is_some_and(|i| i.trigger));
        names.sort();
        names
    };
    let hint = format!(
        "add an action of a trigger type ({}) to start runs",
        trigger_types.join(", ")
    );
    if actions.is_empty() {
        report.hinted(
            context.positions.value(&pointer),
            "`actions` is empty",
            hint,
        );
        return;
    }
    let all_understood =
        context.actions.len() == actions.len() && context.actions.iter().all(|a| a.info.is_some());
    if all_understood && !context.actions.iter().any(ActionEntry::is_trigger) {
        report.hinted(
            context.positions.key(&pointer),
            "the playbook has no trigger, so nothing can start a run",
            hint,
        );
    }
}

fn check_inputs(context: &Context<'_>, report: &mut Report) {
    let Some(inputs) = context.root.get("inputs").and_then(Value::as_object) else {
        return;
    };
    let base = Pointer::root().key("inputs");
    for (name, value) in inputs {
        let pointer = base.key(name);
        if !is_input_name(name) {
            report.hinted(
                context.positions.key(&pointer),
                format!("invalid input name `{name}`"),
                "use letters, digits and `_`, starting with a letter or `_`, so that expressions can refer to it",
            );
        }
        let Ok(spec) = InputSpec::deserialize(value) else {
            continue;
        };
        if let Some(default) = &spec.default
            && !spec.kind.accepts(default)
        {
            let kind = serde_json::to_value(spec.kind)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            report.hinted(
                context.positions.value(&pointer.key("default")),
                format!(
                    "the default of input `{name}` is {}, which is not of its type `{kind}`",
                    describe(default)
                ),
                "change the default or the type",
            );
        }
        if spec.required == Some(true) && spec.default.is_some() {
            report.hinted(
                context.positions.value(&pointer.key("required")),
                format!("input `{name}` is required, so its default would never be used"),
                "remove `required: true` or the default",
            );
        }
    }
}

fn is_input_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn check_layout(context: &Context<'_>, report: &mut Report) {
    let Some(layout) = context.root.get("layout").and_then(Value::as_object) else {
        return;
    };
    let base = Pointer::root().key("layout");
    for name in layout.keys() {
        if context.action(name).is_none() {
            let hint = did_you_mean(name, context.ids())
                .unwrap_or_else(|| "remove the entry, or rename it to an action's id".to_string());
            report.hinted(
                context.positions.key(&base.key(name)),
                format!("layout entry `{name}` names no action"),
                hint,
            );
        }
    }
}

fn check_settings(context: &Context<'_>, report: &mut Report) {
    let Some(value) = context.root.get("settings") else {
        return;
    };
    let Ok(settings) = Settings::deserialize(value) else {
        return;
    };
    let base = Pointer::root().key("settings");
    let at = |key: &str| context.positions.value(&base.key(key));
    let zero = |d: Option<crate::HumanDuration>| d.is_some_and(|d| d.as_millis() == 0);
    if settings.max_events_per_run == Some(0) {
        report.hinted(
            at("max_events_per_run"),
            "`max_events_per_run` must be at least 1",
            format!(
                "remove it to use the default of {}",
                Settings::DEFAULT_MAX_EVENTS_PER_RUN
            ),
        );
    }
    if settings.concurrency == Some(0) {
        report.hinted(
            at("concurrency"),
            "`concurrency` must be at least 1",
            "remove it for no limit",
        );
    }
    if zero(settings.action_timeout) {
        report.hinted(
            at("action_timeout"),
            "`action_timeout` must be longer than 0s",
            "remove it to use the default of 60s",
        );
    }
    if zero(settings.keep_events_for) {
        report.hinted(
            at("keep_events_for"),
            "`keep_events_for` must be longer than 0s",
            "remove it to use the default of 30d",
        );
    }
}
