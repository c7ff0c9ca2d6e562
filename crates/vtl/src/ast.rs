//! The parsed form of a template: text, references and directives.

use std::sync::OnceLock;

/// One piece of a template body.
#[derive(Debug, Clone)]
pub(crate) enum Node {
    /// Literal text copied to the output.
    Text(String),
    /// A reference interpolated into the output.
    Ref(Box<Reference>),
    /// `#set($target = value)`.
    Set { target: Reference, value: Expr },
    /// `#if(..)..#elseif(..)..#else..#end`.
    If {
        branches: Vec<(Expr, Vec<Node>)>,
        otherwise: Vec<Node>,
    },
    /// `#foreach($var in iter)..#end`.
    Foreach {
        var: String,
        iter: Expr,
        body: Vec<Node>,
    },
    /// `#break`.
    Break,
    /// `#stop`.
    Stop,
}

/// `$root.part.part(..)[..]`.
#[derive(Debug, Clone)]
pub(crate) struct Reference {
    /// `$!name`: renders empty instead of its source when undefined.
    pub quiet: bool,
    /// The variable name.
    pub root: String,
    /// Properties, method calls and indexes, in order.
    pub parts: Vec<Part>,
    /// The exact source text, rendered when the reference is undefined.
    pub source: String,
}

/// One step after the root of a reference.
#[derive(Debug, Clone)]
pub(crate) enum Part {
    /// `.name`
    Prop(String),
    /// `.name(args)`; `regex` caches the compiled pattern when the first argument is a literal.
    Call {
        name: String,
        args: Vec<Expr>,
        regex: OnceLock<Result<regex::Regex, String>>,
    },
    /// `[expr]`
    Index(Expr),
}

/// Binary operators, Velocity spellings included (`eq`, `and`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BinOp {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
    Rem,
}

/// A literal scalar kept in the (thread-shareable) AST.
#[derive(Debug, Clone)]
pub(crate) enum Lit {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
}

/// An expression inside a directive or method argument.
#[derive(Debug, Clone)]
pub(crate) enum Expr {
    Lit(Lit),
    /// A double-quoted string containing references or directives.
    Interp(Vec<Node>),
    Ref(Box<Reference>),
    List(Vec<Expr>),
    Range(Box<Expr>, Box<Expr>),
    Map(Vec<(Expr, Expr)>),
    Not(Box<Expr>),
    Neg(Box<Expr>),
    Bin(BinOp, Box<Expr>, Box<Expr>),
}
