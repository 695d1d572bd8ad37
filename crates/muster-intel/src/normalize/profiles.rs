//! Built-in mapping profiles for common alert sources, compiled in from
//! `crates/muster-intel/profiles/*.yaml`.

use std::sync::OnceLock;

use serde_json::Value;

use super::mapping::{Mapping, SourceFormat};
use super::ocsf::OcsfClass;
use super::{NormalizeError, NormalizeOptions, Normalized};

/// The profile files, by name.
const PROFILE_FILES: &[(&str, &str)] = &[
    (
        "suricata_eve_alert",
        include_str!("../../profiles/suricata_eve_alert.yaml"),
    ),
    (
        "zeek_notice",
        include_str!("../../profiles/zeek_notice.yaml"),
    ),
    (
        "wazuh_alert",
        include_str!("../../profiles/wazuh_alert.yaml"),
    ),
    (
        "crowdstrike_falcon_detection",
        include_str!("../../profiles/crowdstrike_falcon_detection.yaml"),
    ),
    (
        "defender_endpoint_alert",
        include_str!("../../profiles/defender_endpoint_alert.yaml"),
    ),
    (
        "aws_guardduty_finding",
        include_str!("../../profiles/aws_guardduty_finding.yaml"),
    ),
    (
        "okta_system_log",
        include_str!("../../profiles/okta_system_log.yaml"),
    ),
    (
        "windows_logon",
        include_str!("../../profiles/windows_logon.yaml"),
    ),
    (
        "windows_process_creation",
        include_str!("../../profiles/windows_process_creation.yaml"),
    ),
    (
        "sysmon_process_create",
        include_str!("../../profiles/sysmon_process_create.yaml"),
    ),
    (
        "sysmon_network_connect",
        include_str!("../../profiles/sysmon_network_connect.yaml"),
    ),
    (
        "cef_generic",
        include_str!("../../profiles/cef_generic.yaml"),
    ),
    (
        "leef_generic",
        include_str!("../../profiles/leef_generic.yaml"),
    ),
];

/// A named, documented mapping for one kind of source.
#[derive(Debug, Clone)]
pub struct Profile {
    name: String,
    description: String,
    ocsf_class: OcsfClass,
    mapping: Mapping,
}

impl Profile {
    /// The profile's name (`suricata_eve_alert`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// What the profile reads, in one or two sentences.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// The raw format it reads (JSON, CEF or LEEF).
    pub fn source_format(&self) -> SourceFormat {
        self.mapping.source
    }

    /// The OCSF class it produces.
    pub fn ocsf_class(&self) -> OcsfClass {
        self.ocsf_class
    }

    /// The mapping itself.
    pub fn mapping(&self) -> &Mapping {
        &self.mapping
    }

    /// Normalises a parsed alert with this profile.
    pub fn normalize(&self, input: &Value) -> Result<Normalized, NormalizeError> {
        super::normalize(input, &self.mapping)
    }

    /// Normalises one raw record (a JSON document, CEF or LEEF line) with this profile.
    pub fn normalize_text(&self, text: &str) -> Result<Normalized, NormalizeError> {
        super::normalize_text(text, &self.mapping)
    }

    /// Like [`Profile::normalize_text`], with explicit options.
    pub fn normalize_text_with(
        &self,
        text: &str,
        options: &NormalizeOptions,
    ) -> Result<Normalized, NormalizeError> {
        super::normalize_text_with(text, &self.mapping, options)
    }
}

impl AsRef<Mapping> for Profile {
    fn as_ref(&self) -> &Mapping {
        &self.mapping
    }
}

/// The built-in profile called `name`.
pub fn profile(name: &str) -> Option<&'static Profile> {
    all().iter().find(|profile| profile.name == name)
}

/// All built-in profiles, in a stable order.
pub fn profiles() -> impl Iterator<Item = &'static Profile> {
    all().iter()
}

fn all() -> &'static [Profile] {
    static PROFILES: OnceLock<Vec<Profile>> = OnceLock::new();
    PROFILES.get_or_init(|| {
        // The files are part of the crate and a test loads every one, so a failure here is a
        // build defect, not a condition callers could handle.
        match load_all() {
            Ok(profiles) => profiles,
            Err(error) => panic!("a built-in normalisation profile is invalid: {error}"),
        }
    })
}

/// Loads and checks every compiled-in profile.
pub(crate) fn load_all() -> Result<Vec<Profile>, String> {
    PROFILE_FILES
        .iter()
        .map(|(file, text)| {
            load(file, text).map_err(|error| format!("profiles/{file}.yaml: {error}"))
        })
        .collect()
}

fn load(file: &str, text: &str) -> Result<Profile, String> {
    let mapping = Mapping::from_yaml(text).map_err(|error| error.to_string())?;
    let name = mapping.name.clone().ok_or("a profile needs a `name`")?;
    if name != file {
        return Err(format!(
            "the profile is named `{name}` but its file is `{file}.yaml`"
        ));
    }
    let description = mapping
        .description
        .clone()
        .ok_or("a profile needs a `description`")?;
    let ocsf_class = mapping
        .ocsf_class
        .ok_or("a profile needs an `ocsf_class`")?;
    Ok(Profile {
        name,
        description: description.trim().to_owned(),
        ocsf_class,
        mapping,
    })
}
