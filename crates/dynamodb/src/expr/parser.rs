//! Recursive-descent parser for the DynamoDB expression grammars
//! (Developer Guide, "Comparison operator and function reference" and
//! "Update expressions"), with DynamoDB's error messages.

use wsflow_aws_wire::ServiceError;

use super::{
    CmpOp, Cond, ExprKind, Operand, Path, PathElem, Placeholders, Update,
    lexer::{Tok, Token, tokenize},
    reserved::is_reserved,
};

/// Parser state over one expression.
pub struct Parser<'a> {
    src: &'a str,
    toks: Vec<Token>,
    pos: usize,
    kind: ExprKind,
    ph: &'a mut Placeholders,
}

const MAX_DEPTH: usize = 64;

impl<'a> Parser<'a> {
    pub fn new(
        src: &'a str,
        kind: ExprKind,
        ph: &'a mut Placeholders,
    ) -> Result<Self, ServiceError> {
        let toks = match tokenize(src) {
            Ok(t) => t,
            Err(at) => {
                let ch = src[at..].chars().next().unwrap_or(' ');
                return Err(ServiceError::validation(format!(
                    "Invalid {}: Syntax error; token: \"{ch}\", near: \"{}\"",
                    kind.param(),
                    near(src, at, at + ch.len_utf8())
                )));
            }
        };
        if toks.is_empty() {
            return Err(ServiceError::validation(format!(
                "Invalid {}: The expression can not be empty;",
                kind.param()
            )));
        }
        Ok(Self {
            src,
            toks,
            pos: 0,
            kind,
            ph,
        })
    }

    fn err(&self, msg: impl std::fmt::Display) -> ServiceError {
        ServiceError::validation(format!("Invalid {}: {msg}", self.kind.param()))
    }

