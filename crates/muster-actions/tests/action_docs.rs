//! `docs/actions.md` is generated from the action specs; this test fails when it is stale.
//! Regenerate with `UPDATE_DOCS=1 cargo test -p muster-actions --test action_docs`.

use std::fmt::Write;

fn render() -> String {
    let registry = muster_actions::registry();
    let mut out = String::from(
        "# Actions\n\nEvery action type Muster ships, generated from the types themselves \
         (`muster actions list` and `muster actions describe TYPE` print the same). Options are \
         shown as JSON Schema; any string option may hold a `{{ expression }}`. Integration \
         actions (`vendor.action`) come from the files in `integrations/` (see \
         docs/integrations.md).\n",
    );
    let (triggers, others): (Vec<_>, Vec<_>) = registry.iter().partition(|a| a.spec().trigger);
    // Integration actions are named `vendor.action` (see docs/integrations.md).
    let (integrations, steps): (Vec<_>, Vec<_>) = others
        .into_iter()
        .partition(|a| a.spec().kind.contains('.'));
    for (title, group) in [
        ("Triggers", triggers),
        ("Steps", steps),
        ("Integrations", integrations),
    ] {
        let _ = write!(out, "\n## {title}\n");
        for action in group {
            let spec = action.spec();
            let mut ports = vec!["out"];
            ports.extend(spec.ports.iter().copied());
            let _ = write!(
                out,
                "\n### `{}`\n\n{}\n\n{}\n\n- Ports: {} (and `error` when linked)\n- Side effects: {}\n\nExample:\n\n```yaml\n{}```\n\n<details><summary>Options schema</summary>\n\n```json\n{}\n```\n\n</details>\n",
                spec.kind,
                spec.summary,
                spec.description,
                ports
                    .iter()
                    .map(|p| format!("`{p}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
                if spec.side_effects {
                    "yes — runs only once its task is durable"
                } else {
                    "no"
                },
                spec.example,
                serde_json::to_string_pretty(&spec.options).unwrap(),
            );
        }
    }
    out
}

#[test]
fn the_committed_action_reference_is_current() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/actions.md");
    let expected = render();
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(path, &expected).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == expected,
        "docs/actions.md is out of date; run `UPDATE_DOCS=1 cargo test -p muster-actions --test action_docs`"
    );
}

#[test]
fn every_example_loads_in_a_playbook() {
    let registry = muster_actions::registry();
    let expressions = muster_model::expr::Expressions::new();
    for action in registry.iter() {
        let spec = action.spec();
        assert!(
            spec.example.starts_with("- id: "),
            "{}: the example must be one action",
            spec.kind
        );
        let trigger = if spec.trigger {
            ""
        } else {
            "  - id: example_start\n    type: manual\n"
        };
        let indented: String = spec.example.lines().map(|l| format!("  {l}\n")).collect();
        let yaml = format!("name: example\nactions:\n{trigger}{indented}");
        if let Err(diagnostics) =
            muster_engine::CompiledPlaybook::load("example.yaml", &yaml, &registry, &expressions)
        {
            let lines: Vec<String> = diagnostics.iter().map(ToString::to_string).collect();
            panic!(
                "the example of `{}` does not load:\n{}\n{yaml}",
                spec.kind,
                lines.join("\n")
            );
        }
    }
}
