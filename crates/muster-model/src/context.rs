//! The context that expressions see: the chain of outputs from the trigger to the input.
//!
//! Storage keeps one output per event plus a parent pointer (DESIGN §3.3); in memory the same
//! shape is an `Arc` linked list, so a thousand exploded items share one copy of the chain
//! above them.

use std::sync::{Arc, OnceLock};

use serde_json::Value;

use crate::ids::EventId;

/// One event's output, linked to its parent event's node.
#[derive(Debug)]
pub struct ContextNode {
    /// The event this node holds the output of.
    pub event: EventId,
    /// The id of the action that emitted the event.
    pub action: Arc<str>,
    /// The event's output.
    pub output: Arc<Value>,
    /// The node of the event this one was computed from; `None` for the trigger event.
    pub parent: Option<Arc<ContextNode>>,
    /// The output converted for the expression engine, built on first use.
    converted: OnceLock<minijinja::Value>,
}

impl ContextNode {
    pub fn new(
        event: EventId,
        action: impl Into<Arc<str>>,
        output: Arc<Value>,
        parent: Option<Arc<ContextNode>>,
    ) -> Arc<Self> {
        Arc::new(Self {
            event,
            action: action.into(),
            output,
            parent,
            converted: OnceLock::new(),
        })
    }

    /// The nearest node (this one or an ancestor) emitted by `action`.
    pub fn find(&self, action: &str) -> Option<&ContextNode> {
        let mut node = Some(self);
        while let Some(n) = node {
            if &*n.action == action {
                return Some(n);
            }
            node = n.parent.as_deref();
        }
        None
    }

    /// The output as an expression value, converted once.
    pub fn value(&self) -> &minijinja::Value {
        self.converted
            .get_or_init(|| minijinja::Value::from(minijinja::value::Serde(&*self.output)))
    }

    /// Action ids from this node up to the trigger, nearest first.
    pub fn actions(&self) -> Vec<Arc<str>> {
        let mut out = Vec::new();
        let mut node = Some(self);
        while let Some(n) = node {
            out.push(n.action.clone());
            node = n.parent.as_deref();
        }
        out
    }
}

impl Drop for ContextNode {
    /// Unlinks the chain iteratively: a loop may build chains of thousands of events, and
    /// dropping them recursively would overflow the stack.
    fn drop(&mut self) {
        let mut next = self.parent.take();
        while let Some(node) = next {
            match Arc::try_unwrap(node) {
                Ok(mut owned) => next = owned.parent.take(),
                Err(_) => break,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_very_long_chain_drops_without_overflowing_the_stack() {
        let mut node = ContextNode::new(EventId::new(), "start", Arc::new(Value::Null), None);
        for _ in 0..1_000_000 {
            node = ContextNode::new(EventId::new(), "again", Arc::new(Value::Null), Some(node));
        }
        assert_eq!(node.find("start").map(|n| &*n.action), Some("start"));
        drop(node);
    }
}
