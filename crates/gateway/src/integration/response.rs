//! Integration responses (`AWS::ApiGatewayV2::IntegrationResponse`) of
//! non-proxy integrations (`AWS`, `MOCK`): what a two-way route sends back.
//!
//! * Selection, as API Gateway selects for `AWS`, `HTTP` and `MOCK`
//!   integrations (their integration response selection expression is
//!   fixed to `$integration.response.statuscode`): the status code is
//!   matched against each `/regex/` key, the whole code against the whole
//!   pattern, in the order the responses are given; the first match wins,
//!   else the `$default` response. With neither, the request fails as a
//!   non-proxy integration without a matching response does on AWS: the
//!   client gets `Internal server error`. A key without the slashes is taken
//!   as a pattern too.
//! * The template: the response's `TemplateSelectionExpression` (`$default`
//!   when absent) is evaluated against the client's message and the
//!   integration's status and headers; the template of that key, else the
//!   `$default` template, is rendered over the integration's response body
//!   (`$input.body`, `$input.json`, `$input.path`) with the request's
//!   `$context`. A mock has no body: its templates see an empty one. With no
//!   template the body is passed through unchanged.

use std::collections::BTreeMap;

use regex::Regex;
use serde_json::Map;
use wsflow_vtl::{RenderContext, Template};

use super::CallInput;
use crate::{
    GatewayError,
    config::IntegrationResponseConfig,
    route_selection::{IntegrationResult, SelectionExpression},
};

/// One compiled integration response.
struct Response {
    /// The `IntegrationResponseKey`, for logs.
    key: String,
    templates: BTreeMap<String, Template>,
    selection: Option<SelectionExpression>,
}

/// A route's compiled integration responses.
pub(crate) struct IntegrationResponses {
    /// `/regex/` responses, in configuration order.
    patterns: Vec<(Regex, Response)>,
    /// The `$default` response.
    default: Option<Response>,
}

/// The anchored pattern of an `IntegrationResponseKey` other than `$default`.
fn key_pattern(key: &str) -> &str {
    key.strip_prefix('/')
        .and_then(|k| k.strip_suffix('/'))
        .unwrap_or(key)
}

impl IntegrationResponses {
    /// Compiles the responses' keys, selection expressions and templates;
    /// `None` when there are none (the body then passes through).
    pub(crate) fn compile(
        route_key: &str,
        configs: &[IntegrationResponseConfig],
    ) -> Result<Option<Self>, GatewayError> {
        if configs.is_empty() {
            return Ok(None);
        }
        let bad = |key: &str, reason: String| GatewayError::IntegrationResponse {
            route_key: route_key.to_owned(),
            key: key.to_owned(),
            reason,
        };
        let mut out = IntegrationResponses {
            patterns: Vec::new(),
            default: None,
        };
        for config in configs {
            let key = config.key.as_str();
            let mut templates = BTreeMap::new();
            for (template_key, source) in &config.templates {
                let t = Template::parse(source)
                    .map_err(|e| bad(key, format!("response template {template_key:?}: {e}")))?;
                templates.insert(template_key.clone(), t);
            }
            let selection = config
                .template_selection_expression
                .as_deref()
                .map(SelectionExpression::parse_response)
                .transpose()
                .map_err(|e| bad(key, format!("TemplateSelectionExpression: {e}")))?;
            let response = Response {
                key: key.to_owned(),
                templates,
                selection,
            };
            if key == "$default" {
                if out.default.is_some() {
                    return Err(bad(
                        key,
                        "two integration responses have the key $default".into(),
                    ));
                }
                out.default = Some(response);
                continue;
            }
            let pattern = key_pattern(key);
            if pattern.is_empty() {
                return Err(bad(
                    key,
                    "the key must be $default or a /regex/ matched against the status code".into(),
                ));
            }
            let regex = Regex::new(&format!("^(?:{pattern})$"))
                .map_err(|e| bad(key, format!("not a valid regular expression: {e}")))?;
            out.patterns.push((regex, response));
        }
        Ok(Some(out))
    }

    /// The response a status code selects.
    fn select(&self, status: u16) -> Option<&Response> {
        let code = status.to_string();
        self.patterns
            .iter()
            .find(|(re, _)| re.is_match(&code))
            .map(|(_, r)| r)
            .or(self.default.as_ref())
    }

    /// The key of the response a status code selects (`None`: no match).
    #[cfg(test)]
    fn selected_key(&self, status: u16) -> Option<&str> {
        self.select(status).map(|r| r.key.as_str())
    }

