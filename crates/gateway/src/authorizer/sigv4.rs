//! `AWS_IAM` on `$connect`: a handshake signed with Signature Version 4 in
//! the query string (`X-Amz-Algorithm`, `X-Amz-Credential`, `X-Amz-Date`,
//! `X-Amz-Expires`, `X-Amz-SignedHeaders`, `X-Amz-Signature`), as the SDK
//! presigners (botocore's `SigV4QueryAuth`, `aws-sigv4`) produce it for
//! `execute-api`.
//!
//! The expected signature is computed by the `aws-sigv4` crate (the one the
//! Rust SDK signs with) from the request as received, minus the signature
//! parameters, with the client's own date, expiry and signed headers and the
//! secret key configured for its access key id; the two are compared in
//! constant time. The payload hash is the empty body's (what botocore uses
//! for a GET), else `UNSIGNED-PAYLOAD` (what presigners that do not hash the
//! body use). The local stack has no IAM: a valid signature by a configured
//! key is an Allow.

use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::{
    http_request::{
        SignableBody, SignableRequest, SignatureLocation, SigningSettings, sign as sigv4_sign,
    },
    sign::v4,
};
use aws_smithy_types::date_time::{DateTime, Format};

use crate::config::IamCredential;

/// Longest validity a presigned URL may claim (SigV4's limit: 7 days).
const MAX_EXPIRES: u64 = 7 * 24 * 3600;
/// Tolerated clock skew for a date in the future.
const MAX_SKEW: Duration = Duration::from_secs(15 * 60);

/// Why a handshake is not a valid `AWS_IAM` request (all answered `403`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SigV4Error {
    /// No (or an incomplete) query-string signature.
    #[error("missing {0}")]
    Missing(&'static str),
    /// A parameter does not parse.
    #[error("malformed {0}")]
    Malformed(&'static str),
    /// The access key id is not one the stack was told to accept.
    #[error("unknown access key id {0}")]
    UnknownKey(String),
    /// The scope names another region or service.
    #[error("credential scope {0} is not for this API")]
    Scope(String),
    /// Expired, or dated in the future.
    #[error("signature expired or not yet valid")]
    Expired,
    /// The signature does not match.
    #[error("signature does not match")]
    Mismatch,
}

/// The signed request as received.
pub struct Request<'a> {
    /// `GET`.
    pub method: &'a str,
    /// The path, percent-encoded as received.
    pub path: &'a str,
    /// The raw query string (without `?`).
    pub query: &'a str,
    /// The request headers (name, value).
    pub headers: &'a [(String, String)],
}

/// Checks `req` against `credentials`; `Ok(access_key_id)` when valid.
pub fn verify(
    req: &Request<'_>,
    credentials: &[IamCredential],
    region: &str,
    now: SystemTime,
) -> Result<String, SigV4Error> {
    let pairs: Vec<(String, String)> = form_urlencoded::parse(req.query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let param = |name: &'static str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .ok_or(SigV4Error::Missing(name))
    };
    if param("X-Amz-Algorithm")? != "AWS4-HMAC-SHA256" {
        return Err(SigV4Error::Malformed("X-Amz-Algorithm"));
    }
    let credential = param("X-Amz-Credential")?;
    let date = param("X-Amz-Date")?;
    let expires: u64 = param("X-Amz-Expires")?
        .parse()
        .map_err(|_| SigV4Error::Malformed("X-Amz-Expires"))?;
    let signed_headers = param("X-Amz-SignedHeaders")?;
    let signature = param("X-Amz-Signature")?;
    if expires == 0 || expires > MAX_EXPIRES {
        return Err(SigV4Error::Malformed("X-Amz-Expires"));
    }

    // AKID/yyyymmdd/region/service/aws4_request
    let scope: Vec<&str> = credential.split('/').collect();
    let [key_id, day, scope_region, service, "aws4_request"] = scope.as_slice() else {
        return Err(SigV4Error::Malformed("X-Amz-Credential"));
    };
    if *scope_region != region || *service != "execute-api" || !date.starts_with(day) {
        return Err(SigV4Error::Scope(credential.to_owned()));
    }
    let secret = credentials
        .iter()
        .find(|c| c.access_key_id == *key_id)
        .ok_or_else(|| SigV4Error::UnknownKey((*key_id).to_owned()))?;

    let time = parse_amz_date(date)?;
    if now + MAX_SKEW < time || now > time + Duration::from_secs(expires) {
        return Err(SigV4Error::Expired);
    }

    // The request the client signed: its query without the signature
    // parameters (aws-sigv4 adds them back), and only its signed headers.
    let rest: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs.iter().filter(|(k, _)| {
            !matches!(
                k.as_str(),
                "X-Amz-Algorithm"
                    | "X-Amz-Credential"
                    | "X-Amz-Date"
                    | "X-Amz-Expires"
                    | "X-Amz-SignedHeaders"
                    | "X-Amz-Signature"
            )
        }))
        .finish();
    let uri = if rest.is_empty() {
        req.path.to_owned()
    } else {
        format!("{}?{rest}", req.path)
    };
    let wanted: Vec<&str> = signed_headers.split(';').collect();
    let headers: Vec<(&str, &str)> = req
        .headers
        .iter()
        .filter(|(k, _)| wanted.iter().any(|w| w.eq_ignore_ascii_case(k)))
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    if headers.len() != wanted.len() {
        return Err(SigV4Error::Missing("a signed header"));
    }

    let identity = Credentials::new(
        &secret.access_key_id,
        &secret.secret_access_key,
        None,
        None,
        "wsflow-iam-credentials",
    )
    .into();
    let mut settings = SigningSettings::default();
    settings.signature_location = SignatureLocation::QueryParams;
    settings.expires_in = Some(Duration::from_secs(expires));
    // Sign exactly the headers the client listed.
    settings.excluded_headers = None;
    for body in [SignableBody::Bytes(&[]), SignableBody::UnsignedPayload] {
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(region)
            .name("execute-api")
            .time(time)
            .settings(settings.clone())
            .build()
            .map_err(|_| SigV4Error::Malformed("signing parameters"))?
            .into();
        let request = SignableRequest::new(req.method, uri.as_str(), headers.iter().copied(), body)
            .map_err(|_| SigV4Error::Malformed("request URI"))?;
        let expected = sigv4_sign(request, &params).map_err(|_| SigV4Error::Mismatch)?;
        if constant_time_eq(expected.signature().as_bytes(), signature.as_bytes()) {
            return Ok(secret.access_key_id.clone());
        }
    }
    Err(SigV4Error::Mismatch)
}

