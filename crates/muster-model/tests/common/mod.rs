//! What the loader tests share: a small action catalogue and helpers to load fixtures.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use muster_model::catalog::{ActionCatalog, ActionKindInfo, OptionProblem};
use muster_model::expr::ExprProblem;
use muster_model::load::{Diagnostic, ExpressionCheck, load_playbook_with};
use muster_model::{ActionDef, Playbook};
use serde_json::Value;

/// The action types the tests know, with the options each one checks.
pub struct TestCatalog;

const TRIGGERS: [&str; 2] = ["webhook", "manual"];
const OTHERS: [&str; 7] = [
    "set",
    "condition",
    "http_request",
    "explode",
    "implode",
    "exit",
    "abuseipdb.check_ip",
];

impl ActionCatalog for TestCatalog {
    fn kind_info(&self, kind: &str) -> Option<ActionKindInfo> {
        if TRIGGERS.contains(&kind) {
            Some(ActionKindInfo { trigger: true })
        } else if OTHERS.contains(&kind) {
            Some(ActionKindInfo { trigger: false })
        } else {
            None
        }
    }

    fn kind_names(&self) -> Vec<String> {
        TRIGGERS
            .iter()
            .chain(OTHERS.iter())
            .map(|s| s.to_string())
            .collect()
    }

    fn ports(&self, action: &ActionDef) -> Vec<String> {
        let ports: &[&str] = match action.kind.as_str() {
            "condition" => &["out", "true", "false"],
            _ => &["out"],
        };
        ports.iter().map(|p| p.to_string()).collect()
    }

    fn check_options(&self, action: &ActionDef) -> Vec<OptionProblem> {
        let options = &action.options;
        let mut problems = Vec::new();
        let (required, allowed): (&[&str], Option<&[&str]>) = match action.kind.as_str() {
            "webhook" => (&["path"], Some(&["path", "secret", "method"])),
            "http_request" => (
                &["url"],
                Some(&["method", "url", "headers", "query", "json", "body", "auth"]),
            ),
            "condition" => (&["when"], Some(&["when"])),
            "explode" => (&["items"], Some(&["items"])),
            "implode" => (&[], Some(&["count", "timeout"])),
            "abuseipdb.check_ip" => (&["ip"], Some(&["ip", "max_age_days"])),
            _ => (&[], None),
        };
        for key in required {
            if !options.contains_key(*key) {
                problems.push(OptionProblem {
                    path: key.to_string(),
                    message: format!("`{}` needs the option `{key}`", action.kind),
                    hint: Some(format!("add `{key}:` under `options`")),
                });
            }
        }
        if let Some(allowed) = allowed {
            for key in options.keys() {
                if !allowed.contains(&key.as_str()) {
                    problems.push(OptionProblem {
                        path: key.clone(),
                        message: format!("`{}` has no option `{key}`", action.kind),
                        hint: Some(format!("its options are: {}", allowed.join(", "))),
                    });
                }
            }
        }
        if action.kind == "http_request"
            && let Some(method) = options.get("method")
            && !matches!(
                method.as_str(),
                Some("GET" | "POST" | "PUT" | "PATCH" | "DELETE" | "HEAD")
            )
        {
            problems.push(OptionProblem {
                path: "method".into(),
                message: format!("`method` must be an HTTP method, found {method}"),
                hint: Some("use GET, POST, PUT, PATCH, DELETE or HEAD".into()),
            });
        }
        if let Some(Value::Object(headers)) = options.get("headers") {
            for (name, value) in headers {
                if !value.is_string() {
                    problems.push(OptionProblem {
                        path: format!("headers.{name}"),
                        message: format!("header `{name}` must be text"),
                        hint: None,
                    });
                }
            }
        }
        problems
    }
}

/// Accepts every string: these tests are about everything but expressions, which
/// `load_expressions.rs` checks with the real expression language.
pub struct IgnoreExpressions;

impl ExpressionCheck for IgnoreExpressions {
    fn check(&self, _text: &str) -> Vec<ExprProblem> {
        Vec::new()
    }
}

pub fn load(file: &str, text: &str) -> Result<Playbook, Vec<Diagnostic>> {
    load_playbook_with(file, text, &TestCatalog, &IgnoreExpressions)
}

/// One diagnostic per line, as the CLI prints them.
pub fn render(diagnostics: &[Diagnostic]) -> String {
    diagnostics.iter().map(|d| format!("{d}\n")).collect()
}

pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/playbooks")
}

/// `(file name, text)` of every fixture in `tests/playbooks/<kind>/`, sorted by name.
pub fn fixtures(kind: &str) -> Vec<(String, String)> {
    let dir = fixtures_dir().join(kind);
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    entries.sort();
    entries
        .into_iter()
        .map(|path| {
            let name = path
                .file_name()
                .expect("file name")
                .to_string_lossy()
                .into_owned();
            let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
            (name, text)
        })
        .collect()
}
