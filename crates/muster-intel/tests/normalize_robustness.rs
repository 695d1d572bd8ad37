//! Bad input never panics: arbitrary text through the CEF and LEEF parsers, arbitrary JSON
//! through every built-in profile, and arbitrary values through the OCSF validator.

use chrono::{TimeZone, Utc};
use muster_intel::normalize::{self, NormalizeOptions, cef, leef, ocsf};
use proptest::prelude::*;
use serde_json::{Map, Value};

fn options() -> NormalizeOptions {
    NormalizeOptions {
        reference_time: Utc.with_ymd_and_hms(2024, 6, 1, 0, 0, 0).unwrap(),
    }
}

/// Text made mostly of the characters that matter to CEF and LEEF, so that generated lines
/// reach deep into the parsers instead of failing at the marker.
fn syslogish_line() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("CEF:0|".to_owned()),
        Just("LEEF:1.0|".to_owned()),
        Just("LEEF:2.0|".to_owned()),
        Just("<134>Jan 18 11:07:53 host ".to_owned()),
        Just("|".to_owned()),
        Just("\\".to_owned()),
        Just("=".to_owned()),
        Just(" ".to_owned()),
        Just("\t".to_owned()),
        Just("^".to_owned()),
        Just("x09".to_owned()),
        Just("src".to_owned()),
        "[a-zA-Z0-9.:-]{0,6}",
        "\\PC{0,3}",
    ];
    prop::collection::vec(piece, 0..40).prop_map(|pieces| pieces.concat())
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        "\\PC{0,12}".prop_map(Value::String),
        prop_oneof![
            Just("10.0.0.1"),
            Just("2024-01-15T10:21:33Z"),
            Just("0x1a2c"),
            Just("-"),
            Just("alert"),
            Just("4624"),
            Just("1"),
            Just("High"),
            Just("CORP\\jdoe"),
        ]
        .prop_map(|s| Value::String(s.to_owned())),
    ];
    leaf.prop_recursive(6, 64, 8, |inner| {
        let keys = prop_oneof![
            Just("event_type".to_owned()),
            Just("alert".to_owned()),
            Just("src_ip".to_owned()),
            Just("timestamp".to_owned()),
            Just("winlog".to_owned()),
            Just("event_data".to_owned()),
            Just("EventID".to_owned()),
            Just("detail".to_owned()),
            Just("event".to_owned()),
            Just("severity".to_owned()),
            Just("rule".to_owned()),
            Just("evidence".to_owned()),
            "[a-zA-Z_.]{1,8}",
        ];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((keys, inner), 0..6)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn cef_parser_never_panics(line in "\\PC*") {
        let _ = cef::parse(&line);
    }

    #[test]
    fn leef_parser_never_panics(line in "\\PC*") {
        let _ = leef::parse(&line);
    }

    #[test]
    fn parsers_never_panic_on_syslog_like_text(line in syslogish_line()) {
        let _ = cef::parse(&line);
        let _ = leef::parse(&line);
        for name in ["cef_generic", "leef_generic"] {
            let profile = normalize::profile(name).unwrap();
            let _ = profile.normalize_text_with(&line, &options());
        }
    }

    #[test]
    fn parsed_cef_errors_point_inside_the_line(line in syslogish_line()) {
        if let Err(error) = cef::parse(&line) {
            prop_assert_eq!(error.line, 1);
            prop_assert!(error.column >= 1 && error.column <= line.chars().count() + 1);
        }
    }

    #[test]
    fn profiles_and_validator_never_panic_on_arbitrary_json(value in json_value()) {
        for profile in normalize::profiles() {
            if let Ok(normalized) = normalize::normalize_with(&value, profile, &options()) {
                let _ = ocsf::validate(profile.ocsf_class(), &normalized.event);
            }
        }
        for class in ocsf::OcsfClass::ALL {
            let _ = ocsf::validate(class, &value);
        }
    }
}

#[test]
fn huge_cef_line_is_parsed_in_linear_time() {
    // A pathological extension: many `=` signs without keys and one very long key run.
    let mut line = String::from("CEF:0|V|P|1|s|N|3|");
    line.push_str(&"a".repeat(200_000));
    line.push('=');
    line.push_str(&"=b".repeat(200_000));
    line.push_str(&" k=v".repeat(50_000));
    let parsed = cef::parse(&line).unwrap();
    assert_eq!(parsed.value["extensions"]["k"], "v");
}

#[test]
fn huge_leef_line_is_parsed() {
    let mut line = String::from("LEEF:2.0|V|P|1|E|^|");
    for index in 0..100_000 {
        line.push_str(&format!("k{index}=v^"));
    }
    let parsed = leef::parse(&line).unwrap();
    assert_eq!(
        parsed.value["attributes"].as_object().unwrap().len(),
        100_000
    );
}
