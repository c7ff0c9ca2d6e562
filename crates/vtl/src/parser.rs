//! Template source → AST. One pass over the bytes; every syntax character is ASCII, so text is
//! copied as `str` slices at byte offsets that are always character boundaries.
//!
//! Whitespace follows Velocity 1.x "line gobbling": a directive (or `##` comment) followed by
//! nothing but blanks up to the end of its line also consumes that newline, and when it is alone
//! on its line the blanks before it are dropped too.

use std::sync::OnceLock;

use crate::VtlError;
use crate::ast::{BinOp, Expr, Lit, Node, Part, Reference};
use crate::limits::MAX_NESTING;

type PResult<T> = Result<T, VtlError>;

/// Parses a whole template.
pub(crate) fn parse(src: &str) -> PResult<Vec<Node>> {
    let mut p = Parser {
        src,
        b: src.as_bytes(),
        pos: 0,
        end: src.len(),
        depth: 0,
    };
    let (nodes, term) = p.block()?;
    p.expect_eof(term)?;
    Ok(nodes)
}

/// How a block ended.
enum Term {
    Eof,
    End(usize),
    Else(usize),
    ElseIf(usize, Expr),
}

struct Parser<'s> {
    src: &'s str,
    b: &'s [u8],
    pos: usize,
    end: usize,
    depth: usize,
}

fn ident_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_'
}

fn ident_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

impl<'s> Parser<'s> {
    fn peek(&self) -> Option<u8> {
        (self.pos < self.end).then(|| self.b[self.pos])
    }

    fn at(&self, i: usize) -> Option<u8> {
        (i < self.end).then(|| self.b[i])
    }

    fn err_at(&self, at: usize, message: impl Into<String>) -> VtlError {
        let at = at.min(self.src.len());
        let before = &self.src[..floor_boundary(self.src, at)];
        let line = before.matches('\n').count() + 1;
        let column = before
            .rsplit('\n')
            .next()
            .map(|l| l.chars().count())
            .unwrap_or(0)
            + 1;
        VtlError::Parse {
            line,
            column,
            message: message.into(),
        }
    }

    fn enter(&mut self) -> PResult<()> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err(self.err_at(self.pos, "template nested too deeply"));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    fn expect_eof(&self, term: Term) -> PResult<()> {
        match term {
            Term::Eof => Ok(()),
            Term::End(at) => Err(self.err_at(at, "#end without a matching #if or #foreach")),
            Term::Else(at) | Term::ElseIf(at, _) => {
                Err(self.err_at(at, "#else/#elseif without a matching #if"))
            }
        }
    }

    /// Parses text and directives until EOF or a block terminator (`#end`, `#else`, `#elseif`).
    fn block(&mut self) -> PResult<(Vec<Node>, Term)> {
        self.enter()?;
        let r = self.block_inner();
        self.leave();
        r
    }

