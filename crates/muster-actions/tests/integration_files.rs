//! Integration files: every file at the repository root is compiled in and loads without a
//! problem; a bad file is reported with `file:line:column` like a playbook; an operator's
//! directory adds and replaces integrations.

mod common;

use muster_actions::integrations::{Integration, Library, LibraryError, builtin_files};
use muster_store::RunStatus;
use muster_testkit::{TestEngine, outputs_of};
use serde_json::json;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

#[test]
fn every_builtin_integration_loads() {
    let (library, problems) = Library::load_builtin();
    let lines: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert!(problems.is_empty(), "{}", lines.join("\n"));
    assert_eq!(library.iter().count(), builtin_files().len());
    let vendors: Vec<&str> = library.iter().map(|i| i.vendor()).collect();
    for vendor in [
        "abuseipdb",
        "cisa_kev",
        "firewall",
        "greynoise",
        "jira",
        "nvd",
        "openphish",
        "pagerduty",
        "slack",
        "teams",
        "urlscan",
        "virustotal",
        "vulncheck",
    ] {
        assert!(
            vendors.contains(&vendor),
            "{vendor} is missing: {vendors:?}"
        );
    }
}

#[test]
fn every_file_of_the_integrations_directory_is_compiled_in() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../integrations");
    let mut on_disk: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".yaml"))
        .map(|name| format!("integrations/{name}"))
        .collect();
    on_disk.sort();
    let compiled: Vec<String> = builtin_files().iter().map(|(f, _)| f.to_string()).collect();
    assert_eq!(compiled, on_disk);
}

#[test]
fn the_registry_has_every_integration_action() {
    let registry = muster_actions::registry();
    for kind in [
        "virustotal.ip_report",
        "virustotal.url_submit",
        "abuseipdb.check_ip",
        "abuseipdb.report_ip",
        "urlscan.submit",
        "urlscan.result",
        "greynoise.community_lookup",
        "vulncheck.kev",
        "vulncheck.exploits",
        "nvd.cve",
        "nvd.cves_by_cpe",
        "cisa_kev.catalog",
        "cisa_kev.lookup",
        "openphish.feed",
        "openphish.lookup",
        "slack.post_message",
        "slack.incoming_webhook",
        "teams.incoming_webhook",
        "jira.create_issue",
        "jira.comment",
        "jira.transition",
        "pagerduty.trigger",
        "pagerduty.resolve",
        "firewall.block_ip",
    ] {
        let action = registry
            .get(kind)
            .unwrap_or_else(|| panic!("{kind} is not registered"));
        assert_eq!(action.spec().kind, kind);
    }
    let spec = registry.get("virustotal.ip_report").unwrap().spec();
    assert_eq!(spec.options["required"], json!(["ip"]));
    assert_eq!(spec.options["additionalProperties"], false);
    assert!(
        spec.options["properties"]["credential"]["description"]
            .as_str()
            .unwrap()
            .contains("www.virustotal.com")
    );
    assert!(
        spec.description
            .contains("Rate limit: `4/1m` per credential")
    );
    assert!(!spec.side_effects);
    assert!(
        registry
            .get("abuseipdb.report_ip")
            .unwrap()
            .spec()
            .side_effects
    );
}

fn problems(file: &str, text: &str) -> Vec<String> {
    match Integration::load(file, text) {
        Ok(_) => Vec::new(),
        Err(diagnostics) => diagnostics.iter().map(ToString::to_string).collect(),
    }
}

const GOOD: &str = r#"vendor: acme
title: Acme
summary: A test integration.
base_url: https://api.acme.example/v1
credential:
  type: text
  name: acme
  allowed_domains: [api.acme.example]
  description: The API key.
headers:
  X-Api-Key: "{{ credentials[credential] }}"
actions:
  lookup:
    summary: Look something up.
    inputs:
      ip:
        type: string
        description: An address.
    request:
      path: "/ip/{{ inputs.ip }}"
"#;

#[test]
fn a_good_file_loads() {
    assert_eq!(problems("acme.yaml", GOOD), Vec::<String>::new());
}

