//! Loading fixture playbooks: valid ones load and survive canonical round trips, invalid ones
//! give exactly the diagnostics in their snapshots, and the committed JSON Schema is current.

mod common;

use common::{fixtures, load, render};
use muster_model::load::{json_schema, to_canonical_yaml};
use serde_json::json;

#[test]
fn valid_fixtures_load_and_round_trip() {
    let valid = fixtures("valid");
    assert!(valid.len() >= 6, "fixtures missing: {}", valid.len());
    for (name, text) in valid {
        let playbook =
            load(&name, &text).unwrap_or_else(|d| panic!("{name} should load:\n{}", render(&d)));
        let canonical = to_canonical_yaml(&playbook);
        let reloaded = load(&name, &canonical).unwrap_or_else(|d| {
            panic!(
                "{name}: canonical form should load:\n{}\n{canonical}",
                render(&d)
            )
        });
        assert_eq!(
            reloaded, playbook,
            "{name}: canonical form reads back differently:\n{canonical}"
        );
        assert_eq!(
            to_canonical_yaml(&reloaded),
            canonical,
            "{name}: canonical form is not stable"
        );
    }
}

#[test]
fn invalid_fixtures_give_their_diagnostics() {
    let invalid = fixtures("invalid");
    assert!(invalid.len() >= 15, "fixtures missing: {}", invalid.len());
    for (name, text) in invalid {
        let diagnostics = match load(&name, &text) {
            Ok(_) => panic!("{name} should not load"),
            Err(d) => d,
        };
        assert!(!diagnostics.is_empty(), "{name}");
        let stem = name.rsplit_once('.').map_or(name.as_str(), |(s, _)| s);
        insta::assert_snapshot!(format!("invalid_{stem}"), render(&diagnostics));
    }
}

#[test]
fn the_design_example_loads_as_written() {
    let text = std::fs::read_to_string(common::fixtures_dir().join("valid/design_example.yaml"))
        .expect("fixture");
    let playbook = load("design_example.yaml", &text).expect("loads");
    assert_eq!(playbook.name, "brute_force_block");
    assert_eq!(playbook.team.as_deref(), Some("soc"));
    let ids: Vec<&str> = playbook.actions.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "alert",
            "normalize",
            "enough_failures",
            "reputation",
            "block"
        ]
    );
    let block = playbook.action("block").expect("block");
    assert_eq!(block.kind, "http_request");
    let keys: Vec<&str> = block.options.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        ["method", "url", "json", "auth"],
        "option order is kept"
    );
    assert_eq!(
        block.options["json"],
        json!({"ip": "{{ normalize.source_ip }}", "ttl": 86400})
    );
    let link = &playbook.links[2];
    assert_eq!(
        (link.from.as_str(), link.port.as_str(), link.to.as_str()),
        ("enough_failures", "true", "reputation")
    );
    insta::assert_snapshot!("canonical_design_example", to_canonical_yaml(&playbook));
}

#[test]
fn tricky_strings_load_exactly() {
    let text = std::fs::read_to_string(common::fixtures_dir().join("valid/tricky_strings.yaml"))
        .expect("fixture");
    let playbook = load("tricky_strings.yaml", &text).expect("loads");
    assert_eq!(
        playbook.description.as_deref(),
        Some("Strings that need care: \"quotes\", back\\slashes, # hashes, tabs\tand ünïcödé ✓ 🚀")
    );
    assert_eq!(playbook.team.as_deref(), Some("123"));
    let options = &playbook.action("strings").expect("strings").options;
    let expected = [
        ("looks_like_number", json!("42")),
        ("looks_like_bool", json!("true")),
        ("looks_like_null", json!("null")),
        ("tilde", json!("~")),
        ("empty", json!("")),
        ("hash_inside", json!("a#b")),
        ("leading_space", json!("  indented")),
        ("trailing_space", json!("trailing  ")),
        ("single_quotes", json!("it's")),
        ("backslash", json!("C:\\Users\\analyst")),
        (
            "expression_with_quotes",
            json!("{{ alert[\"remote-ip-address\"] }}"),
        ),
        (
            "escapes",
            json!("bell\u{7} nul\u{0} esc\u{1b} nbsp\u{a0} nel\u{85} ls\u{2028} ps\u{2029}"),
        ),
        ("crlf", json!("line one\r\nline two")),
        ("ip", json!("10.0.0.1")),
        ("version", json!("1.2.3")),
        ("octal_looking", json!("0o17")),
        ("hex", json!(31)),
        ("big", json!(u64::MAX)),
        ("negative", json!(i64::MIN)),
        ("float", json!(6.02e23)),
        ("tiny", json!(1e-9)),
        (
            "literal_block",
            json!("first line\n  indented line\nlast line\n"),
        ),
        ("stripped_block", json!("no trailing newline")),
        ("kept_block", json!("two trailing newlines\n\n")),
        ("folded", json!("folded lines become one\n")),
        (
            "numbers_as_keys",
            json!({"200": "ok", "404": "not found", "true": "yes-key"}),
        ),
        ("key with: colon", json!(1)),
        ("", json!("empty key")),
        (
            "anchors",
            json!({"base": {"retries": 3, "verbose": true}, "copy": {"retries": 3, "verbose": true}}),
        ),
        ("nested", json!([[1, 2], [3, [4, 5]], []])),
        ("tagged_string", json!("123")),
        ("tagged_float", json!(1.0)),
        ("forced_string", json!("456")),
    ];
    for (key, value) in expected {
        assert_eq!(options.get(key), Some(&value), "option {key:?}");
    }
    insta::assert_snapshot!("canonical_tricky_strings", to_canonical_yaml(&playbook));
}