    fn block_inner(&mut self) -> PResult<(Vec<Node>, Term)> {
        let mut nodes = Vec::new();
        let mut text = String::new();
        macro_rules! flush {
            () => {
                if !text.is_empty() {
                    nodes.push(Node::Text(std::mem::take(&mut text)));
                }
            };
        }
        while let Some(c) = self.peek() {
            match c {
                b'\\' => match self.at(self.pos + 1) {
                    Some(n @ (b'$' | b'#')) => {
                        text.push(n as char);
                        self.pos += 2;
                    }
                    _ => {
                        text.push('\\');
                        self.pos += 1;
                    }
                },
                b'$' => {
                    if let Some(r) = self.reference(true)? {
                        flush!();
                        nodes.push(Node::Ref(Box::new(r)));
                    } else {
                        text.push('$');
                        self.pos += 1;
                    }
                }
                b'#' => {
                    let start = self.pos;
                    match self.at(self.pos + 1) {
                        Some(b'#') => {
                            let alone = self.alone_before(start);
                            while let Some(c) = self.peek() {
                                self.pos += 1;
                                if c == b'\n' {
                                    break;
                                }
                            }
                            if alone {
                                trim_line_blanks(&mut text);
                            }
                            continue;
                        }
                        Some(b'*') => {
                            let Some(close) = self.src[self.pos + 2..self.end].find("*#") else {
                                return Err(self.err_at(start, "unterminated #* comment"));
                            };
                            self.pos += 2 + close + 2;
                            continue;
                        }
                        _ => {}
                    }
                    let Some((name, after)) = self.directive_name() else {
                        text.push('#');
                        self.pos += 1;
                        continue;
                    };
                    let known = matches!(
                        name,
                        "set" | "if" | "elseif" | "else" | "end" | "foreach" | "break" | "stop"
                    );
                    if !known {
                        text.push('#');
                        self.pos += 1;
                        continue;
                    }
                    self.pos = after;
                    let alone = self.alone_before(start);
                    match name {
                        "set" => {
                            let (target, value) = self.set_args()?;
                            self.gobble(alone, &mut text);
                            flush!();
                            nodes.push(Node::Set { target, value });
                        }
                        "if" => {
                            let cond = self.paren_expr()?;
                            self.gobble(alone, &mut text);
                            flush!();
                            nodes.push(self.if_rest(start, cond)?);
                        }
                        "foreach" => {
                            let (var, iter) = self.foreach_args()?;
                            self.gobble(alone, &mut text);
                            flush!();
                            let (body, term) = self.block()?;
                            match term {
                                Term::End(_) => {}
                                Term::Eof => {
                                    return Err(self.err_at(start, "#foreach without #end"));
                                }
                                Term::Else(at) | Term::ElseIf(at, _) => {
                                    return Err(self.err_at(at, "#else inside #foreach"));
                                }
                            }
                            nodes.push(Node::Foreach { var, iter, body });
                        }
                        "elseif" => {
                            let cond = self.paren_expr()?;
                            self.gobble(alone, &mut text);
                            flush!();
                            return Ok((nodes, Term::ElseIf(start, cond)));
                        }
                        "else" => {
                            self.gobble(alone, &mut text);
                            flush!();
                            return Ok((nodes, Term::Else(start)));
                        }
                        "end" => {
                            self.gobble(alone, &mut text);
                            flush!();
                            return Ok((nodes, Term::End(start)));
                        }
                        "break" => {
                            self.gobble(alone, &mut text);
                            flush!();
                            nodes.push(Node::Break);
                        }
                        _ => {
                            self.gobble(alone, &mut text);
                            flush!();
                            nodes.push(Node::Stop);
                        }
                    }
                }
                _ => {
                    let start = self.pos;
                    while let Some(c) = self.peek() {
                        if matches!(c, b'\\' | b'#' | b'$') {
                            break;
                        }
                        self.pos += 1;
                    }
                    text.push_str(&self.src[start..self.pos]);
                }
            }
        }
        flush!();
        Ok((nodes, Term::Eof))
    }

    /// The rest of an `#if` after its condition: branches until `#end`.
    fn if_rest(&mut self, start: usize, cond: Expr) -> PResult<Node> {
        let mut branches = Vec::new();
        let mut cond = cond;
        loop {
            let (body, term) = self.block()?;
            branches.push((cond, body));
            match term {
                Term::End(_) => {
                    return Ok(Node::If {
                        branches,
                        otherwise: Vec::new(),
                    });
                }
                Term::ElseIf(_, c) => cond = c,
                Term::Else(_) => {
                    let (otherwise, term) = self.block()?;
                    return match term {
                        Term::End(_) => Ok(Node::If {
                            branches,
                            otherwise,
                        }),
                        Term::Eof => Err(self.err_at(start, "#if without #end")),
                        Term::Else(at) | Term::ElseIf(at, _) => {
                            Err(self.err_at(at, "#else/#elseif after #else"))
                        }
                    };
                }
                Term::Eof => return Err(self.err_at(start, "#if without #end")),
            }
        }
    }

