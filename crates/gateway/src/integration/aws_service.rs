//! `AWS` (non-proxy) integrations: pick a request template, render it with
//! the VTL engine, and call a local AWS service with the result.
//!
//! * Template selection: the `template_selection_expression` (e.g.
//!   `\$default` or `${request.body.type}`) is evaluated; its key, else the
//!   `$default` template, is used. With no match, the passthrough behavior
//!   decides: `WHEN_NO_MATCH` (the default) sends the body unchanged,
//!   `WHEN_NO_TEMPLATES` only when the integration has no templates at all,
//!   `NEVER` fails the request.
//! * The operation comes from an `action/<Operation>` URI (AWS JSON
//!   protocol). For SQS `path/<account>/<queue>` URIs the rendered body is a
//!   query-protocol form: the operation is its `Action=` and, **by this
//!   gateway's convention**, `QueueUrl=<queue URL>` is appended when the
//!   form has none (the queue URL is
//!   [`wsflow_aws_wire::Account::queue_url`] of `http://<domainName>` and
//!   the path's queue name), so the SQS service needs no other channel.
//! * A service error reaches two-way routes like a success: its status
//!   selects the integration response and its body (JSON
//!   `__type`/`message`, or the query protocol's `ErrorResponse` XML) is
//!   what the response template renders or passes through.

use std::{collections::BTreeMap, sync::Arc};

use serde_json::Map;
use wsflow_aws_wire::{AwsService, Protocol, ServiceRequest};
use wsflow_vtl::{RenderContext, Template};

