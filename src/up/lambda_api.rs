//! The template's functions as the Lambda API on the edge port describes
//! them (`ListFunctions`, `GetFunction`), invoked through the lambda host.

use std::sync::Arc;

use wsflow_aws_wire::{Account, LambdaInvoker};
use wsflow_lambda_api::{FunctionConfig, LambdaApi};
use wsflow_template::App;

/// The Lambda API over `app`'s functions.
pub fn new(app: &App, account: &Account, lambda: Arc<dyn LambdaInvoker>) -> LambdaApi {
    LambdaApi::new(account.clone(), configs(app), lambda)
}

/// `app`'s functions as the Lambda API describes them.
pub fn configs(app: &App) -> Vec<FunctionConfig> {
    app.functions
        .iter()
        .map(|f| FunctionConfig {
            name: f.name.clone(),
            runtime: f.runtime.clone(),
            handler: f.handler.clone(),
            timeout_seconds: f.timeout_seconds,
            memory_mb: f.memory_mb,
            architectures: f.architectures.clone(),
            environment: f.environment.clone(),
            code_location: code_location(f),
        })
        .collect()
}

/// `GetFunction`'s `Code.Location`: a `file://` URL of the function's `CodeUri` (none for
/// `InlineCode`, which lives in the template).
fn code_location(f: &wsflow_template::Function) -> Option<String> {
    if f.inline_code.is_some() {
        return None;
    }
    let path = std::path::absolute(&f.code_uri).unwrap_or_else(|_| f.code_uri.clone());
    let mut url = String::from("file://");
    for b in path.to_string_lossy().bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~".contains(&b) {
            url.push(char::from(b));
        } else {
            url.push_str(&format!("%{b:02X}"));
        }
    }
    Some(url)
}
