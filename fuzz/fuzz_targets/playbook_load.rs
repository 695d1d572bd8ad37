//! Feeds arbitrary text to the playbook loader. It must never panic, and whatever it accepts
//! must survive the canonical round trip: load → write → load gives the same playbook, and
//! writing it again gives the same bytes.
//!
//! Seed the corpus with the fixtures:
//! `mkdir -p corpus/playbook_load && cp ../crates/muster-model/tests/playbooks/*/* corpus/playbook_load/`

#![no_main]

use libfuzzer_sys::fuzz_target;
use muster_model::ActionDef;
use muster_model::catalog::{ActionCatalog, ActionKindInfo, OptionProblem};
use muster_model::expr::Expressions;
use muster_model::load::{load_playbook, to_canonical_yaml};

/// A few action types, with the ports and option checks that exercise every loader path.
struct FuzzCatalog;

const TYPES: [(&str, bool); 8] = [
    ("webhook", true),
    ("manual", true),
    ("set", false),
    ("condition", false),
    ("http_request", false),
    ("explode", false),
    ("implode", false),
    ("exit", false),
];

impl ActionCatalog for FuzzCatalog {
    fn kind_info(&self, kind: &str) -> Option<ActionKindInfo> {
        TYPES
            .iter()
            .find(|(name, _)| *name == kind)
            .map(|(_, trigger)| ActionKindInfo { trigger: *trigger })
    }

    fn kind_names(&self) -> Vec<String> {
        TYPES.iter().map(|(name, _)| name.to_string()).collect()
    }

    fn ports(&self, action: &ActionDef) -> Vec<String> {
        match action.kind.as_str() {
            "condition" => vec!["out".into(), "true".into(), "false".into()],
            _ => vec!["out".into()],
        }
    }

    fn check_options(&self, action: &ActionDef) -> Vec<OptionProblem> {
        let required = match action.kind.as_str() {
            "http_request" => "url",
            "condition" => "when",
            _ => return Vec::new(),
        };
        if action.options.contains_key(required) {
            return Vec::new();
        }
        vec![OptionProblem {
            path: required.to_string(),
            message: format!("missing option `{required}`"),
            hint: None,
        }]
    }
}

thread_local! {
    static EXPRESSIONS: Expressions = Expressions::new();
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    EXPRESSIONS.with(|expressions| {
        let Ok(playbook) = load_playbook("fuzz.yaml", text, &FuzzCatalog, expressions) else {
            return;
        };
        let canonical = to_canonical_yaml(&playbook);
        let reloaded = match load_playbook("canonical.yaml", &canonical, &FuzzCatalog, expressions)
        {
            Ok(p) => p,
            Err(diagnostics) => panic!("canonical form rejected: {diagnostics:?}\n{canonical}"),
        };
        assert_eq!(
            reloaded, playbook,
            "canonical form reads back differently:\n{canonical}"
        );
        assert_eq!(
            to_canonical_yaml(&reloaded),
            canonical,
            "canonical form is not stable"
        );
    });
});