#[test]
fn an_unknown_key_is_located_at_the_key() {
    let text = GOOD.replace(
        "    summary: Look something up.\n",
        "    summary: Look something up.\n    sumary: typo\n",
    );
    assert_eq!(
        problems("acme.yaml", &text),
        [
            "acme.yaml:15:5: unknown key `sumary` (hint: expected one of `summary`, `description`, `inputs`, `request`, `output`, `on_status`, `errors`, `base_url`, `credential`, `rate_limit`, `example`)"
        ]
    );
}

#[test]
fn a_missing_key_and_a_wrong_type_are_located() {
    let text = GOOD.replace("title: Acme\n", "");
    assert_eq!(
        problems("acme.yaml", &text),
        ["acme.yaml:1:1: missing field `title`"]
    );
    let text = GOOD.replace("        type: string\n", "        type: strng\n");
    let found = problems("acme.yaml", &text);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].starts_with(
            "acme.yaml:17:15: `actions.lookup.inputs.ip.type`: unknown variant `strng`"
        ),
        "{found:?}"
    );
}

#[test]
fn every_semantic_problem_is_reported_at_its_place() {
    let text = r#"vendor: acme
title: Acme
summary: A test integration.
base_url: https://api.acme.example/v1?x=1
credential:
  type: apikey
  name: Acme Key
  allowed_domains: [other.example, "https://x"]
  description: The API key.
rate_limit: 4 per minute
actions:
  Lookup:
    summary: Look something up.
    inputs:
      timeout:
        type: string
        description: Clashes with a common option.
      count:
        type: integer
        description: A number.
        default: "ten"
    request:
      method: FETCH
      path: "ip/{{ inputs.ip }}"
      json: { a: 1 }
      body: text
      headers:
        X-Broken: "{{ inputs.count | nosuchfilter }}"
    on_status:
      "4o4": ok
"#;
    let found = problems("integrations/acme.yaml", text);
    let expected = [
        "integrations/acme.yaml:4:11: `https://api.acme.example/v1?x=1`: a base URL has no query or fragment (hint: put query parameters in each action's `request.query`)",
        "integrations/acme.yaml:4:11: the host `api.acme.example` is not among the credential's allowed domains (other.example, https://x) (hint: add it to `credential.allowed_domains`)",
        "integrations/acme.yaml:6:9: unknown credential type `apikey` (hint: use one of text, basic, header, oauth2_client_credentials, http_token, jwt)",
        "integrations/acme.yaml:7:9: invalid credential name `Acme Key` (hint: use lowercase letters, digits and `_`, starting with a letter)",
        "integrations/acme.yaml:8:36: `https://x` is not a host name, `*.domain` wildcard or IP address (hint: write a host such as `api.example.com` or `*.example.com`)",
        "integrations/acme.yaml:10:13: `4 per minute` is not a rate: write `N/period`, like `10/1s`, `4/1m` or `500/1d`",
        "integrations/acme.yaml:12:3: invalid action name `Lookup` (hint: use lowercase letters, digits and `_`, starting with a letter)",
        "integrations/acme.yaml:13:5: the templates use `inputs.ip`, which is not declared (hint: declare it under `inputs:` or fix the name)",
        "integrations/acme.yaml:15:7: `timeout` is an option of every integration action (hint: choose another name)",
        "integrations/acme.yaml:21:18: the default must be of type integer",
        "integrations/acme.yaml:23:7: set at most one of `json`, `form` and `body`",
        "integrations/acme.yaml:23:15: `FETCH` is not an HTTP method (hint: use one of GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS)",
        "integrations/acme.yaml:24:13: the path must start with `/` (hint: it is appended to the base URL)",
        "integrations/acme.yaml:28:19: unknown filter `nosuchfilter` in `{{ inputs.count | nosuchfilter }}`",
        "integrations/acme.yaml:30:7: `4o4` is not an HTTP status code (hint: use a number from 100 to 599, such as `404`)",
    ];
    assert_eq!(found, expected);
}

#[test]
fn a_yaml_error_and_a_misnamed_file_are_reported() {
    assert_eq!(
        problems("acme.yaml", "vendor: acme\ntitle: [unclosed\n"),
        [
            "acme.yaml:3:1: invalid YAML: while parsing a flow sequence, expected ',' or ']' (hint: check for a missing `,`, `]` or `}`)"
        ]
    );
    let found = problems("integrations/other.yaml", GOOD);
    assert_eq!(
        found,
        [
            "integrations/other.yaml:1:9: the vendor is `acme` but the file is `other` (hint: name the file `<vendor>.yaml`)"
        ]
    );
    assert_eq!(
        problems("acme.yaml", ""),
        [
            "acme.yaml:1:1: the file is empty (hint: an integration needs `vendor:`, `title:`, `summary:` and `actions:`)"
        ]
    );
}

