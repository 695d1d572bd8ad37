//! What expressions can see: named variables first, then the nearest event in the chain
//! emitted by an action with that id.
//!
//! The scope is handed to minijinja as one [`Object`] that resolves names on demand, so a
//! render costs one small allocation however long the chain is, and each event's output is
//! converted for the engine at most once (cached in its [`ContextNode`]).

use std::sync::Arc;

use minijinja::Value;
use minijinja::value::{Enumerator, Object, ObjectRepr};

use crate::context::ContextNode;

/// What expressions can see: the event chain keyed by action id, plus named variables
/// (`task`, `run`, `item`, …) that shadow action ids.
pub struct Scope<'a> {
    pub chain: Option<&'a Arc<ContextNode>>,
    pub vars: Vec<(&'a str, minijinja::Value)>,
}

impl<'a> Scope<'a> {
    pub fn new(chain: Option<&'a Arc<ContextNode>>) -> Self {
        Self {
            chain,
            vars: Vec::new(),
        }
    }

    /// Adds a variable; a later variable with the same name shadows an earlier one.
    pub fn with(mut self, name: &'a str, value: minijinja::Value) -> Self {
        self.vars.push((name, value));
        self
    }

    /// Like [`with`](Self::with) for any serialisable value (JSON, structs).
    pub fn with_serialized<T: serde::Serialize>(self, name: &'a str, value: &T) -> Self {
        self.with(name, Value::from(minijinja::value::Serde(value)))
    }

    /// The root value the engine evaluates against.
    pub(crate) fn to_value(&self) -> Value {
        Value::from_object(ScopeObject {
            chain: self.chain.cloned(),
            vars: self
                .vars
                .iter()
                .map(|(name, value)| (Value::from(*name), value.clone()))
                .collect(),
        })
    }
}

#[derive(Debug)]
struct ScopeObject {
    chain: Option<Arc<ContextNode>>,
    /// Names are kept as engine strings: short names are stored inline, without allocation.
    vars: Vec<(Value, Value)>,
}

impl Object for ScopeObject {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Plain
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        self.get_value_by_str(key.as_str()?)
    }

    fn get_value_by_str(self: &Arc<Self>, name: &str) -> Option<Value> {
        if let Some((_, value)) = self
            .vars
            .iter()
            .rev()
            .find(|(var, _)| var.as_str() == Some(name))
        {
            return Some(value.clone());
        }
        self.chain
            .as_deref()
            .and_then(|node| node.find(name))
            .map(|node| node.value().clone())
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::NonEnumerable
    }
}
