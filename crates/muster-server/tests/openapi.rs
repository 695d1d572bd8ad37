//! The OpenAPI document parses, lists every route with its methods, requires the bearer token
//! on every API operation, and every schema reference resolves.

use serde_json::Value;

const ROUTES: &[(&str, &[&str])] = &[
    ("/api/v1/playbooks", &["get", "post"]),
    ("/api/v1/playbooks/{name}", &["get", "put", "delete"]),
    ("/api/v1/playbooks/{name}/export", &["get"]),
    ("/api/v1/playbooks/{name}/enable", &["post"]),
    ("/api/v1/playbooks/{name}/disable", &["post"]),
    ("/api/v1/playbooks/{name}/runs", &["post"]),
    ("/api/v1/runs", &["get"]),
    ("/api/v1/runs/{id}", &["get"]),
    ("/api/v1/runs/{id}/cancel", &["post"]),
    ("/api/v1/events/{id}", &["get"]),
    ("/api/v1/actions", &["get"]),
    ("/api/v1/actions/{type}", &["get"]),
    ("/api/v1/credentials", &["get", "post"]),
    ("/api/v1/credentials/{name}", &["get", "delete"]),
    ("/api/v1/credentials/{name}/rotate", &["post"]),
    ("/api/v1/resources", &["get", "post"]),
    ("/api/v1/resources/{name}", &["get", "put", "delete"]),
    ("/api/v1/openapi.json", &["get"]),
    ("/hooks/{path}", &["post"]),
    ("/healthz", &["get"]),
    ("/readyz", &["get"]),
    ("/metrics", &["get"]),
];

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

fn document() -> Value {
    let text = muster_server::openapi()
        .to_pretty_json()
        .expect("the document serialises");
    serde_json::from_str(&text).expect("the document is JSON")
}

#[test]
fn every_route_is_documented_with_its_methods() {
    let doc = document();
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    let paths = doc["paths"].as_object().expect("paths");
    for (path, methods) in ROUTES {
        let item = paths
            .get(*path)
            .unwrap_or_else(|| panic!("{path} is missing"));
        let documented: Vec<&str> = METHODS
            .into_iter()
            .filter(|m| item.get(*m).is_some())
            .collect();
        assert_eq!(&documented, methods, "methods of {path}");
        for method in *methods {
            let operation = &item[*method];
            assert!(
                operation["responses"]
                    .as_object()
                    .is_some_and(|r| !r.is_empty()),
                "{method} {path} has no responses"
            );
            let secured = operation["security"]
                .as_array()
                .is_some_and(|s| s.iter().any(|r| r.get("bearer").is_some()));
            assert_eq!(
                secured,
                path.starts_with("/api/v1"),
                "bearer requirement of {method} {path}"
            );
        }
    }
    let extra: Vec<&String> = paths
        .keys()
        .filter(|p| !ROUTES.iter().any(|(r, _)| r == p))
        .collect();
    assert!(extra.is_empty(), "undocumented expectations for {extra:?}");
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
}

#[test]
fn every_schema_reference_resolves() {
    let doc = document();
    let mut refs = Vec::new();
    collect_refs(&doc, &mut refs);
    assert!(refs.len() > 10, "suspiciously few references: {refs:?}");
    for reference in refs {
        let pointer = reference
            .strip_prefix('#')
            .unwrap_or_else(|| panic!("external reference {reference}"));
        assert!(
            doc.pointer(pointer).is_some(),
            "{reference} does not resolve"
        );
    }
    for schema in [
        "PlaybookSummary",
        "PlaybookDetail",
        "RunView",
        "RunDetail",
        "EventView",
        "ErrorBody",
        "CredentialView",
        "CredentialWrite",
        "ResourceView",
    ] {
        assert!(
            doc["components"]["schemas"].get(schema).is_some(),
            "schema {schema} is missing"
        );
    }
}

fn collect_refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, value) in map {
                match (key.as_str(), value) {
                    ("$ref", Value::String(target)) => out.push(target.clone()),
                    _ => collect_refs(value, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}