    /// True when only blanks precede `at` on its line.
    fn alone_before(&self, at: usize) -> bool {
        let mut i = at;
        while i > 0 {
            match self.b[i - 1] {
                b' ' | b'\t' => i -= 1,
                b'\n' => return true,
                _ => return false,
            }
        }
        true
    }

    /// After a directive: consume trailing blanks + newline; if alone on its line, also drop the
    /// blanks before it.
    fn gobble(&mut self, alone: bool, text: &mut String) {
        let mut i = self.pos;
        while let Some(b' ' | b'\t' | b'\r') = self.at(i) {
            i += 1;
        }
        match self.at(i) {
            Some(b'\n') => {
                self.pos = i + 1;
                if alone {
                    trim_line_blanks(text);
                }
            }
            None => {
                self.pos = i;
                if alone {
                    trim_line_blanks(text);
                }
            }
            _ => {}
        }
    }

    /// `#name` or `#{name}` at `pos`; returns the name and the offset after it.
    fn directive_name(&self) -> Option<(&'s str, usize)> {
        let mut i = self.pos + 1;
        let formal = self.at(i) == Some(b'{');
        if formal {
            i += 1;
        }
        let s = i;
        while self.at(i).is_some_and(|c| c.is_ascii_alphabetic()) {
            i += 1;
        }
        if i == s {
            return None;
        }
        let name = &self.src[s..i];
        if formal {
            if self.at(i) != Some(b'}') {
                return None;
            }
            i += 1;
        }
        Some((name, i))
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\r' | b'\n') = self.peek() {
            self.pos += 1;
        }
    }

    fn expect(&mut self, c: u8, what: &str) -> PResult<()> {
        self.skip_ws();
        if self.peek() == Some(c) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.err_at(self.pos, format!("expected {what}")))
        }
    }

    fn paren_expr(&mut self) -> PResult<Expr> {
        self.expect(b'(', "'(' after directive")?;
        let e = self.expr()?;
        self.expect(b')', "')'")?;
        Ok(e)
    }

    fn set_args(&mut self) -> PResult<(Reference, Expr)> {
        self.expect(b'(', "'(' after #set")?;
        self.skip_ws();
        let at = self.pos;
        let target = match self.reference(false)? {
            Some(r) => r,
            None => return Err(self.err_at(at, "#set needs a $reference on the left")),
        };
        if target.parts.iter().any(|p| matches!(p, Part::Call { .. })) {
            return Err(self.err_at(at, "#set cannot assign to a method call"));
        }
        self.expect(b'=', "'=' in #set")?;
        let value = self.expr()?;
        self.expect(b')', "')' closing #set")?;
        Ok((target, value))
    }

    fn foreach_args(&mut self) -> PResult<(String, Expr)> {
        self.expect(b'(', "'(' after #foreach")?;
        self.skip_ws();
        let at = self.pos;
        let var = match self.reference(false)? {
            Some(r) if r.parts.is_empty() => r.root,
            _ => return Err(self.err_at(at, "#foreach needs a plain $variable")),
        };
        self.skip_ws();
        if !self.keyword("in") {
            return Err(self.err_at(self.pos, "expected 'in' in #foreach"));
        }
        let iter = self.expr()?;
        self.expect(b')', "')' closing #foreach")?;
        Ok((var, iter))
    }

    /// Consumes the word `kw` if it stands alone at `pos`.
    fn keyword(&mut self, kw: &str) -> bool {
        let end = self.pos + kw.len();
        if end <= self.end
            && &self.b[self.pos..end] == kw.as_bytes()
            && !self.at(end).is_some_and(ident_char)
        {
            self.pos = end;
            true
        } else {
            false
        }
    }

    /// A `$reference` at `pos`, or `None` (position unchanged) when `$` does not start one.
    fn reference(&mut self, in_text: bool) -> PResult<Option<Reference>> {
        let start = self.pos;
        if self.peek() != Some(b'$') {
            return Ok(None);
        }
        let mut i = start + 1;
        let quiet = self.at(i) == Some(b'!');
        if quiet {
            i += 1;
        }
        let formal = self.at(i) == Some(b'{');
        if formal {
            i += 1;
        }
        if !self.at(i).is_some_and(ident_start) {
            return Ok(None);
        }
        let s = i;
        while self.at(i).is_some_and(ident_char) {
            i += 1;
        }
        let root = self.src[s..i].to_string();
        self.pos = i;
        self.enter()?;
        let parts = self.parts(in_text);
        self.leave();
        let parts = parts?;
        if formal {
            if self.peek() == Some(b'}') {
                self.pos += 1;
            } else if in_text {
                self.pos = start;
                return Ok(None);
            } else {
                return Err(self.err_at(self.pos, "expected '}' closing ${reference}"));
            }
        }
        Ok(Some(Reference {
            quiet,
            root,
            parts,
            source: self.src[start..self.pos].to_string(),
        }))
    }

    fn parts(&mut self, in_text: bool) -> PResult<Vec<Part>> {
        let mut parts = Vec::new();
        loop {
            match self.peek() {
                Some(b'.') if self.at(self.pos + 1).is_some_and(ident_start) => {
                    let s = self.pos + 1;
                    let mut i = s;
                    while self.at(i).is_some_and(ident_char) {
                        i += 1;
                    }
                    let name = self.src[s..i].to_string();
                    self.pos = i;
                    if self.peek() == Some(b'(') {
                        self.pos += 1;
                        let args = self.args()?;
                        parts.push(Part::Call {
                            name,
                            args,
                            regex: OnceLock::new(),
                        });
                    } else {
                        parts.push(Part::Prop(name));
                    }
                }
                Some(b'[') => {
                    let save = self.pos;
                    self.pos += 1;
                    let r = self.expr().and_then(|e| {
                        self.expect(b']', "']'")?;
                        Ok(e)
                    });
                    match r {
                        Ok(e) => parts.push(Part::Index(e)),
                        Err(_) if in_text => {
                            self.pos = save;
                            return Ok(parts);
                        }
                        Err(e) => return Err(e),
                    }
                }
                _ => return Ok(parts),
            }
        }
    }

    /// Method arguments after `(`, through `)`.
    fn args(&mut self) -> PResult<Vec<Expr>> {
        let mut args = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b')') {
            self.pos += 1;
            return Ok(args);
        }
        loop {
            args.push(self.expr()?);
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b')') => {
                    self.pos += 1;
                    return Ok(args);
                }
                _ => return Err(self.err_at(self.pos, "expected ',' or ')' in arguments")),
            }
        }
    }

    fn expr(&mut self) -> PResult<Expr> {
        self.enter()?;
        let r = self.or_expr();
        self.leave();
        r
    }

    fn or_expr(&mut self) -> PResult<Expr> {
        let mut l = self.and_expr()?;
        loop {
            self.skip_ws();
            if self.sym("||") || self.keyword("or") {
                let r = self.and_expr()?;
                l = Expr::Bin(BinOp::Or, Box::new(l), Box::new(r));
            } else {
                return Ok(l);
            }
        }
    }

    fn and_expr(&mut self) -> PResult<Expr> {
        let mut l = self.eq_expr()?;
        loop {
            self.skip_ws();
            if self.sym("&&") || self.keyword("and") {
                let r = self.eq_expr()?;
                l = Expr::Bin(BinOp::And, Box::new(l), Box::new(r));
            } else {
                return Ok(l);
            }
        }
    }

    fn eq_expr(&mut self) -> PResult<Expr> {
        let mut l = self.rel_expr()?;
        loop {
            self.skip_ws();
            let op = if self.sym("==") || self.keyword("eq") {
                BinOp::Eq
            } else if self.sym("!=") || self.keyword("ne") {
                BinOp::Ne
            } else {
                return Ok(l);
            };
            let r = self.rel_expr()?;
            l = Expr::Bin(op, Box::new(l), Box::new(r));
        }
    }

    fn rel_expr(&mut self) -> PResult<Expr> {
        let mut l = self.add_expr()?;
        loop {
            self.skip_ws();
            let op = if self.sym("<=") || self.keyword("le") {
                BinOp::Le
            } else if self.sym(">=") || self.keyword("ge") {
                BinOp::Ge
            } else if self.sym("<") || self.keyword("lt") {
                BinOp::Lt
            } else if self.sym(">") || self.keyword("gt") {
                BinOp::Gt
            } else {
                return Ok(l);
            };
            let r = self.add_expr()?;
            l = Expr::Bin(op, Box::new(l), Box::new(r));
        }
    }

    fn add_expr(&mut self) -> PResult<Expr> {
        let mut l = self.mul_expr()?;
        loop {
            self.skip_ws();
            let op = if self.sym("+") {
                BinOp::Add
            } else if self.peek() == Some(b'-') && self.at(self.pos + 1) != Some(b'-') {
                self.pos += 1;
                BinOp::Sub
            } else {
                return Ok(l);
            };
            let r = self.mul_expr()?;
            l = Expr::Bin(op, Box::new(l), Box::new(r));
        }
    }

    fn mul_expr(&mut self) -> PResult<Expr> {
        let mut l = self.unary()?;
        loop {
            self.skip_ws();
            let op = if self.sym("*") {
                BinOp::Mul
            } else if self.sym("/") {
                BinOp::Div
            } else if self.sym("%") {
                BinOp::Rem
            } else {
                return Ok(l);
            };
            let r = self.unary()?;
            l = Expr::Bin(op, Box::new(l), Box::new(r));
        }
    }

    fn unary(&mut self) -> PResult<Expr> {
        self.skip_ws();
        self.enter()?;
        let r = if self.peek() == Some(b'!') && self.at(self.pos + 1) != Some(b'=') {
            self.pos += 1;
            self.unary().map(|e| Expr::Not(Box::new(e)))
        } else if self.keyword("not") {
            self.unary().map(|e| Expr::Not(Box::new(e)))
        } else if self.peek() == Some(b'-') {
            self.pos += 1;
            self.unary().map(|e| match e {
                Expr::Lit(Lit::Int(i)) => Expr::Lit(Lit::Int(i.wrapping_neg())),
                Expr::Lit(Lit::Float(f)) => Expr::Lit(Lit::Float(-f)),
                e => Expr::Neg(Box::new(e)),
            })
        } else {
            self.primary()
        };
        self.leave();
        r
    }

    fn sym(&mut self, s: &str) -> bool {
        let end = self.pos + s.len();
        if end <= self.end && &self.b[self.pos..end] == s.as_bytes() {
            self.pos = end;
            true
        } else {
            false
        }
    }

    fn primary(&mut self) -> PResult<Expr> {
        self.skip_ws();
        let at = self.pos;
        match self.peek() {
            None => Err(self.err_at(at, "unexpected end of template in expression")),
            Some(b'(') => {
                self.pos += 1;
                let e = self.expr()?;
                self.expect(b')', "')'")?;
                Ok(e)
            }
            Some(b'$') => match self.reference(false)? {
                Some(r) => Ok(Expr::Ref(Box::new(r))),
                None => Err(self.err_at(at, "expected a reference after '$'")),
            },
            Some(q @ (b'"' | b'\'')) => self.string(q),
            Some(b'[') => self.list(),
            Some(b'{') => self.map(),
            Some(c) if c.is_ascii_digit() => self.number(),
            Some(_) => {
                if self.keyword("true") {
                    Ok(Expr::Lit(Lit::Bool(true)))
                } else if self.keyword("false") {
                    Ok(Expr::Lit(Lit::Bool(false)))
                } else if self.keyword("null") {
                    Ok(Expr::Lit(Lit::Null))
                } else {
                    Err(self.err_at(at, "expected an expression"))
                }
            }
        }
    }

    fn number(&mut self) -> PResult<Expr> {
        let s = self.pos;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
        }
        let mut float = false;
        if self.peek() == Some(b'.') && self.at(self.pos + 1).is_some_and(|c| c.is_ascii_digit()) {
            float = true;
            self.pos += 1;
            while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                self.pos += 1;
            }
        }
        let text = &self.src[s..self.pos];
        if float {
            text.parse::<f64>()
                .map(|f| Expr::Lit(Lit::Float(f)))
                .map_err(|_| self.err_at(s, "bad number"))
        } else {
            match text.parse::<i64>() {
                Ok(i) => Ok(Expr::Lit(Lit::Int(i))),
                Err(_) => text
                    .parse::<f64>()
                    .map(|f| Expr::Lit(Lit::Float(f)))
                    .map_err(|_| self.err_at(s, "bad number")),
            }
        }
    }

    /// A quoted string. Single quotes are literal; double quotes interpolate references and
    /// directives. As in Velocity 1.7, backslashes are kept as written (they only stop a quote
    /// from closing the string) and a doubled quote stands for one quote.
    fn string(&mut self, q: u8) -> PResult<Expr> {
        let open = self.pos;
        let s = self.pos + 1;
        let mut i = s;
        let mut doubled = false;
        loop {
            match self.at(i) {
                None => return Err(self.err_at(open, "unterminated string literal")),
                Some(b'\\') => i += 2,
                Some(c) if c == q => {
                    if self.at(i + 1) == Some(q) {
                        doubled = true;
                        i += 2;
                    } else {
                        break;
                    }
                }
                Some(_) => i += 1,
            }
        }
        let i = i.min(self.end);
        self.pos = i + 1;
        let raw = &self.src[s..floor_boundary(self.src, i)];
        let qs = (q as char).to_string();
        let content = if doubled {
            raw.replace(&format!("{qs}{qs}"), &qs)
        } else {
            raw.to_string()
        };
        if q == b'\'' || !(content.contains('$') || content.contains('#')) {
            return Ok(Expr::Lit(Lit::Str(content)));
        }
        self.enter()?;
        let nodes = if doubled {
            let mut sub = Parser {
                src: &content,
                b: content.as_bytes(),
                pos: 0,
                end: content.len(),
                depth: self.depth,
            };
            sub.block()
                .and_then(|(n, t)| sub.expect_eof(t).map(|_| n))
                .map_err(|e| match e {
                    VtlError::Parse { message, .. } => self.err_at(s, message),
                    other => other,
                })
        } else {
            let mut sub = Parser {
                src: self.src,
                b: self.b,
                pos: s,
                end: i,
                depth: self.depth,
            };
            sub.block().and_then(|(n, t)| sub.expect_eof(t).map(|_| n))
        };
        self.leave();
        Ok(Expr::Interp(nodes?))
    }

    fn list(&mut self) -> PResult<Expr> {
        self.pos += 1;
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(Expr::List(Vec::new()));
        }
        let first = self.expr()?;
        self.skip_ws();
        if self.sym("..") {
            let last = self.expr()?;
            self.expect(b']', "']' closing range")?;
            return Ok(Expr::Range(Box::new(first), Box::new(last)));
        }
        let mut items = vec![first];
        loop {
            self.skip_ws();
            match self.peek() {
                Some(b',') => {
                    self.pos += 1;
                    items.push(self.expr()?);
                }
                Some(b']') => {
                    self.pos += 1;
                    return Ok(Expr::List(items));
                }
                _ => return Err(self.err_at(self.pos, "expected ',' or ']' in list")),
            }
        }
    }

    fn map(&mut self) -> PResult<Expr> {
        self.pos += 1;
        let mut entries = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(Expr::Map(entries));
        }
        loop {
            let k = self.expr()?;
            self.expect(b':', "':' in map literal")?;
            let v = self.expr()?;
            entries.push((k, v));
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(Expr::Map(entries));
                }
                _ => return Err(self.err_at(self.pos, "expected ',' or '}' in map literal")),
            }
        }
    }
}

/// Drops the blanks after the last newline of `text` (the indentation before a lone directive).
fn trim_line_blanks(text: &mut String) {
    let keep = text.trim_end_matches([' ', '\t']).len();
    text.truncate(keep);
}

/// The largest char boundary `<= i`.
fn floor_boundary(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}
