//! Feeds arbitrary text to the integration file loader (`integrations/<vendor>.yaml`). It must
//! never panic: a bad file gets diagnostics, a good one loads.
//!
//! Seed the corpus with the shipped files:
//! `mkdir -p corpus/integration_load && cp ../integrations/*.yaml corpus/integration_load/`

#![no_main]

use libfuzzer_sys::fuzz_target;
use muster_actions::integrations::Integration;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(integration) = Integration::load("fuzz.yaml", text) {
        assert!(!integration.vendor().is_empty());
        for kind in integration.action_kinds() {
            assert!(kind.starts_with(integration.vendor()), "{kind}");
        }
    }
});
