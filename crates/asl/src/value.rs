//! Data sources a state reads from: the input document, the context object and
//! the workflow variables, bundled as [`Sources`].

use crate::path::{JsonPath, Root};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;

/// Workflow variables visible to a state (inner scopes get a copy of the outer ones).
pub type Variables = HashMap<String, Value>;

/// Shared handle to variables.
pub type SharedVars = Arc<Variables>;

/// Everything a path can point into.
pub struct Sources<'a> {
    /// `$`.
    pub input: &'a Value,
    /// `$$`.
    pub context: &'a Value,
    /// `$name`.
    pub vars: &'a Variables,
}

impl Sources<'_> {
    /// The document a path's root designates, if any.
    pub fn root_of(&self, p: &JsonPath) -> Option<&Value> {
        match &p.root {
            Root::Input => Some(self.input),
            Root::Context => Some(self.context),
            Root::Variable(n) => self.vars.get(n),
        }
    }

    /// Resolves a path against the right root.
    pub fn resolve(&self, p: &JsonPath) -> Option<Value> {
        let root = self.root_of(p)?;
        if p.is_plain() {
            p.select_ref(root).cloned()
        } else {
            p.select(root)
        }
    }
}

impl crate::intrinsics::Resolver for Sources<'_> {
    fn resolve(&self, path: &JsonPath) -> Option<Value> {
        Sources::resolve(self, path)
    }
}
