//! Printing a run's events as a tree, each event under the one it was computed from.

use std::collections::HashMap;
use std::fmt::Write;

use serde_json::Value;

/// One event as the tree needs it.
pub struct Node<'a> {
    pub id: &'a str,
    pub parent: Option<&'a str>,
    pub action: &'a str,
    pub port: &'a str,
    pub output: &'a Value,
}

/// The longest output shown on one line before it is cut.
const MAX_OUTPUT: usize = 200;

pub fn render(nodes: &[Node<'_>]) -> String {
    let mut children: HashMap<Option<&str>, Vec<usize>> = HashMap::new();
    let ids: std::collections::HashSet<&str> = nodes.iter().map(|n| n.id).collect();
    for (index, node) in nodes.iter().enumerate() {
        // An event whose parent was pruned or belongs elsewhere is shown as a root.
        let parent = node.parent.filter(|p| ids.contains(p));
        children.entry(parent).or_default().push(index);
    }
    let mut out = String::new();
    let roots = children.get(&None).cloned().unwrap_or_default();
    for (i, root) in roots.iter().enumerate() {
        walk(nodes, &children, *root, "", i + 1 == roots.len(), &mut out);
    }
    out
}

fn walk(
    nodes: &[Node<'_>],
    children: &HashMap<Option<&str>, Vec<usize>>,
    index: usize,
    prefix: &str,
    last: bool,
    out: &mut String,
) {
    let node = &nodes[index];
    let branch = if last { "└─ " } else { "├─ " };
    let port = if node.port == "out" {
        String::new()
    } else {
        format!(" [{}]", node.port)
    };
    let _ = writeln!(
        out,
        "{prefix}{branch}{}{port} {}",
        node.action,
        short(node.output)
    );
    let below = format!("{prefix}{}", if last { "   " } else { "│  " });
    let kids = children.get(&Some(node.id)).cloned().unwrap_or_default();
    for (i, kid) in kids.iter().enumerate() {
        walk(nodes, children, *kid, &below, i + 1 == kids.len(), out);
    }
}

fn short(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() > MAX_OUTPUT {
        let cut: String = text.chars().take(MAX_OUTPUT).collect();
        format!("{cut}…")
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn children_are_drawn_under_their_parents() {
        let (a, b, c, d) = (
            json!({"ip": "203.0.113.7"}),
            json!(1),
            json!({"result": true}),
            json!(2),
        );
        let nodes = [
            Node {
                id: "1",
                parent: None,
                action: "alert",
                port: "out",
                output: &a,
            },
            Node {
                id: "2",
                parent: Some("1"),
                action: "normalize",
                port: "out",
                output: &b,
            },
            Node {
                id: "3",
                parent: Some("2"),
                action: "check",
                port: "true",
                output: &c,
            },
            Node {
                id: "4",
                parent: Some("1"),
                action: "other",
                port: "out",
                output: &d,
            },
        ];
        let expected = "└─ alert {\"ip\":\"203.0.113.7\"}\n   ├─ normalize 1\n   │  └─ check [true] {\"result\":true}\n   └─ other 2\n";
        assert_eq!(render(&nodes), expected);
    }
}
