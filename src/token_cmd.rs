//! `wsflow token`: mints an HS256 JWT that the app's `$connect` authorizer (template parameter
//! `AuthMode=jwt`) accepts, signed with the same secret the authorizer gets: `--secret`, else
//! the `AuthSecret` template parameter (from `--parameter-overrides`, else its default).
//!
//! The token goes to standard output, nothing else does: the secret is never printed.

use std::path::PathBuf;

use anyhow::{Context as _, bail};
use clap::Args;
use jsonwebtoken::{EncodingKey, Header, encode};
use serde_json::json;

/// Arguments of `wsflow token`.
#[derive(Debug, Clone, Args)]
pub struct TokenArgs {
    /// The principal: the token's `sub`, which becomes `principalId`.
    #[arg(long)]
    pub sub: String,
    /// Seconds until the token expires (`exp`).
    #[arg(long, default_value_t = 3600)]
    pub ttl: u64,
    /// The HS256 secret; by default the template's `AuthSecret` parameter.
    #[arg(long, env = "WSFLOW_AUTH_SECRET", hide_env_values = true)]
    pub secret: Option<String>,
    /// The SAM template whose `AuthSecret` is used.
    #[arg(long, default_value = "template.yaml")]
    pub template: PathBuf,
    /// Template parameters, as `wsflow up` takes them: `AuthSecret=...`.
    #[arg(long, num_args = 1.., value_delimiter = ' ')]
    pub parameter_overrides: Vec<String>,
}

/// The template parameter holding the secret.
const SECRET_PARAMETER: &str = "AuthSecret";

/// Prints a token for `args.sub`.
pub fn token(args: &TokenArgs) -> anyhow::Result<()> {
    let secret = match &args.secret {
        Some(s) => s.clone(),
        None => {
            let overrides = wsflow_template::parse_overrides(&args.parameter_overrides.join(" "))
                .map_err(|e| anyhow::anyhow!("--parameter-overrides: {e}"))?;
            let params = wsflow_template::parameters(&args.template, &overrides)
                .with_context(|| format!("{}", args.template.display()))?;
            params.get(SECRET_PARAMETER).cloned().unwrap_or_default()
        }
    };
    if secret.is_empty() {
        bail!(
            "no secret: pass --secret, or --parameter-overrides {SECRET_PARAMETER}=... (the value given to wsflow up)"
        );
    }
    if args.sub.is_empty() {
        bail!("--sub must not be empty");
    }
    println!("{}", mint(&args.sub, args.ttl, &secret)?);
    Ok(())
}

/// An HS256 token `{sub, iat, exp}`.
pub fn mint(sub: &str, ttl: u64, secret: &str) -> anyhow::Result<String> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .context("clock before 1970")?
        .as_secs();
    let claims = json!({"sub": sub, "iat": now, "exp": now.saturating_add(ttl)});
    encode(
        &Header::default(),
        &claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .context("signing the token")
}
