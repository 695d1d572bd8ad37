//! Properties of loading and canonical writing, over generated playbooks and generated text:
//! the canonical form reads back as the same playbook and writes back byte for byte, and no
//! input — arbitrary text or a damaged fixture — makes the loader panic.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::{TestCatalog, fixtures, load};
use muster_model::duration::HumanDuration;
use muster_model::link::Link;
use muster_model::load::to_canonical_yaml;
use muster_model::playbook::{InputSpec, InputType, Position};
use muster_model::{ActionDef, Playbook, RetryPolicy, Settings};
use proptest::prelude::*;
use serde_json::{Map, Number, Value};

/// Characters that stress quoting: YAML indicators, quotes, escapes, line breaks, Unicode
/// (including characters YAML cannot hold raw), and ordinary letters.
fn tricky_char() -> impl Strategy<Value = char> {
    prop_oneof![
        6 => prop::char::range('a', 'z'),
        2 => Just(' '),
        3 => prop::sample::select(vec![
            '"', '\'', '\\', '#', ':', '-', '?', '{', '}', '[', ']', ',', '&', '*', '!', '|',
            '>', '%', '@', '`', '\n', '\t', '\r', '~', '.', '0', '1', '9', '<', '=', '+', '/',
        ]),
        1 => prop::sample::select(vec![
            'é', '✓', '🚀', '日', '\u{85}', '\u{a0}', '\u{2028}', '\u{2029}', '\u{feff}',
            '\u{200b}', '\0', '\u{7}', '\u{7f}', '\u{1b}', '\u{9f}', '\u{fffe}', '\u{e000}',
        ]),
        1 => any::<char>(),
    ]
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::collection::vec(tricky_char(), 0..24).prop_map(String::from_iter),
        1 => prop::sample::select(vec![
            "", " ", "true", "False", "yes", "no", "on", "null", "~", "123", "-1.5", "0x1F",
            "0o17", ".inf", ".nan", "1e5", "<<", "a: b", "- x", "#x", "---", "...", "key:",
            "{{ alert.body.src_ip }}", "{{ x[\"a-b\"] }}", "line\n", "\nline", "  a\nb", "a\n\n",
            "a\n  \nb", "\ta\nb", "a\r\nb", "'", "\"", "\\", "?", ": x", "@x", "`x`", "%x",
        ])
        .prop_map(str::to_string),
    ]
}

fn number() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter_map("finite", Number::from_f64)
            .prop_map(Value::Number),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        number(),
        text().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((text(), inner), 0..4)
                .prop_map(|entries| Value::Object(entries.into_iter().collect())),
        ]
    })
}

fn options() -> impl Strategy<Value = Map<String, Value>> {
    prop::collection::vec((text(), json_value()), 0..5).prop_map(|e| e.into_iter().collect())
}

fn duration() -> impl Strategy<Value = HumanDuration> {
    (1u64..400_000_000).prop_map(|ms| HumanDuration(Duration::from_millis(ms)))
}

fn retry() -> impl Strategy<Value = RetryPolicy> {
    (
        1u32..10,
        duration(),
        duration(),
        1.0f64..10.0,
        any::<bool>(),
    )
        .prop_map(|(attempts, a, b, factor, jitter)| RetryPolicy {
            attempts,
            backoff: a.min(b),
            max_backoff: a.max(b),
            factor,
            jitter,
        })
}

/// The kind of an action and options that its checks accept.
fn kind_and_options(trigger: bool) -> BoxedStrategy<(String, Map<String, Value>)> {
    let with = |kind: &'static str, entries: Vec<(&'static str, Value)>| {
        (
            kind.to_string(),
            entries
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect::<Map<_, _>>(),
        )
    };
    if trigger {
        return prop_oneof![
            options().prop_map(|o| ("manual".to_string(), o)),
            (text(), prop::option::of(text())).prop_map(move |(path, secret)| {
                let mut entries = vec![("path", Value::String(path))];
                entries.extend(secret.map(|s| ("secret", Value::String(s))));
                with("webhook", entries)
            }),
        ]
        .boxed();
    }
    prop_oneof![
        options().prop_map(|o| ("set".to_string(), o)),
        options().prop_map(|o| ("exit".to_string(), o)),
        text().prop_map(move |when| with("condition", vec![("when", Value::String(when))])),
        json_value().prop_map(move |items| with("explode", vec![("items", items)])),
        (
            text(),
            prop::sample::select(vec!["GET", "POST", "DELETE"]),
            prop::collection::vec((text(), text()), 0..3),
            json_value()
        )
            .prop_map(move |(url, method, headers, json)| {
                let headers: Map<String, Value> = headers
                    .into_iter()
                    .map(|(k, v)| (k, Value::String(v)))
                    .collect();
                with(
                    "http_request",
                    vec![
                        ("method", Value::String(method.into())),
                        ("url", Value::String(url)),
                        ("headers", Value::Object(headers)),
                        ("json", json),
                    ],
                )
            }),
    ]
    .boxed()
}

