//! wsflow-template: loads a SAM / CloudFormation `template.yaml` into the typed [`App`] model
//! the local stack runs.
//!
//! It reads YAML with the short-form tags (`!Ref`, `!GetAtt`, `!Sub`, ...) and their long forms,
//! resolves Parameters (defaults + `sam deploy --parameter-overrides` style overrides),
//! Conditions, Mappings, pseudo parameters, SAM `Globals.Function`, and intrinsic functions
//! against the LOCAL resources named through a caller-supplied [`LocalContext`]. Only values
//! the model needs are resolved: an unresolvable value elsewhere (an IAM policy, say) is
//! tolerated, one the stack needs is an error naming the resource and property.
#![warn(missing_docs)]

mod build;
mod intrinsics;
pub mod model;
mod params;
mod sam;
mod yaml;

use std::path::{Path, PathBuf};

pub use model::*;
pub use params::parse_overrides;

/// How local resources are named and reached.
#[derive(Debug, Clone)]
pub struct LocalContext {
    /// Region / account / partition the stack presents itself as.
    pub account: wsflow_aws_wire::Account,
    /// `AWS::StackName`.
    pub stack_name: String,
    /// The local endpoint, e.g. `http://127.0.0.1:3001`.
    pub endpoint: String,
    /// The id the local WebSocket API answers to.
    pub api_id: String,
    /// Directory of the template (relative `CodeUri` / `DefinitionUri` are resolved here).
    pub template_dir: PathBuf,
}

/// Why a template could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    /// The template file could not be read.
    #[error("cannot read {path}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The IO error.
        #[source]
        source: std::io::Error,
    },
    /// The YAML is malformed.
    #[error("YAML error at line {line}, column {column}: {message}")]
    Yaml {
        /// 1-based line (0 when unknown).
        line: usize,
        /// 1-based column (0 when unknown).
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// A parameter has no value or a value it does not allow.
    #[error("{0}")]
    Parameter(String),
    /// The template is not a valid CloudFormation template (e.g. an unknown `!Ref`).
    #[error("Template format error: {0}")]
    Format(String),
    /// A resource property the local stack needs cannot be served.
    #[error("Resource {resource}, property {property}: {message}")]
    Resource {
        /// Logical id.
        resource: String,
        /// Property path, e.g. `Environment.Variables.TABLE`.
        property: String,
        /// What is wrong.
        message: String,
    },
}

/// Loads `path` with parameter `overrides` (see [`parse_overrides`]).
pub fn load(
    path: &Path,
    overrides: &[(String, String)],
    ctx: &LocalContext,
) -> Result<App, TemplateError> {
    let text = std::fs::read_to_string(path).map_err(|source| TemplateError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    load_str(&text, overrides, ctx)
}

/// The template's parameters resolved with `overrides` as `sam deploy` resolves them (defaults,
/// `AllowedValues`); list parameters are joined with commas. For tools that need one value
/// (e.g. `wsflow token` reading `AuthSecret`) without loading the whole app.
pub fn parameters(
    path: &Path,
    overrides: &[(String, String)],
) -> Result<std::collections::BTreeMap<String, String>, TemplateError> {
    let text = std::fs::read_to_string(path).map_err(|source| TemplateError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let doc = yaml::parse(&text)?;
    Ok(params::resolve(doc.get("Parameters"), overrides)?
        .into_iter()
        .map(|(k, v)| {
            let text = match v {
                serde_json::Value::String(s) => s,
                serde_json::Value::Array(a) => a
                    .iter()
                    .filter_map(serde_json::Value::as_str)
                    .collect::<Vec<_>>()
                    .join(","),
                other => other.to_string(),
            };
            (k, text)
        })
        .collect())
}

/// The template's `Resources` with the SAM resources wsflow expands itself
/// (`AWS::Serverless::WebSocketApi`, `AWS::Serverless::SimpleTable`) replaced by what the SAM
/// transform generates for them (aws-sam-translator 1.115 is the reference), every other
/// resource as written. `account` supplies the pseudo parameters the transform resolves.
pub fn expand_sam_resources(
    yaml: &str,
    overrides: &[(String, String)],
    account: &wsflow_aws_wire::Account,
) -> Result<serde_json::Map<String, serde_json::Value>, TemplateError> {
    let doc = yaml::parse(yaml)?;
    let mut resources = doc
        .get("Resources")
        .and_then(serde_json::Value::as_object)
        .cloned()
        .ok_or_else(|| {
            TemplateError::Format("At least one Resources member must be defined.".into())
        })?;
    let params = params::resolve(doc.get("Parameters"), overrides)?;
    sam::expand(&mut resources, &params, account)?;
    Ok(resources)
}

/// Loads a template from its text.
pub fn load_str(
    yaml: &str,
    overrides: &[(String, String)],
    ctx: &LocalContext,
) -> Result<App, TemplateError> {
    let doc = yaml::parse(yaml)?;
    build::build(&doc, overrides, ctx)
}
