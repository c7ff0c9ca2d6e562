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
            code_location: Some(match &f.inline_code {
                Some(_) => "InlineCode (in the template)".to_owned(),
                None => format!("file://{}", f.code_uri.display()),
            }),
        })
        .collect()
}