fn action(id: String, trigger: bool) -> impl Strategy<Value = ActionDef> {
    (
        kind_and_options(trigger),
        prop::option::of(text()),
        prop::option::of(retry()),
        prop::option::of(duration()),
        prop::option::of(1u32..100),
    )
        .prop_map(
            move |((kind, options), description, retry, timeout, concurrency)| ActionDef {
                id: id.clone(),
                kind,
                description,
                options,
                retry,
                timeout,
                concurrency,
            },
        )
}

fn input_spec() -> impl Strategy<Value = InputSpec> {
    let typed = prop_oneof![
        (
            Just(InputType::Any),
            json_value()
                .prop_filter("null means no default", |v| !v.is_null())
                .prop_map(Some)
        ),
        (
            Just(InputType::String),
            prop::option::of(text().prop_map(Value::String))
        ),
        (
            Just(InputType::Integer),
            prop::option::of(any::<i64>().prop_map(Value::from))
        ),
        (
            Just(InputType::Boolean),
            prop::option::of(any::<bool>().prop_map(Value::Bool))
        ),
        (Just(InputType::Object), Just(None)),
        (Just(InputType::Array), Just(Some(Value::Array(vec![])))),
        (Just(InputType::Number), prop::option::of(number())),
    ];
    (
        typed,
        prop::option::of(text()),
        prop::option::of(any::<bool>()),
    )
        .prop_map(|((kind, default), description, required)| InputSpec {
            kind,
            description,
            // A required input with a default is rejected by design.
            required: if default.is_some() {
                required.filter(|r| !r)
            } else {
                required
            },
            default,
        })
}

fn settings() -> impl Strategy<Value = Settings> {
    (
        prop::option::of(duration()),
        prop::option::of(1u64..u64::MAX),
        prop::option::of(1u32..1000),
        prop::option::of(duration()),
    )
        .prop_map(
            |(keep_events_for, max_events_per_run, concurrency, action_timeout)| Settings {
                keep_events_for,
                max_events_per_run,
                concurrency,
                action_timeout,
            },
        )
}

fn finite() -> impl Strategy<Value = f64> {
    any::<f64>().prop_filter("finite", |f| f.is_finite())
}