/// `20261205T073000Z` → a time.
fn parse_amz_date(date: &str) -> Result<SystemTime, SigV4Error> {
    let bad = || SigV4Error::Malformed("X-Amz-Date");
    let b = date.as_bytes();
    // ASCII only, so the slices below fall on character boundaries.
    if !date.is_ascii() || b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return Err(bad());
    }
    let iso = format!(
        "{}-{}-{}T{}:{}:{}Z",
        &date[0..4],
        &date[4..6],
        &date[6..8],
        &date[9..11],
        &date[11..13],
        &date[13..15]
    );
    let dt = DateTime::from_str(&iso, Format::DateTime).map_err(|_| bad())?;
    SystemTime::try_from(dt).map_err(|_| bad())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds() -> Vec<IamCredential> {
        vec![IamCredential {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
        }]
    }

    /// Presigns like an SDK would, with aws-sigv4 itself.
    fn presign(path_and_query: &str, host: &str, time: SystemTime, secret: &str) -> String {
        let identity = Credentials::new("AKIDEXAMPLE", secret, None, None, "test").into();
        let mut settings = SigningSettings::default();
        settings.signature_location = SignatureLocation::QueryParams;
        settings.expires_in = Some(Duration::from_secs(60));
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region("us-east-1")
            .name("execute-api")
            .time(time)
            .settings(settings)
            .build()
            .unwrap()
            .into();
        let req = SignableRequest::new(
            "GET",
            path_and_query,
            [("host", host)].into_iter(),
            SignableBody::Bytes(&[]),
        )
        .unwrap();
        let (instructions, _) = sigv4_sign(req, &params).unwrap().into_parts();
        let mut query = path_and_query
            .split_once('?')
            .map(|(_, q)| q.to_owned())
            .unwrap_or_default();
        for (k, v) in instructions.params() {
            if !query.is_empty() {
                query.push('&');
            }
            query.push_str(&format!("{k}={}", urlencode(v)));
        }
        query
    }

    fn urlencode(s: &str) -> String {
        form_urlencoded::byte_serialize(s.as_bytes()).collect()
    }

    #[test]
    fn accepts_a_presigned_url_and_refuses_tampering() {
        let host = "127.0.0.1:3001";
        let headers = vec![("host".to_owned(), host.to_owned())];
        let now = SystemTime::now();
        let secret = &creds()[0].secret_access_key;
        let query = presign("/api?foo=bar", host, now, secret);
        let req = Request {
            method: "GET",
            path: "/api",
            query: &query,
            headers: &headers,
        };
        assert_eq!(
            verify(&req, &creds(), "us-east-1", now),
            Ok("AKIDEXAMPLE".to_owned())
        );
        // Another query value, another path, another host: no match.
        let tampered = query.replace("foo=bar", "foo=baz");
        let r = Request {
            query: &tampered,
            ..req
        };
        assert_eq!(
            verify(&r, &creds(), "us-east-1", now),
            Err(SigV4Error::Mismatch)
        );
        let r = Request {
            path: "/other",
            ..req
        };
        assert_eq!(
            verify(&r, &creds(), "us-east-1", now),
            Err(SigV4Error::Mismatch)
        );
        let other_host = vec![("host".to_owned(), "127.0.0.1:9".to_owned())];
        let r = Request {
            headers: &other_host,
            ..req
        };
        assert_eq!(
            verify(&r, &creds(), "us-east-1", now),
            Err(SigV4Error::Mismatch)
        );
        // Another region, an unknown key, expired, unsigned.
        assert!(matches!(
            verify(&req, &creds(), "eu-west-1", now),
            Err(SigV4Error::Scope(_))
        ));
        let wrong = presign("/api", host, now, "not-the-secret");
        let r = Request {
            query: &wrong,
            ..req
        };
        assert_eq!(
            verify(&r, &creds(), "us-east-1", now),
            Err(SigV4Error::Mismatch)
        );
        assert_eq!(
            verify(&req, &creds(), "us-east-1", now + Duration::from_secs(120)),
            Err(SigV4Error::Expired)
        );
        assert!(matches!(
            verify(&req, &[], "us-east-1", now),
            Err(SigV4Error::UnknownKey(_))
        ));
        let r = Request {
            query: "foo=bar",
            ..req
        };
        assert_eq!(
            verify(&r, &creds(), "us-east-1", now),
            Err(SigV4Error::Missing("X-Amz-Algorithm"))
        );
    }

    #[test]
    fn dates() {
        assert!(parse_amz_date("20261205T073000Z").is_ok());
        for bad in [
            "2026-12-05T07:30:00Z",
            "20261305T073000Z",
            "",
            "20261205T0730000",
        ] {
            assert!(parse_amz_date(bad).is_err(), "{bad}");
        }
    }
}