#[test]
fn json_text_loads() {
    let text = std::fs::read_to_string(common::fixtures_dir().join("valid/json_playbook.json"))
        .expect("fixture");
    let playbook = load("json_playbook.json", &text).expect("loads");
    assert_eq!(
        playbook.description.as_deref(),
        Some("Written as JSON, indented with tabs: été / \"quoted\"")
    );
    let echo = playbook.action("echo").expect("echo");
    assert_eq!(echo.options["n"], json!(-1500.0));
    assert_eq!(echo.options["list"], json!([1, true, null, {}, []]));
    // A JSON export of a playbook loads back to the same playbook.
    let exported = serde_json::to_string_pretty(&playbook).expect("json");
    assert_eq!(load("export.json", &exported).expect("reloads"), playbook);
}

#[test]
fn diagnostics_display_as_file_line_column() {
    let diagnostics = load(
        "pb.yaml",
        "name: x\nactions:\n  - id: a\n    type: manual\n    retires: 3\n",
    )
    .expect_err("unknown key");
    assert_eq!(
        render(&diagnostics),
        "pb.yaml:5:5: unknown key `retires` in action `a` (hint: did you mean `retry`?)\n"
    );
    let d = &diagnostics[0];
    assert_eq!((d.line, d.column), (5, 5));
}

#[test]
fn columns_count_characters_not_bytes() {
    let diagnostics = load(
        "pb.yaml",
        "name: x\ndescription: \"é✓🚀\"\nactions: []\nnmae: y\nteam: { é: 1 }\n",
    )
    .expect_err("errors");
    let text = render(&diagnostics);
    assert!(text.contains("pb.yaml:4:1: unknown key `nmae`"), "{text}");
    assert!(
        text.contains("pb.yaml:5:7: `team` must be text, found a mapping"),
        "{text}"
    );
}

#[test]
fn the_committed_schema_is_current() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/playbook.schema.json");
    let generated = format!(
        "{}\n",
        serde_json::to_string_pretty(&json_schema()).expect("schema serialises")
    );
    if std::env::var_os("UPDATE_SCHEMA").is_some() {
        std::fs::write(&path, &generated).expect("write docs/playbook.schema.json");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "docs/playbook.schema.json is out of date with the playbook types; regenerate it with \
         `UPDATE_SCHEMA=1 cargo test -p muster-model --test load the_committed_schema_is_current`"
    );
}

#[test]
fn the_schema_describes_the_format() {
    let schema = json_schema();
    assert_eq!(schema["title"], "Playbook");
    assert_eq!(schema["required"], json!(["name", "actions"]));
    assert_eq!(schema["additionalProperties"], json!(false));
    let action = &schema["$defs"]["ActionDef"];
    assert_eq!(action["required"], json!(["id", "type"]));
    assert!(action["properties"]["options"].is_object());
}

#[test]
fn windows_line_endings_and_a_byte_order_mark_load() {
    let text = "\u{feff}name: crlf\r\nactions:\r\n  - id: start\r\n    type: manual\r\n    description: |\r\n      one\r\n      two\r\n";
    let playbook = load("crlf.yaml", text).unwrap_or_else(|d| panic!("{}", render(&d)));
    assert_eq!(
        playbook.actions[0].description.as_deref(),
        Some("one\ntwo\n")
    );
    let diagnostics = load(
        "crlf.yaml",
        "name: crlf\r\nactions:\r\n  - id: start\r\n    type: manual\r\n    colour: red\r\n",
    )
    .expect_err("unknown key");
    assert_eq!(
        render(&diagnostics),
        "crlf.yaml:5:5: unknown key `colour` in action `start` (hint: allowed keys: id, type, description, options, retry, timeout, concurrency)\n"
    );
}