/// Valid playbooks: the first action is the only trigger, links never lead into it, ids and
/// names have the required format.
fn playbook() -> impl Strategy<Value = Playbook> {
    (
        "[a-z][a-z0-9_-]{0,20}",
        "[a-z][a-z0-9_]{0,8}",
        1usize..6,
        prop::option::of(text()),
        prop::option::of(text()),
        prop::collection::btree_map("[a-z_][a-z0-9_]{0,8}", input_spec(), 0..3),
        settings(),
    )
        .prop_flat_map(
            |(name, prefix, count, description, team, inputs, settings)| {
                let actions: Vec<_> = (0..count)
                    .map(|i| action(format!("{prefix}_{i}"), i == 0).boxed())
                    .collect();
                let links = prop::collection::vec((0..count, 1..count.max(2), 0usize..4), 0..6);
                let layout = prop::collection::vec((0..count, finite(), finite()), 0..4);
                (
                    Just((name, prefix, description, team, inputs, settings)),
                    actions,
                    links,
                    layout,
                )
            },
        )
        .prop_map(
            |((name, prefix, description, team, inputs, settings), actions, links, layout)| {
                let mut unique_links: Vec<Link> = Vec::new();
                for (from, to, port) in links {
                    if to >= actions.len() {
                        continue;
                    }
                    let port = match (actions[from].kind.as_str(), port) {
                        ("condition", 2) => "true",
                        ("condition", 3) => "false",
                        (_, 1) => "error",
                        _ => "out",
                    };
                    let link = Link {
                        from: format!("{prefix}_{from}"),
                        port: port.to_string(),
                        to: format!("{prefix}_{to}"),
                    };
                    if !unique_links.contains(&link) {
                        unique_links.push(link);
                    }
                }
                let layout: BTreeMap<String, Position> = layout
                    .into_iter()
                    .map(|(i, x, y)| (format!("{prefix}_{i}"), Position { x, y }))
                    .collect();
                Playbook {
                    name,
                    description,
                    team,
                    inputs,
                    settings,
                    actions,
                    links: unique_links,
                    layout,
                }
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn canonical_form_round_trips(playbook in playbook()) {
        let canonical = to_canonical_yaml(&playbook);
        let loaded = load("generated.yaml", &canonical).map_err(|d| {
            TestCaseError::fail(format!("{}\n---\n{canonical}", common::render(&d)))
        })?;
        prop_assert_eq!(&loaded, &playbook, "\n{}", canonical);
        prop_assert_eq!(to_canonical_yaml(&loaded), canonical);
    }

    #[test]
    fn arbitrary_text_never_panics(text in prop::collection::vec(tricky_char(), 0..200).prop_map(String::from_iter)) {
        check_any_text(&text)?;
    }

    #[test]
    fn arbitrary_unicode_never_panics(text in any::<String>()) {
        check_any_text(&text)?;
    }

    #[test]
    fn damaged_fixtures_never_panic(
        (fixture, edits) in (0..fixture_count(), prop::collection::vec(edit(), 1..6))
    ) {
        let all = all_fixtures();
        let (_, original) = &all[fixture % all.len()];
        let mut text = original.clone();
        for e in &edits {
            text = apply(&text, e);
        }
        check_any_text(&text)?;
    }
}

/// Loading must not panic; a playbook that loads must round-trip; the last-resort error for
/// a gap between the checks and the types must never appear.
fn check_any_text(text: &str) -> Result<(), TestCaseError> {
    match load("fuzz.yaml", text) {
        Ok(playbook) => {
            let canonical = to_canonical_yaml(&playbook);
            let reloaded = load("fuzz.yaml", &canonical).map_err(|d| {
                TestCaseError::fail(format!(
                    "canonical form rejected:\n{}\n---\n{canonical}",
                    common::render(&d)
                ))
            })?;
            prop_assert_eq!(&reloaded, &playbook);
            prop_assert_eq!(to_canonical_yaml(&reloaded), canonical);
        }
        Err(diagnostics) => {
            prop_assert!(!diagnostics.is_empty());
            for d in &diagnostics {
                prop_assert!(!d.message.contains("could not be read"), "{}", d);
                prop_assert!(d.line >= 1 && d.column >= 1, "{}", d);
            }
        }
    }
    Ok(())
}

fn all_fixtures() -> Vec<(String, String)> {
    let mut all = fixtures("valid");
    all.extend(fixtures("invalid"));
    all
}

fn fixture_count() -> usize {
    all_fixtures().len()
}

/// A change to a text: at a relative position (0..1000 per mille of its length).
#[derive(Debug, Clone)]
enum Edit {
    Delete { at: usize, len: usize },
    Insert { at: usize, text: String },
    DuplicateLine { at: usize },
    SwapLines { at: usize },
    Indent { at: usize, spaces: usize },
    Dedent { at: usize },
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (0usize..1000, 1usize..20).prop_map(|(at, len)| Edit::Delete { at, len }),
        (0usize..1000, text()).prop_map(|(at, text)| Edit::Insert { at, text }),
        (0usize..1000).prop_map(|at| Edit::DuplicateLine { at }),
        (0usize..1000).prop_map(|at| Edit::SwapLines { at }),
        (0usize..1000, 1usize..4).prop_map(|(at, spaces)| Edit::Indent { at, spaces }),
        (0usize..1000).prop_map(|at| Edit::Dedent { at }),
    ]
}

fn apply(text: &str, edit: &Edit) -> String {
    let chars: Vec<char> = text.chars().collect();
    let at_char = |per_mille: usize| chars.len() * per_mille / 1000;
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let at_line = |per_mille: usize, lines: &Vec<String>| lines.len() * per_mille / 1000;
    match edit {
        Edit::Delete { at, len } => {
            let start = at_char(*at);
            let end = (start + len).min(chars.len());
            chars[..start].iter().chain(&chars[end..]).collect()
        }
        Edit::Insert { at, text: inserted } => {
            let start = at_char(*at);
            let mut out: String = chars[..start].iter().collect();
            out.push_str(inserted);
            out.extend(&chars[start..]);
            out
        }
        Edit::DuplicateLine { at } => {
            if !lines.is_empty() {
                let i = at_line(*at, &lines);
                let line = lines[i].clone();
                lines.insert(i, line);
            }
            lines.join("\n")
        }
        Edit::SwapLines { at } => {
            if lines.len() > 1 {
                let i = at_line(*at, &lines).min(lines.len() - 2);
                lines.swap(i, i + 1);
            }
            lines.join("\n")
        }
        Edit::Indent { at, spaces } => {
            if !lines.is_empty() {
                let i = at_line(*at, &lines);
                lines[i] = format!("{}{}", " ".repeat(*spaces), lines[i]);
            }
            lines.join("\n")
        }
        Edit::Dedent { at } => {
            if !lines.is_empty() {
                let i = at_line(*at, &lines);
                lines[i] = lines[i].trim_start().to_string();
            }
            lines.join("\n")
        }
    }
}

#[test]
fn the_test_catalogue_is_consistent() {
    use muster_model::ActionCatalog;
    for name in TestCatalog.kind_names() {
        assert!(TestCatalog.kind_info(&name).is_some(), "{name}");
    }
}
