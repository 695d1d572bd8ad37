//! The integration files: every file at the repository root is compiled in and loads without
//! a problem, and a bad file is reported with `file:line:column` like a playbook.

use muster_actions::integrations::{Integration, Library, builtin_files};

#[test]
fn every_builtin_integration_loads() {
    let (library, problems) = Library::load_builtin();
    let lines: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert!(problems.is_empty(), "{}", lines.join("\n"));
    assert_eq!(library.iter().count(), builtin_files().len());
}
