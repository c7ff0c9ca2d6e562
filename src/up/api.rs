//! The template's WebSocket API as the gateway's configuration.

use std::time::Duration;

use anyhow::bail;
use wsflow_aws_wire::Account;
use wsflow_gateway::{ApiConfig, IntegrationConfig, Limits, RouteConfig};
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
    for route in &api.routes {
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
            Integration::Mock { .. } => IntegrationConfig::Mock,
            Integration::Http { uri } => bail!(
                "Route {}, property IntegrationUri: HTTP integrations ({uri}) are not served by the local stack",
                route.route_key
            ),
        };
        routes.push(RouteConfig {
            route_key: route.route_key.clone(),
            integration,
            two_way: route.two_way,
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
        connect_authorization: Default::default(),
    })
}
