//! Intrinsic functions (`States.Format(…)` and the other 17), parsed once into
//! call trees at load and evaluated per transition.

pub(crate) mod functions;

use crate::path::JsonPath;
use serde_json::Value;

pub use functions::java_to_string;

/// A compiled argument of an intrinsic call.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    /// A literal (string, number, boolean, null).
    Literal(Value),
    /// A path into the input, context or a variable.
    Path(JsonPath),
    /// A nested call.
    Call(Box<Call>),
}

/// A compiled intrinsic call.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    /// The function.
    pub func: Func,
    /// Its arguments.
    pub args: Vec<Arg>,
}

macro_rules! funcs {
    ($($v:ident => $n:literal),* $(,)?) => {
        /// The 18 intrinsic functions.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        #[allow(missing_docs)]
        pub enum Func { $($v),* }
        impl Func {
            /// Looks a function up by its full name.
            pub fn from_name(n: &str) -> Option<Func> {
                match n { $($n => Some(Func::$v),)* _ => None }
            }
            /// The full name, e.g. `States.Format`.
            pub fn name(self) -> &'static str {
                match self { $(Func::$v => $n),* }
            }
        }
    };
}

funcs! {
    Format => "States.Format", StringToJson => "States.StringToJson", JsonToString => "States.JsonToString",
    Array => "States.Array", ArrayPartition => "States.ArrayPartition", ArrayContains => "States.ArrayContains",
    ArrayRange => "States.ArrayRange", ArrayGetItem => "States.ArrayGetItem", ArrayLength => "States.ArrayLength",
    ArrayUnique => "States.ArrayUnique", Base64Encode => "States.Base64Encode", Base64Decode => "States.Base64Decode",
    Hash => "States.Hash", JsonMerge => "States.JsonMerge", MathRandom => "States.MathRandom",
    MathAdd => "States.MathAdd", StringSplit => "States.StringSplit", Uuid => "States.UUID",
}

/// What an intrinsic evaluation needs from the interpreter.
pub trait Resolver {
    /// Resolves a path (input, `$$` or variable); `None` when it does not match.
    fn resolve(&self, path: &JsonPath) -> Option<Value>;
}

/// Parses `States.X(…)`.
pub fn parse(text: &str) -> Result<Call, String> {
    let mut p = P {
        s: text.as_bytes(),
        src: text,
        i: 0,
    };
    p.ws();
    let c = p.call()?;
    p.ws();
    if p.i != p.s.len() {
        return Err(format!(
            "Unexpected trailing characters in intrinsic function: {text}"
        ));
    }
    Ok(c)
}

/// True when a `.$` value looks like an intrinsic call rather than a path.
pub fn is_intrinsic(text: &str) -> bool {
    text.trim_start().starts_with("States.")
}

/// Evaluates a compiled call. Errors are `(error name, cause)`.
pub fn eval(call: &Call, r: &dyn Resolver) -> Result<Value, (String, String)> {
    let mut args = Vec::with_capacity(call.args.len());
    for a in &call.args {
        args.push(match a {
            Arg::Literal(v) => v.clone(),
            Arg::Path(p) => r.resolve(p).ok_or_else(|| {
                (
                    crate::error::RUNTIME.to_string(),
                    format!("The JSONPath '{}' could not be found", p.text),
                )
            })?,
            Arg::Call(c) => eval(c, r)?,
        });
    }
    functions::apply(call.func, args).map_err(|m| (crate::error::RUNTIME.to_string(), m))
}

struct P<'a> {
    s: &'a [u8],
    src: &'a str,
    i: usize,
}

