//! Shared set-up for the end-to-end action tests.

use muster_testkit::TestEngine;

pub async fn engine() -> TestEngine {
    let services = muster_actions::services(muster_actions::http::HttpSettings::default()).unwrap();
    TestEngine::start(muster_actions::registry(), services).await
}
