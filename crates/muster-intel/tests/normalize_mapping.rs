//! The mapping format end to end: loading YAML and JSON, candidates, pipelines, constants,
//! unmapped fields, warnings and errors that name the field.

use chrono::{TimeZone, Utc};
use muster_intel::normalize::{
    self, Mapping, NormalizeError, NormalizeOptions, OcsfClass, SourceFormat, normalize_lines,
    normalize_text_with, normalize_with, ocsf,
};
use serde_json::{Value, json};

fn options() -> NormalizeOptions {
    NormalizeOptions {
        reference_time: Utc.with_ymd_and_hms(2024, 3, 1, 12, 0, 0).unwrap(),
    }
}

fn run(mapping: &str, input: Value) -> Result<normalize::Normalized, NormalizeError> {
    let mapping = Mapping::from_yaml(mapping).unwrap();
    normalize_with(&input, &mapping, &options())
}

#[test]
fn the_seed_example_three_tools_one_field() {
    let mapping = r#"
unmapped: drop
fields:
  source_ip:
    from: [src_ip, sourceAddress, "['remote-ip-address']"]
    coerce: ip
"#;
    for alert in [
        json!({"src_ip": "203.0.113.7"}),
        json!({"sourceAddress": "203.0.113.7"}),
        json!({"remote-ip-address": " 203.0.113.7 "}),
        json!({"src_ip": "", "sourceAddress": null, "remote-ip-address": "203.0.113.7"}),
    ] {
        let out = run(mapping, alert.clone()).unwrap();
        assert_eq!(out.event, json!({"source_ip": "203.0.113.7"}), "{alert}");
        assert!(out.warnings.is_empty());
    }
}

#[test]
fn full_rule_forms_constants_maps_and_transforms() {
    let mapping = r#"
null_values: ["-", "N/A"]
fields:
  activity_id: 1
  is_alert: true
  metadata.product.name: { const: Example EDR }
  severity_id:
    from: sev
    map: { informational: 1, low: 2, medium: 3, high: 4, critical: 5, "90..": 5, "70..90": 4 }
    otherwise: 99
    default: 0
  finding_info.title:
    from: [{ format: "{rule.name} on {host}" }, rule.name]
  finding_info.types:
    from: tags
    transform: { split: "," }
  process.name:
    from: image
    transform: basename
  process.file.path: image
  process.pid: { from: pid, coerce: int }
  evidences[0].user.name:
    from: user
    transform: { extract: '\\(.+)$' }
  evidences[0].user.domain:
    from: user
    transform: [{ extract: '^([^\\]+)\\' }, trim]
    coerce: upper
  time: { from: ts, coerce: epoch_ms }
  time_dt: { from: ts, coerce: timestamp }
  device.hostname: host
  device.type_id: { const: 0, when: host }
  cloud.provider: { const: AWS, when: aws_account }
"#;
    let out = run(
        mapping,
        json!({
            "sev": "HIGH",
            "rule": {"name": "Mimikatz", "id": 7},
            "host": "ws-042",
            "tags": "credential-access, lsass,",
            "image": "C:\\Windows\\Temp\\mimi.exe",
            "pid": "0x1a2c",
            "user": "corp\\jdoe",
            "ts": "2024-01-15 10:21:33",
            "extra": {"kept": true, "status": "-"}
        }),
    )
    .unwrap();
    assert_eq!(
        out.event,
        json!({
            "activity_id": 1,
            "is_alert": true,
            "metadata": {"product": {"name": "Example EDR"}},
            "severity_id": 4,
            "finding_info": {"title": "Mimikatz on ws-042", "types": ["credential-access", "lsass"]},
            "process": {"name": "mimi.exe", "file": {"path": "C:\\Windows\\Temp\\mimi.exe"}, "pid": 6700},
            "evidences": [{"user": {"name": "jdoe", "domain": "CORP"}}],
            "time": 1705314093000_i64,
            "time_dt": "2024-01-15T10:21:33Z",
            "device": {"hostname": "ws-042", "type_id": 0},
            "unmapped": {"rule": {"id": 7}, "extra": {"kept": true, "status": "-"}}
        })
    );
    assert!(out.warnings.is_empty(), "{:?}", out.warnings);
}

