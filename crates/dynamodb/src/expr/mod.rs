//! DynamoDB expressions: condition/filter/key-condition, projection and
//! update expressions — their syntax tree, the parser, evaluation against an
//! item, and the bookkeeping of `ExpressionAttributeNames`/`Values`.
//!
//! Names (`#n`) and values (`:v`) are substituted while parsing, so the
//! trees hold real attribute names and values.

mod eval;
mod lexer;
mod parser;
mod project;
pub mod reserved;
mod update;

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;
use wsflow_aws_wire::ServiceError;

use crate::value::AttrValue;

pub use eval::{eval_condition, resolve};
pub use project::project;
pub use update::apply_update;

/// One step of a document path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathElem {
    /// A map key / top-level attribute name.
    Attr(String),
    /// A list index.
    Index(usize),
}

/// A document path such as `a.b[2].c`.
pub type Path = Vec<PathElem>;

/// Comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    /// `=`
    Eq,
    /// `<>`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

/// Something that yields a value: a path, a literal, or a function.
#[derive(Debug, Clone)]
pub enum Operand {
    /// An attribute of the item.
    Path(Path),
    /// An `ExpressionAttributeValues` value.
    Value(AttrValue),
    /// `size(path)`.
    Size(Path),
    /// `if_not_exists(path, operand)` (update expressions).
    IfNotExists(Path, Box<Operand>),
    /// `list_append(a, b)` (update expressions).
    ListAppend(Box<Operand>, Box<Operand>),
    /// `a + b` (update expressions).
    Plus(Box<Operand>, Box<Operand>),
    /// `a - b` (update expressions).
    Minus(Box<Operand>, Box<Operand>),
}

/// A condition (ConditionExpression, FilterExpression, KeyConditionExpression).
#[derive(Debug, Clone)]
pub enum Cond {
    /// `a <op> b`.
    Cmp(CmpOp, Operand, Operand),
    /// `a BETWEEN b AND c`.
    Between(Operand, Operand, Operand),
    /// `a IN (b, c, …)`.
    In(Operand, Vec<Operand>),
    /// `attribute_exists(path)`.
    Exists(Path),
    /// `attribute_not_exists(path)`.
    NotExists(Path),
    /// `attribute_type(path, :t)`.
    Type(Path, Operand),
    /// `begins_with(a, b)`.
    BeginsWith(Operand, Operand),
    /// `contains(a, b)`.
    Contains(Operand, Operand),
    /// `a AND b`.
    And(Box<Cond>, Box<Cond>),
    /// `a OR b`.
    Or(Box<Cond>, Box<Cond>),
    /// `NOT a`.
    Not(Box<Cond>),
}

/// A parsed UpdateExpression.
#[derive(Debug, Clone, Default)]
pub struct Update {
    /// `SET path = value` actions.
    pub set: Vec<(Path, Operand)>,
    /// `REMOVE path` actions.
    pub remove: Vec<Path>,
    /// `ADD path value` actions.
    pub add: Vec<(Path, Operand)>,
    /// `DELETE path value` actions.
    pub delete: Vec<(Path, Operand)>,
}

impl Update {
    /// Every path the update writes, in order.
    pub fn paths(&self) -> Vec<&Path> {
        self.set
            .iter()
            .map(|(p, _)| p)
            .chain(self.remove.iter())
            .chain(self.add.iter().map(|(p, _)| p))
            .chain(self.delete.iter().map(|(p, _)| p))
            .collect()
    }
}

/// Which expression is being parsed: names the parameter in error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExprKind {
    /// `ConditionExpression`.
    Condition,
    /// `FilterExpression`.
    Filter,
    /// `KeyConditionExpression`.
    KeyCondition,
    /// `ProjectionExpression`.
    Projection,
    /// `UpdateExpression`.
    Update,
}

impl ExprKind {
    fn param(self) -> &'static str {
        match self {
            ExprKind::Condition => "ConditionExpression",
            ExprKind::Filter => "FilterExpression",
            ExprKind::KeyCondition => "KeyConditionExpression",
            ExprKind::Projection => "ProjectionExpression",
            ExprKind::Update => "UpdateExpression",
        }
    }
}

/// A request's `ExpressionAttributeNames` and `ExpressionAttributeValues`,
/// tracking which ones the request's expressions used (DynamoDB rejects
/// unused ones).
#[derive(Debug, Default)]
pub struct Placeholders {
    names: BTreeMap<String, String>,
    values: BTreeMap<String, AttrValue>,
    used_names: BTreeSet<String>,
    used_values: BTreeSet<String>,
}

