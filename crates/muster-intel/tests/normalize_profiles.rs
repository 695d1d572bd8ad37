//! Every built-in profile against its fixtures in `tests/alerts/<profile>/`: the normalised
//! output is pinned by a snapshot, and the OCSF validator must find nothing wrong with it.

use std::fs;
use std::path::{Path, PathBuf};

use chrono::{TimeZone, Utc};
use muster_intel::normalize::{self, NormalizeOptions, Profile, ocsf};
use serde_json::json;

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/alerts")
}

fn options() -> NormalizeOptions {
    NormalizeOptions {
        reference_time: Utc.with_ymd_and_hms(2024, 6, 1, 0, 0, 0).unwrap(),
    }
}

fn fixtures(profile: &Profile) -> Vec<PathBuf> {
    let dir = fixtures_dir().join(profile.name());
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|error| panic!("{}: {error}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    files
}

fn check_profile(name: &str) {
    let profile = normalize::profile(name).unwrap_or_else(|| panic!("no profile {name}"));
    let files = fixtures(profile);
    assert!(
        files.len() >= 2,
        "{name} needs at least two fixtures, has {}",
        files.len()
    );
    for file in files {
        let stem = file.file_stem().unwrap().to_string_lossy().into_owned();
        let text = fs::read_to_string(&file).unwrap();
        let normalized = profile
            .normalize_text_with(&text, &options())
            .unwrap_or_else(|error| panic!("{}: {error}", file.display()));

        let findings = ocsf::validate(profile.ocsf_class(), &normalized.event);
        let missing: Vec<String> = findings
            .iter()
            .filter(|finding| finding.is_missing_required())
            .map(ToString::to_string)
            .collect();
        assert!(
            missing.is_empty(),
            "{}: missing required fields: {missing:#?}",
            file.display()
        );
        assert!(
            findings.is_empty(),
            "{}: OCSF findings: {findings:#?}",
            file.display()
        );
        assert_eq!(
            normalized.event["class_uid"],
            json!(profile.ocsf_class().uid()),
            "{}",
            file.display()
        );

        let warnings: Vec<String> = normalized
            .warnings
            .iter()
            .map(ToString::to_string)
            .collect();
        insta::with_settings!({
            snapshot_path => "normalize_snapshots",
            prepend_module_to_snapshot => false,
            omit_expression => true,
            info => &file.strip_prefix(env!("CARGO_MANIFEST_DIR")).unwrap().display().to_string(),
        }, {
            insta::assert_json_snapshot!(
                format!("{name}__{stem}"),
                json!({"event": normalized.event, "warnings": warnings})
            );
        });
    }
}

macro_rules! profile_tests {
    ($($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                check_profile(stringify!($name));
            }
        )*

        #[test]
        fn every_profile_is_tested_and_every_fixture_dir_has_a_profile() {
            let tested = [$(stringify!($name)),*];
            let profiles: Vec<&str> = normalize::profiles().map(Profile::name).collect();
            assert_eq!(profiles, tested);
            for entry in fs::read_dir(fixtures_dir()).unwrap() {
                let name = entry.unwrap().file_name().to_string_lossy().into_owned();
                assert!(tested.contains(&name.as_str()), "fixtures for unknown profile {name}");
            }
        }
    };
}

profile_tests!(
    suricata_eve_alert,
    zeek_notice,
    wazuh_alert,
    crowdstrike_falcon_detection,
    defender_endpoint_alert,
    aws_guardduty_finding,
    okta_system_log,
    windows_logon,
    windows_process_creation,
    sysmon_process_create,
    sysmon_network_connect,
    cef_generic,
    leef_generic,
);

#[test]
fn profiles_describe_themselves() {
    for profile in normalize::profiles() {
        assert!(!profile.description().is_empty(), "{}", profile.name());
        assert!(
            profile.mapping().targets().count() > 5,
            "{}",
            profile.name()
        );
    }
    assert!(normalize::profile("no_such_profile").is_none());
}