#[test]
fn map_misses_use_otherwise_then_default() {
    let mapping = r#"
fields:
  severity_id: { from: sev, map: { high: 4 }, otherwise: 99, default: 0 }
  confidence_id: { from: conf, map: { high: 3 }, default: 0 }
"#;
    let out = run(mapping, json!({"sev": "extreme", "conf": "sure"})).unwrap();
    assert_eq!(out.event["severity_id"], json!(99));
    assert_eq!(out.event["confidence_id"], json!(0));
    assert_eq!(out.warnings.len(), 1);
    assert_eq!(out.warnings[0].field.as_deref(), Some("confidence_id"));
    assert!(
        out.warnings[0].message.contains("`conf` = \"sure\""),
        "{}",
        out.warnings[0]
    );
    let missing = run(mapping, json!({})).unwrap();
    assert_eq!(missing.event, json!({"severity_id": 0, "confidence_id": 0}));
    assert!(missing.warnings.is_empty());
}

#[test]
fn a_failing_candidate_falls_through_to_the_next() {
    let mapping = "fields:\n  src.ip: { from: [src_ip, backup_ip], coerce: ip }\n";
    let out = run(
        mapping,
        json!({"src_ip": "unknown", "backup_ip": "10.1.2.3"}),
    )
    .unwrap();
    assert_eq!(out.event["src"]["ip"], json!("10.1.2.3"));
    assert_eq!(out.warnings.len(), 1);
    assert!(
        out.warnings[0]
            .to_string()
            .starts_with("field `src.ip`: skipped unusable values: `src_ip` = \"unknown\"")
    );
    // The unusable value stays in `unmapped`, the used one does not.
    assert_eq!(out.event["unmapped"], json!({"src_ip": "unknown"}));
}

#[test]
fn required_fields_fail_with_the_field_named() {
    let mapping = "fields:\n  user.name: { from: [user, account], required: true }\n  port: { from: port, coerce: int, required: true }\n";
    let error = run(mapping, json!({"port": 1})).unwrap_err();
    assert_eq!(
        error.to_string(),
        "field `user.name` is required, but the input has none of `user`, `account`"
    );
    let error = run(mapping, json!({"user": "x", "port": "eighty"})).unwrap_err();
    assert_eq!(
        error.to_string(),
        "field `port` is required, but no source gave a usable value: `port` = \"eighty\": `eighty` is not an integer"
    );
}

#[test]
fn expectations_guard_the_input_kind() {
    let mapping = r#"
expect:
  - { path: [winlog.event_id, EventID], in: [4624, 4625] }
fields:
  user.name: TargetUserName
"#;
    assert!(run(mapping, json!({"EventID": 4625, "TargetUserName": "x"})).is_ok());
    assert!(
        run(
            mapping,
            json!({"winlog": {"event_id": "4624"}, "TargetUserName": "x"})
        )
        .is_ok()
    );
    let error = run(mapping, json!({"EventID": 4688})).unwrap_err();
    assert_eq!(
        error.to_string(),
        "the input does not fit this mapping: `EventID` is `4688`, expected one of 4624, 4625"
    );
    let error = run(mapping, json!({})).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("`winlog.event_id | EventID` is missing")
    );
}

#[test]
fn unwrap_reads_fields_inside_an_envelope_and_keeps_the_envelope_unmapped() {
    let mapping = "unwrap: detail\nfields:\n  finding_info.uid: id\n";
    let out = run(
        mapping,
        json!({"source": "aws.guardduty", "detail": {"id": "abc", "type": "Recon"}}),
    )
    .unwrap();
    assert_eq!(
        out.event,
        json!({"finding_info": {"uid": "abc"}, "unmapped": {"source": "aws.guardduty", "detail": {"type": "Recon"}}})
    );
    let flat = run(mapping, json!({"id": "abc"})).unwrap();
    assert_eq!(flat.event, json!({"finding_info": {"uid": "abc"}}));
}