use super::{CallInput, Outcome};
use crate::{
    Backends, GatewayError, IntegrationConfig, config::ApiConfig,
    route_selection::SelectionExpression, urlencoding,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Passthrough {
    WhenNoMatch,
    WhenNoTemplates,
    Never,
}

enum Target {
    /// `action/<Operation>`: AWS JSON protocol.
    Action(String),
    /// SQS `path/<account>/<queue>`: query protocol to this queue URL.
    Queue { queue_url: String },
}

pub(crate) struct ServiceIntegration {
    service: Arc<dyn AwsService>,
    target: Target,
    templates: BTreeMap<String, Template>,
    selection: Option<SelectionExpression>,
    passthrough: Passthrough,
    /// `$stageVariables` (the local stage defines none).
    stage_variables: Map<String, serde_json::Value>,
}

impl ServiceIntegration {
    pub(crate) fn compile(
        route_key: &str,
        config: &IntegrationConfig,
        api: &ApiConfig,
        backends: &Backends,
    ) -> Result<Self, GatewayError> {
        let IntegrationConfig::AwsService {
            service,
            action,
            path,
            request_templates,
            template_selection_expression,
            passthrough_behavior,
        } = config
        else {
            return Err(GatewayError::Integration {
                route_key: route_key.to_owned(),
                reason: "not an AWS service integration".into(),
            });
        };
        let backend = backends
            .services
            .iter()
            .find(|s| s.integration_name() == service)
            .cloned()
            .ok_or_else(|| GatewayError::UnknownService {
                route_key: route_key.to_owned(),
                service: service.clone(),
            })?;
        let target = match (action, path) {
            (Some(op), _) if !op.is_empty() => Target::Action(op.clone()),
            (_, Some(path)) if service == "sqs" => {
                let queue = path
                    .trim_matches('/')
                    .rsplit('/')
                    .next()
                    .filter(|q| !q.is_empty())
                    .ok_or_else(|| GatewayError::Integration {
                        route_key: route_key.to_owned(),
                        reason: format!("SQS path {path:?} names no queue"),
                    })?;
                Target::Queue {
                    queue_url: api
                        .account
                        .queue_url(&format!("http://{}", api.domain_name), queue),
                }
            }
            _ => {
                return Err(GatewayError::Integration {
                    route_key: route_key.to_owned(),
                    reason: format!(
                        "{service} integration needs an action/<Operation> URI (path URIs are supported for sqs only)"
                    ),
                });
            }
        };
        let templates = super::parse_request_templates(route_key, request_templates)?;
        let selection = template_selection_expression
            .as_deref()
            .map(SelectionExpression::parse)
            .transpose()?;
        let passthrough = match passthrough_behavior.as_deref() {
            None | Some("WHEN_NO_MATCH") => Passthrough::WhenNoMatch,
            Some("WHEN_NO_TEMPLATES") => Passthrough::WhenNoTemplates,
            Some("NEVER") => Passthrough::Never,
            Some(other) => {
                return Err(GatewayError::PassthroughBehavior {
                    route_key: route_key.to_owned(),
                    value: other.to_owned(),
                });
            }
        };
        Ok(Self {
            service: backend,
            target,
            templates,
            selection,
            passthrough,
            stage_variables: Map::new(),
        })
    }

    /// The template for this request, `Ok(None)` to pass the body through.
    fn select_template(&self, input: &CallInput<'_>) -> Result<Option<&Template>, String> {
        let key = match &self.selection {
            Some(sel) => sel.evaluate(input.body),
            None => Some("$default".to_owned()),
        };
        let chosen = key
            .as_deref()
            .and_then(|k| self.templates.get(k))
            .or_else(|| self.templates.get("$default"));
        match (chosen, self.passthrough) {
            (Some(t), _) => Ok(Some(t)),
            (None, Passthrough::WhenNoMatch) => Ok(None),
            (None, Passthrough::WhenNoTemplates) if self.templates.is_empty() => Ok(None),
            (None, _) => Err("no request template matches and passthrough is not allowed".into()),
        }
    }

    pub(crate) async fn call(&self, input: &CallInput<'_>) -> Outcome {
        let rendered = match self.select_template(input) {
            Ok(Some(t)) => {
                let ctx = RenderContext {
                    body: input.body,
                    context: input.context,
                    stage_variables: &self.stage_variables,
                    headers: input.headers,
                    query: input.query,
                    path: &[],
                };
                match t.render(&ctx) {
                    Ok(s) => s,
                    Err(e) => return Outcome::Failed(format!("request template: {e}")),
                }
            }
            Ok(None) => input.body.to_owned(),
            Err(e) => return Outcome::Failed(e),
        };
        let request = match &self.target {
            Target::Action(op) => ServiceRequest {
                operation: op.clone(),
                protocol: Protocol::Json,
                body: rendered.into_bytes(),
            },
            Target::Queue { queue_url } => {
                let Some(action) = form_value(&rendered, "Action") else {
                    return Outcome::Failed("SQS request has no Action parameter".into());
                };
                let mut body = rendered.clone();
                if form_value(&rendered, "QueueUrl").is_none() {
                    if !body.is_empty() && !body.ends_with('&') {
                        body.push('&');
                    }
                    body.push_str("QueueUrl=");
                    body.push_str(&urlencoding::encode(queue_url));
                }
                ServiceRequest {
                    operation: action,
                    protocol: Protocol::Query,
                    body: body.into_bytes(),
                }
            }
        };
        let protocol = request.protocol;
        match self.service.call(request).await {
            Ok(resp) => Outcome::Response {
                status: resp.status,
                body: Some(String::from_utf8_lossy(&resp.body).into_owned()),
                headers: Vec::new(),
            },
            Err(e) => Outcome::ServiceError {
                status: e.status,
                body: match protocol {
                    Protocol::Json => {
                        String::from_utf8_lossy(&e.json_body(self.service.error_namespace()))
                            .into_owned()
                    }
                    Protocol::Query => wsflow_aws_wire::query_error_document(
                        &e,
                        self.service.query_namespace(),
                        &crate::ids::new_id(),
                    ),
                },
            },
        }
    }
}

/// The (percent-decoded) value of `name` in a form body.
fn form_value(form: &str, name: &str) -> Option<String> {
    form.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (k.trim() == name).then(|| urlencoding::decode(v.trim()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_helpers_round_trip() {
        let form = "Action=SendMessage&MessageBody=a%20b+c&QueueUrl=";
        assert_eq!(form_value(form, "Action").as_deref(), Some("SendMessage"));
        assert_eq!(form_value(form, "MessageBody").as_deref(), Some("a b c"));
        assert_eq!(form_value(form, "QueueUrl").as_deref(), Some(""));
        assert_eq!(form_value(form, "Nope"), None);
    }
}
