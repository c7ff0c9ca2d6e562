//! The template's WebSocket API as the gateway's configuration: routes, integrations,
//! integration responses and request models.

use std::time::Duration;

use anyhow::bail;
use wsflow_aws_wire::Account;
use wsflow_gateway::{
    ApiConfig, ConnectAuthorization, IamAuthorization, IamCredential, IntegrationConfig,
    IntegrationResponseConfig, LambdaAuthorizer, Limits, RequestModel, RequestValidationConfig,
    RouteConfig,
};
use wsflow_template::{App, Integration};

use super::{LOCAL_API_ID, UpArgs};

/// Maps the template's (single) WebSocket API onto [`ApiConfig`].
pub fn config(app: &App, account: &Account, port: u16, args: &UpArgs) -> anyhow::Result<ApiConfig> {
    let api = match app.apis.as_slice() {
        [api] => api,
        [] => bail!(
            "the template declares no WebSocket API (AWS::ApiGatewayV2::Api with ProtocolType WEBSOCKET)"
        ),
        [first, ..] => bail!(
            "the template declares {} WebSocket APIs; the local stack serves one (found {} first)",
            app.apis.len(),
            first.logical_id
        ),
    };
    let mut routes = Vec::new();
    let mut connect_authorization = ConnectAuthorization::None;
    for route in &api.routes {
        if route.route_key == "$connect" {
            connect_authorization = authorization(app, route, args)?;
        }
        let integration = match &route.integration {
            Integration::LambdaProxy { function } => {
                let Some(f) = app.functions.iter().find(|f| &f.logical_id == function) else {
                    bail!(
                        "Route {}, property Target: integration points at {function}, which is not a function of this template",
                        route.route_key
                    );
                };
                IntegrationConfig::LambdaProxy {
                    function: f.name.clone(),
                }
            }
            Integration::AwsService {
                service,
                action,
                path,
                request_templates,
                template_selection_expression,
                passthrough_behavior,
                ..
            } => IntegrationConfig::AwsService {
                service: service.clone(),
                action: action.clone(),
                path: path.clone(),
                request_templates: request_templates.clone(),
                template_selection_expression: template_selection_expression.clone(),
                passthrough_behavior: passthrough_behavior.clone(),
            },
            Integration::Mock {
                request_templates,
                template_selection_expression,
            } => IntegrationConfig::Mock {
                request_templates: request_templates.clone(),
                template_selection_expression: template_selection_expression.clone(),
            },
            Integration::Http { uri } => bail!(
                "Route {}, property IntegrationUri: HTTP integrations ({uri}) are not served by the local stack",
                route.route_key
            ),
        };
        routes.push(RouteConfig {
            route_key: route.route_key.clone(),
            integration,
            two_way: route.two_way,
            integration_responses: route
                .integration_responses
                .iter()
                .map(|ir| IntegrationResponseConfig {
                    key: ir.key.clone(),
                    templates: ir.templates.clone(),
                    template_selection_expression: ir.template_selection_expression.clone(),
                })
                .collect(),
            request_validation: route.model_selection_expression.as_ref().map(|expr| {
                RequestValidationConfig {
                    model_selection_expression: expr.clone(),
                    models: route
                        .request_models
                        .iter()
                        .map(|(key, model)| {
                            let model = RequestModel {
                                name: model.name.clone(),
                                schema: model.schema.clone(),
                            };
                            (key.clone(), model)
                        })
                        .collect(),
                }
            }),
        });
    }
    Ok(ApiConfig {
        api_id: LOCAL_API_ID.into(),
        stage: api.stage.clone(),
        route_selection_expression: api.route_selection_expression.clone(),
        routes,
        url_path_header: api.url_path_header.clone(),
        limits: Limits {
            idle_timeout: Duration::from_secs(args.idle_timeout),
            max_connection_duration: Duration::from_secs(args.max_connection_duration),
            ..Limits::default()
        },
        domain_name: format!("127.0.0.1:{port}"),
        account: account.clone(),
        connect_authorization,
    })
}

/// The `$connect` route's `AuthorizationType` as the gateway's configuration.
fn authorization(
    app: &App,
    route: &wsflow_template::Route,
    args: &UpArgs,
) -> anyhow::Result<ConnectAuthorization> {
    Ok(
        match (route.authorization_type.as_str(), &route.authorizer) {
            ("CUSTOM", Some(a)) => {
                let Some(f) = app.functions.iter().find(|f| f.logical_id == a.function) else {
                    bail!(
                        "Authorizer {}, property AuthorizerUri: {} is not a function of this template",
                        a.logical_id,
                        a.function
                    );
                };
                ConnectAuthorization::Lambda(LambdaAuthorizer {
                    name: a.name.clone(),
                    function: f.name.clone(),
                    identity_sources: a.identity_sources.clone(),
                })
            }
            ("AWS_IAM", _) => {
                let credentials = iam_credentials(&args.iam_credentials)?;
                if credentials.is_empty() {
                    eprintln!(
                        "wsflow: $connect uses AWS_IAM; signatures are not checked (pass --iam-credentials ACCESS_KEY_ID:SECRET to check them)"
                    );
                }
                ConnectAuthorization::Iam(IamAuthorization { credentials })
            }
            _ => ConnectAuthorization::None,
        },
    )
}

/// `AKID:SECRET` pairs.
fn iam_credentials(values: &[String]) -> anyhow::Result<Vec<IamCredential>> {
    values
        .iter()
        .filter(|v| !v.trim().is_empty())
        .map(|v| match v.trim().split_once(':') {
            Some((id, secret)) if !id.is_empty() && !secret.is_empty() => Ok(IamCredential {
                access_key_id: id.to_owned(),
                secret_access_key: secret.to_owned(),
            }),
            // Never echo the value: it holds a secret.
            _ => bail!("--iam-credentials: expected ACCESS_KEY_ID:SECRET_ACCESS_KEY"),
        })
        .collect()
}