#[test]
fn ocsf_class_fills_derived_attributes() {
    let mapping = r#"
ocsf_class: 2004
unmapped: drop
fields:
  activity_id: 1
  severity_id: 3
  status_id: 1
"#;
    let out = run(mapping, json!({})).unwrap();
    assert_eq!(
        out.event,
        json!({
            "class_uid": 2004, "class_name": "Detection Finding",
            "category_uid": 2, "category_name": "Findings",
            "activity_id": 1, "activity_name": "Create",
            "type_uid": 200401, "type_name": "Detection Finding: Create",
            "severity_id": 3, "severity": "Medium",
            "status_id": 1, "status": "New",
            "metadata": {"version": "1.5.0"}
        })
    );
    let mapping = Mapping::from_yaml(mapping).unwrap();
    assert_eq!(mapping.ocsf_class(), Some(OcsfClass::DetectionFinding));
}

#[test]
fn mappings_load_from_json_too() {
    let mapping = Mapping::from_json(
        r#"{"source": "cef", "fields": {"src.ip": {"from": ["extensions.src"], "coerce": "ip"}}}"#,
    )
    .unwrap();
    assert_eq!(mapping.source_format(), SourceFormat::Cef);
    let out =
        normalize_text_with("CEF:0|V|P|1|s|N|3|src=10.0.0.1 x=y", &mapping, &options()).unwrap();
    assert_eq!(out.event["src"]["ip"], json!("10.0.0.1"));
    assert_eq!(out.event["unmapped"]["extensions"], json!({"x": "y"}));
}

#[test]
fn bad_mappings_are_refused_with_the_field_named() {
    let cases = [
        ("fields:\n  a: { from: x, coerce: ipv4 }\n", "field `a`"),
        ("fields:\n  a: { form: x }\n", "form"),
        ("fields:\n  a..b: x\n", "field `a..b`: bad target path"),
        (
            "fields:\n  a: 'x..y'\n",
            "field `a`: bad source path `x..y`",
        ),
        (
            "fields:\n  a: { from: x, transform: { extract: '(' } }\n",
            "bad pattern",
        ),
        (
            "fields:\n  a: { const: 1, coerce: int }\n",
            "written as it is",
        ),
        (
            "fields:\n  a: { from: x, otherwise: 1 }\n",
            "`otherwise` only applies",
        ),
        (
            "fields:\n  a: { from: x, map: { 'a..b': 1 } }\n",
            "not a number",
        ),
        (
            "fields:\n  a: x\n  a.b: y\n",
            "fields `a` and `a.b` overlap",
        ),
        ("fields:\n  unmapped.x: y\n", "set `unmapped: drop`"),
        ("fields: {}\n", "`fields` is empty"),
        ("ocsf_class: 9999\nfields:\n  a: x\n", "unknown OCSF class"),
        ("source: xml\nfields:\n  a: x\n", "xml"),
        (
            "fields:\n  a: { format: 'no placeholder' }\n",
            "at least one {placeholder}",
        ),
        ("fields:\n  a: { from: [] }\n", "`from` is empty"),
    ];
    for (yaml, expected) in cases {
        let error = Mapping::from_yaml(yaml).unwrap_err().to_string();
        assert!(
            error.contains(expected),
            "{yaml:?} gave {error:?}, wanted {expected:?}"
        );
    }
}

