//! The bodies of the 18 intrinsic functions (argument checks and AWS's texts).

use super::Func;
use base64::Engine;
use serde_json::{Map, Value};

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Renders a value the way AWS's Java runtime does inside `States.Format`
/// (strings raw, objects `{k=v, …}`, arrays `[a, b]`).
pub fn java_to_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Array(a) => format!(
            "[{}]",
            a.iter().map(java_to_string).collect::<Vec<_>>().join(", ")
        ),
        Value::Object(o) => format!(
            "{{{}}}",
            o.iter()
                .map(|(k, v)| format!("{k}={}", java_to_string(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn arity(f: Func, args: &[Value], min: usize, max: usize) -> Result<(), String> {
    if args.len() < min || args.len() > max {
        return Err(format!(
            "Function {} expects {} argument(s) but received {}",
            f.name(),
            if min == max {
                min.to_string()
            } else {
                format!("{min}-{max}")
            },
            args.len()
        ));
    }
    Ok(())
}

fn int_arg(f: Func, v: &Value) -> Result<i64, String> {
    match v.as_f64() {
        Some(x) if x.fract() == 0.0 => Ok(x as i64),
        Some(x) => Ok(x as i64),
        None => Err(format!(
            "Function {} received a non-integer argument: {}",
            f.name(),
            type_name(v)
        )),
    }
}

fn str_arg(f: Func, v: &Value) -> Result<&str, String> {
    v.as_str().ok_or_else(|| {
        format!(
            "Function {} expects a string argument, received {}",
            f.name(),
            type_name(v)
        )
    })
}

fn arr_arg(f: Func, v: &Value) -> Result<&Vec<Value>, String> {
    v.as_array().ok_or_else(|| {
        format!(
            "Function {} expects an array argument, received {}",
            f.name(),
            type_name(v)
        )
    })
}

fn num(x: f64) -> Value {
    if x.fract() == 0.0 && x.abs() < 9.0e15 {
        Value::from(x as i64)
    } else {
        serde_json::Number::from_f64(x)
            .map(Value::Number)
            .unwrap_or(Value::Null)
    }
}

fn random_u64() -> u64 {
    let mut b = [0u8; 8];
    // Falls back to a fixed value only if the OS RNG is unavailable.
    let _ = getrandom::fill(&mut b);
    u64::from_le_bytes(b)
}

/// A random version-4 UUID.
pub fn uuid_v4() -> String {
    let mut b = [0u8; 16];
    let _ = getrandom::fill(&mut b);
    uuid_v4_from(b)
}

/// Formats 16 bytes (random, or a digest) as a version-4 UUID.
pub fn uuid_v4_from(mut b: [u8; 16]) -> String {
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// Applies `f` to evaluated arguments.
pub fn apply(f: Func, args: Vec<Value>) -> Result<Value, String> {
    match f {
        Func::Format => {
            if args.is_empty() {
                return Err("Function States.Format expects at least 1 argument".into());
            }
            let tpl = str_arg(f, &args[0])?;
            let mut out = String::new();
            let mut k = 1;
            let mut chars = tpl.chars().peekable();
            while let Some(c) = chars.next() {
                if c == '{' && chars.peek() == Some(&'}') {
                    chars.next();
                    let v = args.get(k).ok_or_else(|| {
                        "Number of arguments in the format string does not match the number of arguments".to_string()
                    })?;
                    out.push_str(&java_to_string(v));
                    k += 1;
                } else {
                    out.push(c);
                }
            }
            Ok(Value::String(out))
        }
        Func::StringToJson => {
            arity(f, &args, 1, 1)?;
            let s = str_arg(f, &args[0])?;
            if s.trim().is_empty() {
                return Ok(Value::Null);
            }
            serde_json::from_str(s)
                .map_err(|e| format!("Function States.StringToJson could not parse the input: {e}"))
        }
        Func::JsonToString => {
            arity(f, &args, 1, 1)?;
            Ok(Value::String(
                serde_json::to_string(&args[0]).unwrap_or_default(),
            ))
        }
        Func::Array => Ok(Value::Array(args)),
        Func::ArrayPartition => {
            arity(f, &args, 2, 2)?;
            let a = arr_arg(f, &args[0])?;
            let n = int_arg(f, &args[1])?;
            if n <= 0 {
                return Err("Function States.ArrayPartition expects a positive chunk size".into());
            }
            Ok(Value::Array(
                a.chunks(n as usize)
                    .map(|c| Value::Array(c.to_vec()))
                    .collect(),
            ))
        }
        Func::ArrayContains => {
            arity(f, &args, 2, 2)?;
            Ok(Value::Bool(arr_arg(f, &args[0])?.contains(&args[1])))
        }
        Func::ArrayRange => {
            arity(f, &args, 3, 3)?;
            let (s, e, st) = (
                int_arg(f, &args[0])?,
                int_arg(f, &args[1])?,
                int_arg(f, &args[2])?,
            );
            if st == 0 {
                return Err("Function States.ArrayRange expects a non-zero step".into());
            }
            let mut out = Vec::new();
            let mut i = s;
            while (st > 0 && i <= e) || (st < 0 && i >= e) {
                out.push(Value::from(i));
                if out.len() > 1000 {
                    return Err("Function States.ArrayRange result exceeds 1000 items".into());
                }
                match i.checked_add(st) {
                    Some(x) => i = x,
                    None => break,
                }
            }
            Ok(Value::Array(out))
        }
        Func::ArrayGetItem => {
            arity(f, &args, 2, 2)?;
            let a = arr_arg(f, &args[0])?;
            let i = int_arg(f, &args[1])?;
            if i < 0 || i as usize >= a.len() {
                return Err(format!(
                    "Function States.ArrayGetItem index {i} out of bounds"
                ));
            }
            Ok(a[i as usize].clone())
        }
        Func::ArrayLength => {
            arity(f, &args, 1, 1)?;
            Ok(Value::from(arr_arg(f, &args[0])?.len()))
        }
        Func::ArrayUnique => {
            arity(f, &args, 1, 1)?;
            let mut out: Vec<Value> = Vec::new();
            for v in arr_arg(f, &args[0])? {
                if !out.contains(v) {
                    out.push(v.clone());
                }
            }
            Ok(Value::Array(out))
        }
        Func::Base64Encode => {
            arity(f, &args, 1, 1)?;
            Ok(Value::String(
                base64::engine::general_purpose::STANDARD.encode(str_arg(f, &args[0])?),
            ))
        }
        Func::Base64Decode => {
            arity(f, &args, 1, 1)?;
            let b = base64::engine::general_purpose::STANDARD
                .decode(str_arg(f, &args[0])?)
                .map_err(|e| {
                    format!("Function States.Base64Decode could not decode the input: {e}")
                })?;
            Ok(Value::String(String::from_utf8_lossy(&b).into_owned()))
        }
        Func::Hash => {
            arity(f, &args, 2, 2)?;
            let data = match &args[0] {
                Value::String(s) => s.clone(),
                other => serde_json::to_string(other).unwrap_or_default(),
            };
            let alg = str_arg(f, &args[1])?;
            use sha2::Digest;
            let bytes: Vec<u8> = match alg {
                "MD5" => md5::Md5::digest(data.as_bytes()).to_vec(),
                "SHA-1" => sha1::Sha1::digest(data.as_bytes()).to_vec(),
                "SHA-256" => sha2::Sha256::digest(data.as_bytes()).to_vec(),
                "SHA-384" => sha2::Sha384::digest(data.as_bytes()).to_vec(),
                "SHA-512" => sha2::Sha512::digest(data.as_bytes()).to_vec(),
                _ => {
                    return Err(format!(
                        "Function States.Hash does not support the algorithm '{alg}'"
                    ));
                }
            };
            Ok(Value::String(
                bytes.iter().map(|b| format!("{b:02x}")).collect(),
            ))
        }
        Func::JsonMerge => {
            arity(f, &args, 3, 3)?;
            let (Value::Object(a), Value::Object(b)) = (&args[0], &args[1]) else {
                return Err("Function States.JsonMerge expects two objects".into());
            };
            if args[2] != Value::Bool(false) {
                return Err(
                    "Function States.JsonMerge only supports a shallow merge (false)".into(),
                );
            }
            let mut m: Map<String, Value> = a.clone();
            for (k, v) in b {
                m.insert(k.clone(), v.clone());
            }
            Ok(Value::Object(m))
        }
        Func::MathRandom => {
            arity(f, &args, 2, 3)?;
            let (s, e) = (int_arg(f, &args[0])?, int_arg(f, &args[1])?);
            if e <= s {
                return Err("Function States.MathRandom expects start < end".into());
            }
            let seed = match args.get(2) {
                Some(v) => {
                    let mut x = int_arg(f, v)? as u64 ^ 0x9E37_79B9_7F4A_7C15;
                    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
                    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
                    x ^ (x >> 31)
                }
                None => random_u64(),
            };
            let span = (e as i128 - s as i128) as u128;
            Ok(Value::from(
                (s as i128 + (seed as u128 % span) as i128) as i64,
            ))
        }
        Func::MathAdd => {
            arity(f, &args, 2, 2)?;
            if let (Some(a), Some(b)) = (args[0].as_i64(), args[1].as_i64()) {
                return a
                    .checked_add(b)
                    .map(Value::from)
                    .ok_or_else(|| "Function States.MathAdd overflowed".to_string());
            }
            let (a, b) = (args[0].as_f64(), args[1].as_f64());
            match (a, b) {
                (Some(a), Some(b)) => Ok(num((a + 0.5).floor() + (b + 0.5).floor())),
                _ => Err("Function States.MathAdd expects two numbers".into()),
            }
        }
        Func::StringSplit => {
            arity(f, &args, 2, 2)?;
            let s = str_arg(f, &args[0])?;
            let d: Vec<char> = str_arg(f, &args[1])?.chars().collect();
            Ok(Value::Array(
                s.split(|c| d.contains(&c))
                    .filter(|p| !p.is_empty())
                    .map(|p| Value::String(p.to_string()))
                    .collect(),
            ))
        }
        Func::Uuid => {
            arity(f, &args, 0, 0)?;
            Ok(Value::String(uuid_v4()))
        }
    }
}
