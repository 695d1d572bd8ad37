//! Checks of `links`: both ends name actions of the playbook, the port is one the source
//! action has (or `error`), no link leads into a trigger, and no link is listed twice.
//!
//! Cycles are allowed: a loop (retry a lookup until it succeeds, page through results) is a
//! cycle, and every run is bounded by the per-run event cap (`settings.max_events_per_run`).
//! Actions that no link reaches are allowed too, so that a playbook can be saved while it is
//! being built; they never run.

use std::collections::HashMap;

use serde_json::Value;

use crate::link::{ERROR_PORT, Link};

use super::diagnostic::Report;
use super::positions::Pointer;
use super::semantic::Context;
use super::suggest::did_you_mean;

pub(crate) fn check(context: &Context<'_>, report: &mut Report) {
    let Some(items) = context.root.get("links").and_then(Value::as_array) else {
        return;
    };
    let base = Pointer::root().key("links");
    let mut seen: HashMap<Link, usize> = HashMap::new();
    for (index, item) in items.iter().enumerate() {
        // Items that are not valid link text were reported with the document's shape.
        let Some(link) = item.as_str().and_then(|t| t.parse::<Link>().ok()) else {
            continue;
        };
        let pos = context.positions.value(&base.index(index));
        let mut ends_exist = true;
        for (end, id) in [("from", &link.from), ("to", &link.to)] {
            if context.action(id).is_none() {
                ends_exist = false;
                let hint = did_you_mean(id, context.ids())
                    .unwrap_or_else(|| format!("add an action with `id: {id}`, or fix the link"));
                report.hinted(
                    pos,
                    format!("link {end} `{id}`, which is not an action of this playbook"),
                    hint,
                );
            }
        }
        check_port(context, &link, pos, report);
        if let Some(target) = context.action(&link.to)
            && target.is_trigger()
        {
            report.hinted(
                pos,
                format!(
                    "link into trigger `{}`: triggers start runs and receive no events",
                    link.to
                ),
                "remove the link, or link to an action that is not a trigger",
            );
        }
        if ends_exist {
            match seen.get(&link) {
                Some(line) => report.hinted(
                    pos,
                    format!("duplicate link `{link}` (also on line {line})"),
                    "remove one of the two; each link delivers every event once",
                ),
                None => {
                    seen.insert(link, pos.line);
                }
            }
        }
    }
}

/// The port must be one the source action has; unknown sources and types are reported
/// elsewhere.
fn check_port(
    context: &Context<'_>,
    link: &Link,
    pos: super::diagnostic::Pos,
    report: &mut Report,
) {
    let Some(source) = context.action(&link.from) else {
        return;
    };
    let (Some(def), Some(_)) = (&source.def, &source.info) else {
        return;
    };
    let mut ports = context.catalog.ports(def);
    if !ports.iter().any(|p| p == ERROR_PORT) {
        ports.push(ERROR_PORT.to_string());
    }
    if ports.contains(&link.port) {
        return;
    }
    let hint = did_you_mean(&link.port, ports.iter().map(String::as_str))
        .unwrap_or_else(|| format!("its ports are: {}", ports.join(", ")));
    report.hinted(
        pos,
        format!(
            "action `{}` ({}) has no port `{}`",
            link.from, def.kind, link.port
        ),
        hint,
    );
}