#[test]
fn an_operators_directory_adds_integrations_and_replaces_builtin_ones() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("acme.yaml"), GOOD).unwrap();
    let replaced = r#"vendor: greynoise
title: GreyNoise (proxy)
summary: Through the company proxy.
base_url: https://greynoise-proxy.corp.example
actions:
  community_lookup:
    summary: Look an address up through the proxy.
    inputs:
      ip: { type: string, description: The address. }
    request:
      path: "/lookup/{{ inputs.ip }}"
"#;
    std::fs::write(dir.path().join("greynoise.yml"), replaced).unwrap();
    std::fs::write(dir.path().join("notes.txt"), "not an integration").unwrap();
    let library = Library::builtin().with_dir(dir.path()).unwrap();
    assert_eq!(library.iter().count(), builtin_files().len() + 1);
    assert_eq!(
        library.get("greynoise").unwrap().decl.title,
        "GreyNoise (proxy)"
    );
    let registry = muster_actions::registry_with(&library);
    assert!(registry.get("acme.lookup").is_some());
    let spec = registry.get("greynoise.community_lookup").unwrap().spec();
    assert!(
        spec.description.contains("greynoise-proxy.corp.example"),
        "{}",
        spec.description
    );
}

#[test]
fn a_bad_file_in_the_operators_directory_fails_the_whole_load() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("acme.yaml"),
        GOOD.replace("path: \"/ip/", "path: \"ip/"),
    )
    .unwrap();
    let error = Library::builtin()
        .with_dir(dir.path())
        .err()
        .expect("an error");
    let LibraryError::Invalid(diagnostics) = &error else {
        panic!("{error}");
    };
    let file = dir.path().join("acme.yaml").display().to_string();
    assert_eq!(
        diagnostics[0].to_string(),
        format!(
            "{file}:20:13: the path must start with `/` (hint: it is appended to the base URL)"
        )
    );
    assert!(
        error
            .to_string()
            .contains("1 problem(s) in integration files")
    );
    let missing = Library::builtin()
        .with_dir(&dir.path().join("nope"))
        .err()
        .unwrap();
    assert!(matches!(missing, LibraryError::Io { .. }), "{missing}");
}

#[tokio::test]
async fn an_operators_integration_runs_through_the_engine() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/ip/203.0.113.7"))
        .and(header("X-Api-Key", "acme-s3cret"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"risk": "high"})))
        .expect(1)
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("acme.yaml"), GOOD).unwrap();
    let library = Library::builtin().with_dir(dir.path()).unwrap();
    let services = muster_actions::services(common::loopback_http()).unwrap();
    let t = TestEngine::start(muster_actions::registry_with(&library), services).await;
    t.set_credential(
        "acme",
        json!({"type": "text", "value": "acme-s3cret"}),
        &["127.0.0.1"],
    )
    .await;
    t.install(&format!(
        "name: acme_lookup\nactions:\n  - id: start\n    type: manual\n  - id: look\n    type: acme.lookup\n    options:\n      ip: \"{{{{ start.ip }}}}\"\n      base_url: \"{}/v1\"\nlinks: [start -> look]\n",
        server.uri()
    ))
    .await;
    let (run, events) = t.run("acme_lookup", json!({"ip": "203.0.113.7"})).await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.reason);
    let out = outputs_of(&events, "look")[0];
    assert_eq!(out["status"], 200);
    assert_eq!(out["body"], json!({"risk": "high"}));
}

#[test]
fn the_design_example_loads_with_the_real_integrations() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../muster-model/tests/playbooks/valid/design_example.yaml"
    );
    let text = std::fs::read_to_string(path).unwrap();
    let registry = muster_actions::registry();
    let expressions = muster_model::expr::Expressions::new();
    if let Err(diagnostics) =
        muster_engine::CompiledPlaybook::load("design_example.yaml", &text, &registry, &expressions)
    {
        let lines: Vec<String> = diagnostics.iter().map(ToString::to_string).collect();
        panic!("{}", lines.join("\n"));
    }
}