impl P<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }
    fn call(&mut self) -> Result<Call, String> {
        let start = self.i;
        while self.i < self.s.len()
            && (self.s[self.i].is_ascii_alphanumeric() || self.s[self.i] == b'.')
        {
            self.i += 1;
        }
        let name = &self.src[start..self.i];
        let func =
            Func::from_name(name).ok_or_else(|| format!("Unknown intrinsic function: '{name}'"))?;
        self.ws();
        if self.s.get(self.i) != Some(&b'(') {
            return Err(format!("Expected '(' after {name}"));
        }
        self.i += 1;
        let mut args = Vec::new();
        self.ws();
        if self.s.get(self.i) == Some(&b')') {
            self.i += 1;
            return Ok(Call { func, args });
        }
        loop {
            self.ws();
            args.push(self.arg()?);
            self.ws();
            match self.s.get(self.i) {
                Some(b',') => self.i += 1,
                Some(b')') => {
                    self.i += 1;
                    return Ok(Call { func, args });
                }
                _ => return Err(format!("Malformed arguments in intrinsic function {name}")),
            }
        }
    }
    fn arg(&mut self) -> Result<Arg, String> {
        match self.s.get(self.i) {
            Some(b'\'') => {
                self.i += 1;
                let mut out = String::new();
                loop {
                    let rest = &self.src[self.i..];
                    let mut chars = rest.chars();
                    match chars.next() {
                        None => return Err("Unterminated string literal".into()),
                        Some('\'') => {
                            self.i += 1;
                            return Ok(Arg::Literal(Value::String(out)));
                        }
                        Some('\\') => match chars.next() {
                            Some(c) => {
                                if !matches!(c, '\'' | '{' | '}' | '\\') {
                                    out.push('\\');
                                }
                                out.push(c);
                                self.i += 1 + c.len_utf8();
                            }
                            None => return Err("Unterminated string literal".into()),
                        },
                        Some(c) => {
                            out.push(c);
                            self.i += c.len_utf8();
                        }
                    }
                }
            }
            Some(b'$') => {
                let start = self.i;
                let mut depth = 0i32;
                let mut quote: Option<u8> = None;
                while self.i < self.s.len() {
                    let c = self.s[self.i];
                    if let Some(q) = quote {
                        if c == q {
                            quote = None;
                        }
                    } else if c == b'\'' || c == b'"' {
                        quote = Some(c);
                    } else if c == b'[' || c == b'(' {
                        depth += 1;
                    } else if c == b']' || (c == b')' && depth > 0) {
                        depth -= 1;
                    } else if depth == 0 && (c == b',' || c == b')' || c.is_ascii_whitespace()) {
                        break;
                    }
                    self.i += 1;
                }
                let text = &self.src[start..self.i];
                JsonPath::parse(text).map(Arg::Path).map_err(|e| e.0)
            }
            Some(b'S') => Ok(Arg::Call(Box::new(self.call()?))),
            _ => {
                let start = self.i;
                while self.i < self.s.len()
                    && !matches!(self.s[self.i], b',' | b')')
                    && !self.s[self.i].is_ascii_whitespace()
                {
                    self.i += 1;
                }
                let lit = &self.src[start..self.i];
                match serde_json::from_str::<Value>(lit) {
                    Ok(v @ (Value::Number(_) | Value::Bool(_) | Value::Null)) => {
                        Ok(Arg::Literal(v))
                    }
                    _ => Err(format!("Invalid literal '{lit}' in intrinsic function")),
                }
            }
        }
    }
}

/// Applies a function to already-evaluated arguments (used by JSONata's `$hash`).
pub fn apply_named(f: Func, args: Vec<Value>) -> Result<Value, String> {
    functions::apply(f, args)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    struct R(Value);
    impl Resolver for R {
        fn resolve(&self, p: &JsonPath) -> Option<Value> {
            p.select(&crate::value::Val::from(&self.0))
                .map(|v| v.to_json())
        }
    }

    #[test]
    fn nested_and_escapes() {
        let c = parse("States.Format('a\\'{}\\{', States.ArrayLength($.a))").unwrap();
        assert_eq!(eval(&c, &R(json!({"a": [1, 2]}))).unwrap(), json!("a'2{"));
        let c = parse("States.StringSplit($.s, ',')").unwrap();
        assert_eq!(
            eval(&c, &R(json!({"s": "a,,b"}))).unwrap(),
            json!(["a", "b"])
        );
        assert!(parse("States.Nope()").is_err());
        let c = parse("States.MathAdd($.a, -1)").unwrap();
        assert_eq!(
            eval(&c, &R(json!({"a": 9007199254740993i64}))).unwrap(),
            json!(9007199254740992i64)
        );
        let c = parse("States.MathAdd($.a, 0)").unwrap();
        assert_eq!(eval(&c, &R(json!({"a": 2.5}))).unwrap(), json!(3));
    }
}