#[test]
fn text_input_errors_carry_line_and_column() {
    let mapping = Mapping::from_yaml("fields:\n  a: x\n").unwrap();
    let error = normalize_text_with("{\"x\": 1,,}", &mapping, &options()).unwrap_err();
    assert_eq!(
        error.to_string(),
        "line 1, column 9: invalid JSON: key must be a string"
    );
    let error = normalize_text_with("[1, 2]", &mapping, &options()).unwrap_err();
    assert_eq!(error, NormalizeError::NotAnObject { found: "an array" });
    let deep = format!("{}1{}", "[".repeat(200), "]".repeat(200));
    let error = normalize_text_with(&deep, &mapping, &options()).unwrap_err();
    assert!(error.to_string().contains("recursion limit"), "{error}");
    let huge = " ".repeat(normalize::MAX_TEXT_BYTES + 1);
    assert!(matches!(
        normalize_text_with(&huge, &mapping, &options()),
        Err(NormalizeError::TooLarge { .. })
    ));

    let cef = Mapping::from_yaml("source: cef\nfields:\n  a: name\n").unwrap();
    let error = normalize_text_with("CEF:0|a|b\nCEF:0|a|b", &cef, &options()).unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("line 2, column 1: one event per call")
    );
    let results = normalize_lines("CEF:0|V|P|1|s|First|3|\n\nnot cef\n", &cef, &options());
    assert_eq!(results.len(), 2);
    assert_eq!(results[0].0, 1);
    assert_eq!(results[0].1.as_ref().unwrap().event["a"], json!("First"));
    assert_eq!(results[1].0, 3);
    assert!(
        results[1]
            .1
            .as_ref()
            .unwrap_err()
            .to_string()
            .starts_with("line 3, column 1:")
    );
}

#[test]
fn deeply_nested_input_is_bounded() {
    let mut deep = json!("bottom");
    for _ in 0..100 {
        deep = json!({"d": deep});
    }
    let out = run("fields:\n  a: x\n", json!({"x": 1, "deep": deep})).unwrap();
    assert_eq!(out.event["a"], json!(1));
    assert!(
        out.event["unmapped"]
            .to_string()
            .contains("nested too deeply")
    );
    assert_eq!(out.warnings.len(), 1);
}

#[test]
fn raw_data_keeps_the_original_line() {
    let mapping = Mapping::from_yaml(
        "source: leef\nraw_data: true\nunmapped: drop\nfields:\n  e: event_id\n",
    )
    .unwrap();
    let line = "LEEF:1.0|V|P|1|Login|src=10.0.0.1";
    let out = normalize_text_with(line, &mapping, &options()).unwrap();
    assert_eq!(out.event, json!({"e": "Login", "raw_data": line}));
}

#[test]
fn the_documented_example_mapping_loads_and_runs() {
    let docs = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/intel.md"))
        .unwrap();
    let section = docs.split("### Mapping format").nth(1).unwrap();
    let yaml = section
        .split("```yaml\n")
        .nth(1)
        .unwrap()
        .split("```")
        .next()
        .unwrap();
    let mapping = Mapping::from_yaml(yaml).unwrap();
    let out = normalize_with(
        &json!({"sourceAddress": "10.0.0.9", "severity": "HIGH", "alert_id": "a-1",
                "rule": {"name": " Beacon ", "id": 9}, "@timestamp": "2024-01-15T10:21:33Z",
                "image": "/usr/bin/curl", "pid": "0x1a2c", "host": "web-01", "event_type": "alert"}),
        &mapping,
        &options(),
    )
    .unwrap();
    assert_eq!(
        out.event["evidences"][0]["src_endpoint"]["ip"],
        json!("10.0.0.9")
    );
    assert_eq!(out.event["severity_id"], json!(4));
    assert_eq!(out.event["finding_info"]["title"], json!("Beacon"));
    assert_eq!(out.event["time"], json!(1705314093000_i64));
    assert!(
        ocsf::validate(OcsfClass::DetectionFinding, &out.event).is_empty(),
        "{:#?}",
        ocsf::validate(OcsfClass::DetectionFinding, &out.event)
    );
}

#[test]
fn error_messages_point_at_the_yaml_location() {
    let error = Mapping::from_yaml("fields:\n  severity_id: { from: sev, coerce: ipv4 }\n")
        .unwrap_err()
        .to_string();
    assert!(error.contains("line 2"), "{error}");
    assert!(error.contains("field `severity_id`"), "{error}");
    assert!(error.contains("ipv4"), "{error}");
}