impl Placeholders {
    /// Reads the two maps from a request body.
    pub fn from_request(body: &Value) -> Result<Self, ServiceError> {
        let mut p = Placeholders::default();
        if let Some(names) = body
            .get("ExpressionAttributeNames")
            .filter(|v| !v.is_null())
        {
            let obj = names.as_object().ok_or_else(|| {
                ServiceError::client(
                    "SerializationException",
                    "ExpressionAttributeNames must be a map",
                )
            })?;
            if obj.is_empty() {
                return Err(ServiceError::validation(
                    "ExpressionAttributeNames must not be empty",
                ));
            }
            for (k, v) in obj {
                let v = v.as_str().ok_or_else(|| {
                    ServiceError::client(
                        "SerializationException",
                        "ExpressionAttributeNames values must be strings",
                    )
                })?;
                p.names.insert(k.clone(), v.to_owned());
            }
        }
        if let Some(values) = body
            .get("ExpressionAttributeValues")
            .filter(|v| !v.is_null())
        {
            if values.as_object().is_some_and(|o| o.is_empty()) {
                return Err(ServiceError::validation(
                    "ExpressionAttributeValues must not be empty",
                ));
            }
            let obj = values.as_object().ok_or_else(|| {
                ServiceError::client(
                    "SerializationException",
                    "ExpressionAttributeValues must be a map",
                )
            })?;
            for (k, v) in obj {
                let parsed = AttrValue::from_json(v).map_err(|e| {
                    ServiceError::validation(format!(
                        "ExpressionAttributeValues contains invalid value: {} for key {k}",
                        e.message
                    ))
                })?;
                p.values.insert(k.clone(), parsed);
            }
        }
        Ok(p)
    }

    fn name(&mut self, placeholder: &str) -> Option<String> {
        let v = self.names.get(placeholder)?.clone();
        self.used_names.insert(placeholder.to_owned());
        Some(v)
    }

    fn value(&mut self, placeholder: &str) -> Option<AttrValue> {
        let v = self.values.get(placeholder)?.clone();
        self.used_values.insert(placeholder.to_owned());
        Some(v)
    }

    /// After all expressions are parsed: DynamoDB's errors for unused names/values.
    pub fn check_all_used(&self) -> Result<(), ServiceError> {
        let unused: Vec<&str> = self
            .names
            .keys()
            .filter(|k| !self.used_names.contains(*k))
            .map(String::as_str)
            .collect();
        if !unused.is_empty() {
            return Err(ServiceError::validation(format!(
                "Value provided in ExpressionAttributeNames unused in expressions: keys: {{{}}}",
                unused.join(", ")
            )));
        }
        let unused: Vec<&str> = self
            .values
            .keys()
            .filter(|k| !self.used_values.contains(*k))
            .map(String::as_str)
            .collect();
        if !unused.is_empty() {
            return Err(ServiceError::validation(format!(
                "Value provided in ExpressionAttributeValues unused in expressions: keys: {{{}}}",
                unused.join(", ")
            )));
        }
        Ok(())
    }
}

/// Parses a condition-shaped expression.
pub fn parse_condition(
    src: &str,
    kind: ExprKind,
    ph: &mut Placeholders,
) -> Result<Cond, ServiceError> {
    parser::Parser::new(src, kind, ph)?.condition_expression()
}

/// Parses a ProjectionExpression.
pub fn parse_projection(src: &str, ph: &mut Placeholders) -> Result<Vec<Path>, ServiceError> {
    parser::Parser::new(src, ExprKind::Projection, ph)?.projection_expression()
}

/// Parses an UpdateExpression.
pub fn parse_update(src: &str, ph: &mut Placeholders) -> Result<Update, ServiceError> {
    parser::Parser::new(src, ExprKind::Update, ph)?.update_expression()
}

/// Renders a path for messages: `[a, b, [2]]`-like, as DynamoDB does.
pub fn path_display(p: &Path) -> String {
    let parts: Vec<String> = p
        .iter()
        .map(|e| match e {
            PathElem::Attr(a) => a.clone(),
            PathElem::Index(i) => format!("[{i}]"),
        })
        .collect();
    format!("[{}]", parts.join(", "))
}