    fn syntax(&self) -> ServiceError {
        match self.toks.get(self.pos) {
            Some(t) => {
                let s = self
                    .toks
                    .get(self.pos.saturating_sub(1))
                    .map_or(t.start, |p| p.start);
                let e = self.toks.get(self.pos + 1).map_or(t.end, |n| n.end);
                self.err(format!(
                    "Syntax error; token: \"{}\", near: \"{}\"",
                    &self.src[t.start..t.end],
                    &self.src[s..e]
                ))
            }
            None => {
                let s = self.toks.last().map_or(0, |t| t.start);
                self.err(format!(
                    "Syntax error; token: <EOF>, near: \"{}\"",
                    &self.src[s..]
                ))
            }
        }
    }

    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|t| &t.kind)
    }

    fn peek_at(&self, n: usize) -> Option<&Tok> {
        self.toks.get(self.pos + n).map(|t| &t.kind)
    }

    fn is_punct(&self, p: &str) -> bool {
        matches!(self.peek(), Some(Tok::Punct(q)) if *q == p)
    }

    fn is_keyword(&self, kw: &str) -> bool {
        matches!(self.peek(), Some(Tok::Ident(w)) if w.eq_ignore_ascii_case(kw))
    }

    fn expect_punct(&mut self, p: &str) -> Result<(), ServiceError> {
        if self.is_punct(p) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.syntax())
        }
    }

    fn expect_end(&self) -> Result<(), ServiceError> {
        if self.pos < self.toks.len() {
            Err(self.syntax())
        } else {
            Ok(())
        }
    }

    // ---- conditions ----

    pub fn condition_expression(mut self) -> Result<Cond, ServiceError> {
        let c = self.or(0)?;
        self.expect_end()?;
        Ok(c)
    }

    fn or(&mut self, depth: usize) -> Result<Cond, ServiceError> {
        if depth > MAX_DEPTH {
            return Err(self.err("The expression has too many nested levels"));
        }
        let mut left = self.and(depth)?;
        while self.is_keyword("OR") {
            self.pos += 1;
            let right = self.and(depth)?;
            left = Cond::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self, depth: usize) -> Result<Cond, ServiceError> {
        let mut left = self.not(depth)?;
        while self.is_keyword("AND") {
            self.pos += 1;
            let right = self.not(depth)?;
            left = Cond::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn not(&mut self, depth: usize) -> Result<Cond, ServiceError> {
        if self.is_keyword("NOT") {
            self.pos += 1;
            let inner = self.not(depth + 1)?;
            return Ok(Cond::Not(Box::new(inner)));
        }
        self.primary(depth)
    }

    fn primary(&mut self, depth: usize) -> Result<Cond, ServiceError> {
        if self.is_punct("(") {
            self.pos += 1;
            let c = self.or(depth + 1)?;
            self.expect_punct(")")?;
            return Ok(c);
        }
        // Boolean functions.
        if let (Some(Tok::Ident(f)), Some(Tok::Punct("("))) = (self.peek(), self.peek_at(1)) {
            let f = f.clone();
            match f.as_str() {
                "attribute_exists"
                | "attribute_not_exists"
                | "attribute_type"
                | "begins_with"
                | "contains" => {
                    self.pos += 2;
                    let c = match f.as_str() {
                        "attribute_exists" => Cond::Exists(self.path()?),
                        "attribute_not_exists" => Cond::NotExists(self.path()?),
                        "attribute_type" => {
                            let p = self.path()?;
                            self.expect_punct(",")?;
                            Cond::Type(p, self.operand()?)
                        }
                        "begins_with" => {
                            let a = self.operand()?;
                            self.expect_punct(",")?;
                            Cond::BeginsWith(a, self.operand()?)
                        }
                        _ => {
                            let a = self.operand()?;
                            self.expect_punct(",")?;
                            Cond::Contains(a, self.operand()?)
                        }
                    };
                    self.expect_punct(")")?;
                    return Ok(c);
                }
                "size" => {}
                _ => {
                    return Err(self.err(format!("Invalid function name; function: {f}")));
                }
            }
        }
        let left = self.operand()?;
        let op = match self.peek() {
            Some(Tok::Punct(p)) => match *p {
                "=" => Some(CmpOp::Eq),
                "<>" => Some(CmpOp::Ne),
                "<" => Some(CmpOp::Lt),
                "<=" => Some(CmpOp::Le),
                ">" => Some(CmpOp::Gt),
                ">=" => Some(CmpOp::Ge),
                _ => None,
            },
            _ => None,
        };
        if let Some(op) = op {
            self.pos += 1;
            let right = self.operand()?;
            return Ok(Cond::Cmp(op, left, right));
        }
        if self.is_keyword("BETWEEN") {
            self.pos += 1;
            let lo = self.operand()?;
            if !self.is_keyword("AND") {
                return Err(self.syntax());
            }
            self.pos += 1;
            let hi = self.operand()?;
            return Ok(Cond::Between(left, lo, hi));
        }
        if self.is_keyword("IN") {
            self.pos += 1;
            self.expect_punct("(")?;
            let mut list = vec![self.operand()?];
            while self.is_punct(",") {
                self.pos += 1;
                list.push(self.operand()?);
            }
            self.expect_punct(")")?;
            if list.len() > 100 {
                return Err(self.err(
                    "The IN operator is provided with too many operands; number of operands: "
                        .to_owned()
                        + &list.len().to_string(),
                ));
            }
            return Ok(Cond::In(left, list));
        }
        Err(self.syntax())
    }

    /// path | :value | size(path)
    fn operand(&mut self) -> Result<Operand, ServiceError> {
        match self.peek().cloned() {
            Some(Tok::Value(v)) => {
                self.pos += 1;
                self.ph.value(&v).map(Operand::Value).ok_or_else(|| {
                    self.err(format!(
                        "An expression attribute value used in expression is not defined; attribute value: {v}"
                    ))
                })
            }
            Some(Tok::Ident(f)) if self.peek_at(1) == Some(&Tok::Punct("(")) => {
                self.pos += 2;
                let op = match f.as_str() {
                    "size" => Operand::Size(self.path()?),
                    "if_not_exists" if self.kind == ExprKind::Update => {
                        let p = self.path()?;
                        self.expect_punct(",")?;
                        Operand::IfNotExists(p, Box::new(self.update_operand()?))
                    }
                    "list_append" if self.kind == ExprKind::Update => {
                        let a = self.update_operand()?;
                        self.expect_punct(",")?;
                        Operand::ListAppend(Box::new(a), Box::new(self.update_operand()?))
                    }
                    "attribute_exists"
                    | "attribute_not_exists"
                    | "attribute_type"
                    | "begins_with"
                    | "contains"
                    | "if_not_exists"
                    | "list_append" => {
                        return Err(self.err(format!(
                            "The function is not allowed to be used this way in an expression; function: {f}"
                        )));
                    }
                    _ => return Err(self.err(format!("Invalid function name; function: {f}"))),
                };
                self.expect_punct(")")?;
                Ok(op)
            }
            Some(Tok::Ident(_)) | Some(Tok::Name(_)) => Ok(Operand::Path(self.path()?)),
            _ => Err(self.syntax()),
        }
    }

    /// A document path: name ( '.' name | '[' int ']' )*
    fn path(&mut self) -> Result<Path, ServiceError> {
        let mut p = vec![PathElem::Attr(self.path_name()?)];
        loop {
            if self.is_punct(".") {
                self.pos += 1;
                p.push(PathElem::Attr(self.path_name()?));
            } else if self.is_punct("[") {
                self.pos += 1;
                let idx = match self.peek() {
                    Some(Tok::Int(i)) => i.parse::<usize>().map_err(|_| self.syntax())?,
                    _ => return Err(self.syntax()),
                };
                self.pos += 1;
                self.expect_punct("]")?;
                p.push(PathElem::Index(idx));
            } else {
                return Ok(p);
            }
        }
    }

    fn path_name(&mut self) -> Result<String, ServiceError> {
        match self.peek().cloned() {
            Some(Tok::Ident(w)) => {
                if is_reserved(&w) {
                    return Err(self.err(format!(
                        "Attribute name is a reserved keyword; reserved keyword: {w}"
                    )));
                }
                self.pos += 1;
                Ok(w)
            }
            Some(Tok::Name(n)) => {
                self.pos += 1;
                self.ph.name(&n).ok_or_else(|| {
                    self.err(format!(
                        "An expression attribute name used in the document path is not defined; attribute name: {n}"
                    ))
                })
            }
            _ => Err(self.syntax()),
        }
    }

    // ---- projection ----

    pub fn projection_expression(mut self) -> Result<Vec<Path>, ServiceError> {
        let mut out = vec![self.path()?];
        while self.is_punct(",") {
            self.pos += 1;
            out.push(self.path()?);
        }
        self.expect_end()?;
        Ok(out)
    }

    // ---- update ----

    pub fn update_expression(mut self) -> Result<Update, ServiceError> {
        let mut u = Update::default();
        let mut seen: Vec<String> = Vec::new();
        while self.pos < self.toks.len() {
            let clause = match self.peek() {
                Some(Tok::Ident(w)) => w.to_ascii_uppercase(),
                _ => return Err(self.syntax()),
            };
            if !matches!(clause.as_str(), "SET" | "REMOVE" | "ADD" | "DELETE") {
                return Err(self.syntax());
            }
            if seen.contains(&clause) {
                return Err(self.err(format!(
                    "The \"{clause}\" section can only be used once in an update expression;"
                )));
            }
            seen.push(clause.clone());
            self.pos += 1;
            loop {
                match clause.as_str() {
                    "SET" => {
                        let p = self.path()?;
                        self.expect_punct("=")?;
                        let v = self.set_value()?;
                        u.set.push((p, v));
                    }
                    "REMOVE" => u.remove.push(self.path()?),
                    "ADD" => {
                        let p = self.path()?;
                        let v = self.value_only()?;
                        u.add.push((p, v));
                    }
                    _ => {
                        let p = self.path()?;
                        let v = self.value_only()?;
                        u.delete.push((p, v));
                    }
                }
                if self.is_punct(",") {
                    self.pos += 1;
                } else {
                    break;
                }
            }
        }
        check_overlaps(&u).map_err(|m| self.err(m))?;
        Ok(u)
    }

    fn value_only(&mut self) -> Result<Operand, ServiceError> {
        match self.peek() {
            Some(Tok::Value(_)) => self.operand(),
            _ => Err(self.syntax()),
        }
    }

    /// operand [ ('+' | '-') operand ]
    fn set_value(&mut self) -> Result<Operand, ServiceError> {
        let left = self.update_operand()?;
        if self.is_punct("+") || self.is_punct("-") {
            let plus = self.is_punct("+");
            self.pos += 1;
            let right = self.update_operand()?;
            return Ok(if plus {
                Operand::Plus(Box::new(left), Box::new(right))
            } else {
                Operand::Minus(Box::new(left), Box::new(right))
            });
        }
        Ok(left)
    }

    fn update_operand(&mut self) -> Result<Operand, ServiceError> {
        let op = self.operand()?;
        if matches!(op, Operand::Size(_)) {
            return Err(
                self.err("The function is not allowed in an update expression; function: size")
            );
        }
        Ok(op)
    }
}

fn near(src: &str, start: usize, end: usize) -> &str {
    let s = src[..start].rfind(' ').map_or(0, |i| i + 1);
    let e = src[end..].find(' ').map_or(src.len(), |i| end + i);
    &src[s..e]
}

/// DynamoDB rejects updates whose paths overlap (one is a prefix of another).
fn check_overlaps(u: &Update) -> Result<(), String> {
    let paths = u.paths();
    for (i, a) in paths.iter().enumerate() {
        for b in &paths[i + 1..] {
            let n = a.len().min(b.len());
            if a[..n] == b[..n] {
                return Err(format!(
                    "Two document paths overlap with each other; must remove or rewrite one of these paths; path one: {}, path two: {}",
                    super::path_display(a),
                    super::path_display(b)
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::*;

    fn ph() -> Placeholders {
        Placeholders::from_request(&json!({
            "ExpressionAttributeNames": {"#t": "ttl"},
            "ExpressionAttributeValues": {":v": {"S": "x"}, ":n": {"N": "1"}}
        }))
        .unwrap()
    }

    #[test]
    fn parses_conditions() {
        let mut p = ph();
        let c = parse_condition(
            "attribute_not_exists(pk) OR (#t < :n AND NOT begins_with(a.b[1], :v))",
            ExprKind::Condition,
            &mut p,
        )
        .unwrap();
        assert!(matches!(c, Cond::Or(_, _)));
        p.check_all_used().unwrap();
        let c = parse_condition("a BETWEEN :n AND :n", ExprKind::Filter, &mut ph()).unwrap();
        assert!(matches!(c, Cond::Between(..)));
        let c = parse_condition("size(a) > :n", ExprKind::Filter, &mut ph()).unwrap();
        assert!(matches!(c, Cond::Cmp(CmpOp::Gt, Operand::Size(_), _)));
    }

    #[test]
    fn reports_errors_like_dynamodb() {
        let e = parse_condition("ttl < :n", ExprKind::Condition, &mut ph()).unwrap_err();
        assert_eq!(
            e.message,
            "Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: ttl"
        );
        let e = parse_condition("a = :zz", ExprKind::Condition, &mut ph()).unwrap_err();
        assert_eq!(
            e.message,
            "Invalid ConditionExpression: An expression attribute value used in expression is not defined; attribute value: :zz"
        );
        let e = parse_condition("#x = :v", ExprKind::Filter, &mut ph()).unwrap_err();
        assert!(e.message.contains("attribute name: #x"), "{}", e.message);
        let e = parse_condition("a = ", ExprKind::Condition, &mut ph()).unwrap_err();
        assert!(
            e.message.contains("Syntax error; token: <EOF>"),
            "{}",
            e.message
        );
        let e = parse_condition("foo(a)", ExprKind::Condition, &mut ph()).unwrap_err();
        assert!(e.message.ends_with("Invalid function name; function: foo"));
        let mut p = ph();
        parse_condition("a = :v", ExprKind::Condition, &mut p).unwrap();
        let e = p.check_all_used().unwrap_err();
        assert_eq!(
            e.message,
            "Value provided in ExpressionAttributeNames unused in expressions: keys: {#t}"
        );
    }

    #[test]
    fn parses_updates() {
        let mut p = ph();
        let u = parse_update(
            "SET a = if_not_exists(a, :n) + :n, b = list_append(b, :v) REMOVE c ADD #t :n DELETE s :v",
            &mut p,
        )
        .unwrap();
        assert_eq!(
            (u.set.len(), u.remove.len(), u.add.len(), u.delete.len()),
            (2, 1, 1, 1)
        );
        let e = parse_update("SET a = :v, a.b = :v", &mut ph()).unwrap_err();
        assert!(
            e.message.contains("Two document paths overlap"),
            "{}",
            e.message
        );
        let e = parse_update("SET a = :v SET b = :v", &mut ph()).unwrap_err();
        assert!(e.message.contains("\"SET\" section can only be used once"));
    }
}