    /// What a two-way route sends for the integration's answer: the
    /// rendered template, the body passed through (`None` when the
    /// integration has none), or `Err` with the reason the request fails
    /// (no response matches, the template does not render).
    pub(crate) fn reply(
        &self,
        result: IntegrationResult<'_>,
        body: Option<&str>,
        request: &CallInput<'_>,
    ) -> Result<Option<String>, String> {
        let Some(response) = self.select(result.status) else {
            return Err(format!(
                "no integration response matches status {} and there is no $default one",
                result.status
            ));
        };
        let key = match &response.selection {
            Some(sel) => sel.evaluate_response(request.body, result),
            None => Some("$default".to_owned()),
        };
        let template = key
            .as_deref()
            .and_then(|k| response.templates.get(k))
            .or_else(|| response.templates.get("$default"));
        let Some(template) = template else {
            return Ok(body.map(str::to_owned));
        };
        let stage_variables = Map::new();
        let ctx = RenderContext {
            body: body.unwrap_or(""),
            context: request.context,
            stage_variables: &stage_variables,
            headers: &[],
            query: &[],
            path: &[],
        };
        template.render(&ctx).map(Some).map_err(|e| {
            format!(
                "integration response {}: response template: {e}",
                response.key
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ir(key: &str, templates: &[(&str, &str)], tse: Option<&str>) -> IntegrationResponseConfig {
        IntegrationResponseConfig {
            key: key.to_owned(),
            templates: templates
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            template_selection_expression: tse.map(str::to_owned),
        }
    }

    fn compile(configs: &[IntegrationResponseConfig]) -> IntegrationResponses {
        IntegrationResponses::compile("r", configs)
            .unwrap()
            .expect("responses")
    }

    fn result(status: u16) -> IntegrationResult<'static> {
        IntegrationResult {
            status,
            headers: &[],
        }
    }

    #[test]
    fn keys_select_by_status_code() {
        let r = compile(&[
            ir("/2\\d\\d/", &[], None),
            ir("$default", &[], None),
            ir("/4\\d\\d/", &[], None),
            ir("/404/", &[], None),
        ]);
        assert_eq!(r.selected_key(200), Some("/2\\d\\d/"));
        assert_eq!(r.selected_key(204), Some("/2\\d\\d/"));
        // The first pattern in order wins.
        assert_eq!(r.selected_key(404), Some("/4\\d\\d/"));
        assert_eq!(r.selected_key(400), Some("/4\\d\\d/"));
        // No pattern: $default, wherever it stands.
        assert_eq!(r.selected_key(500), Some("$default"));
        assert_eq!(r.selected_key(302), Some("$default"));
    }

    #[test]
    fn patterns_match_the_whole_code() {
        let r = compile(&[ir("/2/", &[], None), ir("/5\\d\\d|429/", &[], None)]);
        assert_eq!(r.selected_key(200), None, "2 must not match 200");
        assert_eq!(r.selected_key(429), Some("/5\\d\\d|429/"));
        assert_eq!(r.selected_key(503), Some("/5\\d\\d|429/"));
        // A bare key is a pattern too.
        let bare = compile(&[ir("200", &[], None)]);
        assert_eq!(bare.selected_key(200), Some("200"));
        assert_eq!(bare.selected_key(201), None);
    }

    #[test]
    fn no_match_without_default_fails_the_request() {
        let r = compile(&[ir("/2\\d\\d/", &[], None)]);
        let context = Map::new();
        let input = CallInput {
            body: "{}",
            context: &context,
            headers: &[],
            query: &[],
        };
        let err = r.reply(result(400), Some("{}"), &input).unwrap_err();
        assert!(err.contains("400"), "{err}");
        assert_eq!(
            r.reply(result(200), Some("body"), &input)
                .unwrap()
                .as_deref(),
            Some("body"),
            "no template: passed through"
        );
        assert_eq!(r.reply(result(200), None, &input).unwrap(), None);
    }

    #[test]
    fn templates_are_selected_and_rendered() {
        let r = compile(&[
            ir(
                "$default",
                &[
                    ("$default", r#"{"fallback": $input.json('$.a')}"#),
                    ("short", "#set($x = $input.path('$.a'))a=$x"),
                    ("404", "missing: $context.requestId"),
                ],
                Some("${request.body.format}"),
            ),
            ir(
                "/4\\d\\d/",
                &[("404", "missing: $context.requestId")],
                Some("$integration.response.statuscode"),
            ),
        ]);
        let mut context = Map::new();
        context.insert("requestId".into(), "req-1".into());
        let input = |body: &'static str| CallInput {
            body,
            context: &context,
            headers: &[],
            query: &[],
        };
        let reply = |status, request: &'static str| {
            r.reply(result(status), Some(r#"{"a": 7}"#), &input(request))
                .unwrap()
                .unwrap()
        };
        assert_eq!(reply(200, r#"{"format":"short"}"#), "a=7");
        // A key with no template, or a message that is not JSON: $default.
        assert_eq!(reply(200, r#"{"format":"other"}"#), r#"{"fallback": 7}"#);
        assert_eq!(reply(200, "not json"), r#"{"fallback": 7}"#);
        assert_eq!(reply(404, "{}"), "missing: req-1");
        // A selected response without a matching template passes the body.
        assert_eq!(reply(400, "{}"), r#"{"a": 7}"#);
    }

    #[test]
    fn bad_configurations_are_refused() {
        for (config, needle) in [
            (ir("/(/", &[], None), "regular expression"),
            (ir("", &[], None), "$default or a /regex/"),
            (ir("//", &[], None), "$default or a /regex/"),
            (
                ir("$default", &[("$default", "#if(")], None),
                "response template",
            ),
            (
                ir("$default", &[], Some("$context.x")),
                "unsupported variable",
            ),
        ] {
            let e = IntegrationResponses::compile("r", &[config])
                .err()
                .expect("refused");
            assert!(e.to_string().contains(needle), "{e}");
        }
        let two = [ir("$default", &[], None), ir("$default", &[], None)];
        assert!(IntegrationResponses::compile("r", &two).is_err());
        assert!(IntegrationResponses::compile("r", &[]).unwrap().is_none());
    }
}
