//! Tokens of the DynamoDB expression language.

/// One token with its byte span in the source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub kind: Tok,
    pub start: usize,
    pub end: usize,
}

/// Token kinds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tok {
    /// A bare identifier (attribute name, keyword or function name).
    Ident(String),
    /// `#name` placeholder (with the `#`).
    Name(String),
    /// `:value` placeholder (with the `:`).
    Value(String),
    /// An unsigned integer (list index).
    Int(String),
    /// Punctuation / operator: `( ) , . [ ] = <> < <= > >= + -`.
    Punct(&'static str),
}

/// Splits `src` into tokens; `Err(position)` at the first character that
/// cannot start a token.
pub fn tokenize(src: &str) -> Result<Vec<Token>, usize> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        let word = |i: &mut usize| {
            while *i < b.len() && (b[*i].is_ascii_alphanumeric() || b[*i] == b'_') {
                *i += 1;
            }
        };
        let kind = match c {
            b'#' | b':' => {
                i += 1;
                word(&mut i);
                if i == start + 1 {
                    return Err(start);
                }
                let text = src[start..i].to_owned();
                if c == b'#' {
                    Tok::Name(text)
                } else {
                    Tok::Value(text)
                }
            }
            b'0'..=b'9' => {
                while i < b.len() && b[i].is_ascii_digit() {
                    i += 1;
                }
                Tok::Int(src[start..i].to_owned())
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                word(&mut i);
                Tok::Ident(src[start..i].to_owned())
            }
            b'<' => {
                i += 1;
                match b.get(i) {
                    Some(b'>') => {
                        i += 1;
                        Tok::Punct("<>")
                    }
                    Some(b'=') => {
                        i += 1;
                        Tok::Punct("<=")
                    }
                    _ => Tok::Punct("<"),
                }
            }
            b'>' => {
                i += 1;
                if b.get(i) == Some(&b'=') {
                    i += 1;
                    Tok::Punct(">=")
                } else {
                    Tok::Punct(">")
                }
            }
            _ => {
                let p = match c {
                    b'(' => "(",
                    b')' => ")",
                    b',' => ",",
                    b'.' => ".",
                    b'[' => "[",
                    b']' => "]",
                    b'=' => "=",
                    b'+' => "+",
                    b'-' => "-",
                    _ => return Err(start),
                };
                i += 1;
                Tok::Punct(p)
            }
        };
        out.push(Token {
            kind,
            start,
            end: i,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokenizes_operators_and_placeholders() {
        let t = tokenize("a.b[2] <> :v AND #n >= 3").unwrap();
        let kinds: Vec<Tok> = t.into_iter().map(|t| t.kind).collect();
        assert_eq!(
            kinds,
            vec![
                Tok::Ident("a".into()),
                Tok::Punct("."),
                Tok::Ident("b".into()),
                Tok::Punct("["),
                Tok::Int("2".into()),
                Tok::Punct("]"),
                Tok::Punct("<>"),
                Tok::Value(":v".into()),
                Tok::Ident("AND".into()),
                Tok::Name("#n".into()),
                Tok::Punct(">="),
                Tok::Int("3".into()),
            ]
        );
        assert_eq!(tokenize("a ! b"), Err(2));
    }
}
