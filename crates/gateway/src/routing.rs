//! What a [`Gateway`] routes with: the selection expression, the compiled
//! routes and integrations, the `$connect` authorization, and the
//! configuration they were compiled from. Held in an `ArcSwap`, so
//! [`Gateway::reload`] replaces it while connections stay open: each
//! message, handshake and `$disconnect` takes the one current when it
//! arrives (a message being handled finishes on the one it started with).

use std::{collections::HashMap, sync::Arc};

use crate::{
    ApiConfig, Backends, Gateway, GatewayError, Route, authorizer,
    integration::{Integration, response::IntegrationResponses},
    route_selection::SelectionExpression,
    validation::RequestValidator,
};

/// A compiled [`ApiConfig`].
pub(crate) struct Routing {
    pub(crate) config: Arc<ApiConfig>,
    pub(crate) selection: SelectionExpression,
    pub(crate) routes: HashMap<String, Route>,
    pub(crate) connect: Option<Route>,
    pub(crate) disconnect: Option<Route>,
    pub(crate) default: Option<Route>,
    pub(crate) authorization: authorizer::Authorization,
}

impl Routing {
    /// Compiles the route selection expression, every request and response
    /// template and every request model once, and resolves each AWS service
    /// integration's backend.
    pub(crate) fn compile(config: ApiConfig, backends: &Backends) -> Result<Routing, GatewayError> {
        let selection = SelectionExpression::parse(&config.route_selection_expression)?;
        let mut routes = HashMap::new();
        let (mut connect, mut disconnect, mut default) = (None, None, None);
        for rc in &config.routes {
            let integration =
                Integration::compile(&rc.route_key, &rc.integration, &config, backends)?;
            let responses = if integration.has_responses() {
                IntegrationResponses::compile(&rc.route_key, &rc.integration_responses)?
            } else {
                None
            };
            let validation = rc
                .request_validation
                .as_ref()
                .map(|v| RequestValidator::compile(&rc.route_key, v))
                .transpose()?;
            let route = Route {
                key: rc.route_key.clone(),
                integration,
                two_way: rc.two_way,
                responses,
                validation,
            };
            let slot = match rc.route_key.as_str() {
                "$connect" => &mut connect,
                "$disconnect" => &mut disconnect,
                "$default" => &mut default,
                _ => {
                    if routes.insert(rc.route_key.clone(), route).is_some() {
                        return Err(GatewayError::DuplicateRoute(rc.route_key.clone()));
                    }
                    continue;
                }
            };
            if slot.replace(route).is_some() {
                return Err(GatewayError::DuplicateRoute(rc.route_key.clone()));
            }
        }
        let authorization = authorizer::Authorization::compile(&config, &backends.lambda)?;
        Ok(Routing {
            config: Arc::new(config),
            selection,
            routes,
            connect,
            disconnect,
            default,
            authorization,
        })
    }
}

impl Gateway {
    /// Serves `config` from now on (routes, integrations, mapping templates,
    /// authorization, limits) without closing any connection: the next
    /// message of an open connection is routed with it. A config that does
    /// not compile is refused with the error [`Gateway::new`] would give, and
    /// the current one keeps serving. The API id and the stage are part of
    /// every open connection's identity, so a config changing them is refused.
    pub fn reload(&self, config: ApiConfig, backends: &Backends) -> Result<(), GatewayError> {
        let api = &self.inner.api;
        if config.api_id != api.api_id || config.stage != api.stage {
            return Err(GatewayError::Reload(format!(
                "the API id and the stage cannot change while serving (serving {}/{}, got {}/{})",
                api.api_id, api.stage, config.api_id, config.stage
            )));
        }
        let routing = Routing::compile(config, backends)?;
        self.inner.routing.store(Arc::new(routing));
        Ok(())
    }

    /// The routing current now.
    pub(crate) fn routing(&self) -> Arc<Routing> {
        self.inner.routing.load_full()
    }
}