#[test]
fn long_keys_and_values_round_trip() {
    let long_key = "k".repeat(1500);
    let long_value = "v: ".repeat(40_000);
    let text = format!(
        "name: long\nactions:\n  - id: start\n    type: manual\n    options:\n      ? \"{long_key}\"\n      : \"{long_value}\"\n"
    );
    let playbook = load("long.yaml", &text).unwrap_or_else(|d| panic!("{}", render(&d)));
    assert_eq!(playbook.actions[0].options[&long_key], json!(long_value));
    let canonical = to_canonical_yaml(&playbook);
    assert!(
        canonical.contains(&format!("? \"{long_key}\"")),
        "explicit key for a long key"
    );
    assert_eq!(load("long.yaml", &canonical).expect("reloads"), playbook);
}

#[test]
fn hostile_input_is_rejected_with_a_diagnostic() {
    let cases = [
        ("deep_flow", "[".repeat(1_000_000)),
        ("deep_block", "- ".repeat(100_000)),
        (
            "deep_mapping",
            (0..10_000)
                .map(|i| format!("{}k:\n", " ".repeat(i)))
                .collect(),
        ),
        (
            "too_large",
            format!(
                "name: x\ndescription: \"{}\"\n",
                "a".repeat(5 * 1024 * 1024)
            ),
        ),
        (
            "many_values",
            format!("name: x\nactions: [{}]\n", "1,".repeat(120_000)),
        ),
        ("many_anchors", {
            let mut text = String::from("name: x\na0: &a0 [\"lol\", \"lol\"]\n");
            for i in 1..60 {
                text.push_str(&format!("a{i}: &a{i} [*a{}, *a{}]\n", i - 1, i - 1));
            }
            text
        }),
    ];
    for (name, text) in cases {
        let diagnostics = load(name, &text).expect_err(name);
        assert!(!diagnostics.is_empty(), "{name}");
        assert!(diagnostics.len() <= 25, "{name}: {}", diagnostics.len());
    }
}

#[test]
fn a_flood_of_problems_is_cut_short() {
    let mut text = String::from("name: flood\nactions:\n  - id: start\n    type: manual\n");
    for i in 0..1000 {
        text.push_str(&format!("unknown_{i}: 1\n"));
    }
    let diagnostics = load("flood.yaml", &text).expect_err("unknown keys");
    assert_eq!(diagnostics.len(), muster_model::load::MAX_DIAGNOSTICS + 1);
    let last = diagnostics.last().expect("last");
    assert_eq!(last.message, "800 more problems not listed");
}

#[test]
fn cycles_and_unlinked_actions_are_allowed() {
    let text = "name: loop\nactions:\n  - id: start\n    type: manual\n  - id: a\n    type: set\n  - id: b\n    type: set\n  - id: unused\n    type: set\nlinks:\n  - start -> a\n  - a -> b\n  - b -> a\n  - b.error -> b\n";
    let playbook = load("loop.yaml", text).unwrap_or_else(|d| panic!("{}", render(&d)));
    assert_eq!(playbook.links.len(), 4);
}

#[test]
fn every_problem_is_reported_at_once() {
    let text = "name: Bad Name\nactions:\n  - id: a\n    type: webhok\n  - id: a\n    type: set\n    timeout: soon\nlinks:\n  - a -> missing\nlayout:\n  ghost: { x: 0, y: 0 }\nextra: 1\n";
    let diagnostics = load("all.yaml", text).expect_err("many problems");
    let places: Vec<(usize, usize)> = diagnostics.iter().map(|d| (d.line, d.column)).collect();
    assert_eq!(
        places,
        [(1, 7), (4, 11), (5, 9), (7, 14), (9, 5), (11, 3), (12, 1)],
        "{}",
        render(&diagnostics)
    );
}

#[test]
fn other_file_formats_read_yaml_with_the_same_rules_and_positions() {
    use muster_model::load::parse_located;
    let document = parse_located(
        "acme.yaml",
        "vendor: acme\nactions:\n  lookup:\n    request: { path: /x }\n",
        "integration",
        "an integration needs `vendor:`",
    )
    .unwrap_or_else(|d| panic!("{}", render(&d)));
    assert_eq!(
        document.value()["actions"]["lookup"]["request"]["path"],
        "/x"
    );
    let at = document.at_value("/actions/lookup/request/path", "bad path", None);
    assert_eq!(at.to_string(), "acme.yaml:4:22: bad path");
    let at = document.at_key("/actions/lookup", "bad name", Some("rename it".into()));
    assert_eq!(at.to_string(), "acme.yaml:3:3: bad name (hint: rename it)");
    // A pointer below what was written is located at its nearest written ancestor.
    let at = document.at_value("/actions/lookup/inputs/ip", "missing", None);
    assert_eq!((at.line, at.column), (4, 5));
    let errors = parse_located("two.yaml", "a: 1\n---\nb: 2\n", "integration", "")
        .err()
        .expect("two documents");
    assert_eq!(
        render(&errors),
        "two.yaml:2:1: an integration file holds one YAML document, but a second one starts here (hint: remove this `---` and what follows, or put each integration in its own file)\n"
    );
}
