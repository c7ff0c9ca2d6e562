//! `MOCK` integrations: API Gateway answers itself. The selected request
//! template renders to a JSON object whose `statusCode` (an integer) is the
//! integration's status; that status selects the integration response,
//! whose template renders the reply (see `super::response`).
//!
//! * Template selection is that of AWS service integrations: the
//!   `TemplateSelectionExpression` (`$default` when absent), else the
//!   `$default` template.
//! * No template selected: status 200, as API Gateway documents for a mock
//!   without a request template.
//! * A template that renders something other than a JSON object with an
//!   integer `statusCode` (100–599) fails the request as on AWS ("statusCode
//!   should be an integer which defined in request template" in its logs):
//!   the client gets `Internal server error`.

use std::collections::BTreeMap;

use serde_json::{Map, Value};
use wsflow_vtl::{RenderContext, Template};

use super::{CallInput, Outcome};
use crate::{GatewayError, route_selection::SelectionExpression};

/// AWS's log text for a mock whose request template gives no usable status.
const NO_STATUS: &str = "Execution failed due to configuration error: statusCode should be an integer which defined in request template";

pub(crate) struct MockIntegration {
    templates: BTreeMap<String, Template>,
    selection: Option<SelectionExpression>,
    /// `$stageVariables` (the local stage defines none).
    stage_variables: Map<String, Value>,
}

impl MockIntegration {
    pub(crate) fn compile(
        route_key: &str,
        request_templates: &BTreeMap<String, String>,
        template_selection_expression: Option<&str>,
    ) -> Result<Self, GatewayError> {
        let templates = super::parse_request_templates(route_key, request_templates)?;
        Ok(Self {
            templates,
            selection: template_selection_expression
                .map(SelectionExpression::parse)
                .transpose()?,
            stage_variables: Map::new(),
        })
    }

    pub(crate) fn call(&self, input: &CallInput<'_>) -> Outcome {
        let key = match &self.selection {
            Some(sel) => sel.evaluate(input.body),
            None => Some("$default".to_owned()),
        };
        let template = key
            .as_deref()
            .and_then(|k| self.templates.get(k))
            .or_else(|| self.templates.get("$default"));
        let status = match template {
            None => 200,
            Some(t) => {
                let ctx = RenderContext {
                    body: input.body,
                    context: input.context,
                    stage_variables: &self.stage_variables,
                    headers: input.headers,
                    query: input.query,
                    path: &[],
                };
                let rendered = match t.render(&ctx) {
                    Ok(s) => s,
                    Err(e) => return Outcome::Failed(format!("request template: {e}")),
                };
                match status_of(&rendered) {
                    Some(status) => status,
                    None => return Outcome::Failed(format!("{NO_STATUS}: {rendered}")),
                }
            }
        };
        Outcome::Response {
            status,
            body: None,
            headers: Vec::new(),
        }
    }
}

/// The integer `statusCode` of a rendered mock request.
fn status_of(rendered: &str) -> Option<u16> {
    let value: Value = serde_json::from_str(rendered).ok()?;
    value
        .get("statusCode")?
        .as_u64()
        .filter(|s| (100..600).contains(s))
        .and_then(|s| u16::try_from(s).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mock(templates: &[(&str, &str)], tse: Option<&str>) -> MockIntegration {
        let templates = templates
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        MockIntegration::compile("r", &templates, tse).unwrap()
    }

    fn status(m: &MockIntegration, body: &str) -> Result<u16, String> {
        let context = Map::new();
        let input = CallInput {
            body,
            context: &context,
            headers: &[],
            query: &[],
        };
        match m.call(&input) {
            Outcome::Response { status, body, .. } => {
                assert_eq!(body, None);
                Ok(status)
            }
            Outcome::Failed(e) => Err(e),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_request_template_gives_the_status() {
        let m = mock(
            &[(
                "$default",
                r#"#if($input.path('$.ok'))#set($s = 200)#else#set($s = 404)#end{"statusCode": $s}"#,
            )],
            Some("\\$default"),
        );
        assert_eq!(status(&m, r#"{"ok": true}"#), Ok(200));
        assert_eq!(status(&m, r#"{"ok": false}"#), Ok(404));
        assert_eq!(status(&mock(&[], None), "anything"), Ok(200));
        // Selection by the message, falling back to $default.
        let m = mock(
            &[
                ("$default", r#"{"statusCode": 200}"#),
                ("teapot", r#"{"statusCode": 418}"#),
            ],
            Some("$request.body.kind"),
        );
        assert_eq!(status(&m, r#"{"kind":"teapot"}"#), Ok(418));
        assert_eq!(status(&m, r#"{"kind":"cup"}"#), Ok(200));
        assert_eq!(status(&m, "not json"), Ok(200));
    }

    #[test]
    fn a_template_without_an_integer_status_fails() {
        for source in [
            "{}",
            r#"{"statusCode": "200"}"#,
            r#"{"statusCode": 200.5}"#,
            r#"{"statusCode": 42}"#,
            r#"{"statusCode": 70000}"#,
            "not json",
            "",
        ] {
            let e = status(&mock(&[("$default", source)], None), "{}").unwrap_err();
            assert!(
                e.contains("statusCode should be an integer"),
                "{source}: {e}"
            );
        }
        assert!(
            MockIntegration::compile(
                "r",
                &BTreeMap::from([("$default".to_owned(), "#foreach(".to_owned())]),
                None
            )
            .is_err()
        );
    }
}
