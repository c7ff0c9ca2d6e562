//! Template document → [`App`]: globals, reference validation, and one extractor per resource
//! kind. Resources are visited in logical-id order (deterministic).

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Map, Value};

use crate::intrinsics::{RErr, Resolver, referenced_names, scalar_text, single, truthy};
use crate::model::*;
use crate::{LocalContext, TemplateError, params, yaml};

type Res<T> = Result<T, TemplateError>;

/// CloudFormation's message for a reference to nothing.
fn unresolved(name: &str) -> TemplateError {
    TemplateError::Format(format!(
        "Unresolved resource dependencies [{name}] in the Resources block of the template"
    ))
}

fn err(resource: &str, property: &str, e: RErr) -> TemplateError {
    match e {
        RErr::Unresolved(n) => unresolved(&n),
        RErr::Other(message) => TemplateError::Resource {
            resource: resource.to_string(),
            property: property.to_string(),
            message,
        },
    }
}

fn bad(resource: &str, property: &str, message: impl Into<String>) -> TemplateError {
    TemplateError::Resource {
        resource: resource.to_string(),
        property: property.to_string(),
        message: message.into(),
    }
}

pub(crate) fn build(doc: &Value, overrides: &[(String, String)], ctx: &LocalContext) -> Res<App> {
    let Some(resources) = doc.get("Resources").and_then(Value::as_object) else {
        return Err(TemplateError::Format(
            "At least one Resources member must be defined.".into(),
        ));
    };
    let params = params::resolve(doc.get("Parameters"), overrides)?;
    let mut resources = apply_globals(resources, doc.get("Globals"));
    crate::sam::expand(&mut resources, &params, &ctx.account)?;
    let r = Resolver::new(ctx, params, doc, &resources);
    validate_refs(doc, &r)?;
    let b = Builder { r: &r, ctx };
    let mut app = App::default();
    for (id, res) in r.resources {
        if !r.enabled(id).map_err(|e| err(id, "Condition", e))? {
            continue;
        }
        match res.get("Type").and_then(Value::as_str).unwrap_or("") {
            "AWS::Serverless::Function" | "AWS::Lambda::Function" => {
                app.functions.push(b.function(id, res)?)
            }
            "AWS::Serverless::StateMachine" | "AWS::StepFunctions::StateMachine" => {
                app.state_machines.push(b.state_machine(id)?)
            }
            "AWS::DynamoDB::Table" => app.tables.push(b.table(id)?),
            "AWS::SQS::Queue" => app.queues.push(b.queue(id)?),
            "AWS::SNS::Topic" => app.topics.push(b.topic(id)?),
            "AWS::ApiGatewayV2::Api" => {
                let proto = b.opt_string(id, "ProtocolType")?.unwrap_or_default();
                if proto == "WEBSOCKET" {
                    app.apis.push(b.api(id)?);
                }
            }
            _ => {}
        }
    }
    b.topic_subscriptions(&mut app.topics)?;
    if let Some(Value::Object(outputs)) = doc.get("Outputs") {
        for (name, o) in outputs {
            if let Some(Value::String(c)) = o.get("Condition")
                && !r.condition(c).unwrap_or(false)
            {
                continue;
            }
            let Some(v) = o.get("Value") else { continue };
            match r.resolve(v) {
                Ok(Some(Value::Array(a))) => {
                    let parts: Vec<String> = a.iter().filter_map(scalar_text).collect();
                    app.outputs.insert(name.clone(), parts.join(","));
                }
                Ok(Some(v)) => {
                    if let Some(s) = scalar_text(&v) {
                        app.outputs.insert(name.clone(), s);
                    }
                }
                Ok(None) | Err(_) => {}
            }
        }
    }
    Ok(app)
}

/// Merges SAM `Globals.Function` into every `AWS::Serverless::Function` (the function's own
/// properties win; `Environment.Variables` maps are merged key by key).
fn apply_globals(resources: &Map<String, Value>, globals: Option<&Value>) -> Map<String, Value> {
    let mut out = resources.clone();
    let Some(Value::Object(g)) = globals.and_then(|g| g.get("Function")) else {
        return out;
    };
    for res in out.values_mut() {
        if res.get("Type").and_then(Value::as_str) != Some("AWS::Serverless::Function") {
            continue;
        }
        let Some(obj) = res.as_object_mut() else {
            continue;
        };
        let props = obj
            .entry("Properties")
            .or_insert_with(|| Value::Object(Map::new()));
        let Some(props) = props.as_object_mut() else {
            continue;
        };
        for (k, gv) in g {
            match (props.get_mut(k), gv) {
                (None, _) => {
                    props.insert(k.clone(), gv.clone());
                }
                (Some(Value::Object(own)), Value::Object(gm)) if k == "Environment" => {
                    let gvars = gm.get("Variables").and_then(Value::as_object);
                    if let (Some(gvars), Some(Value::Object(vars))) =
                        (gvars, own.get_mut("Variables"))
                    {
                        for (vk, vv) in gvars {
                            vars.entry(vk.clone()).or_insert_with(|| vv.clone());
                        }
                    } else if let Some(gvars) = gvars {
                        own.entry("Variables")
                            .or_insert_with(|| Value::Object(gvars.clone()));
                    }
                }
                _ => {}
            }
        }
    }
    out
}

/// Every `Ref`/`GetAtt`/`${}` must name a parameter, pseudo parameter or resource, as
/// CloudFormation checks before anything else.
fn validate_refs(doc: &Value, r: &Resolver) -> Res<()> {
    let mut names = Vec::new();
    for section in ["Resources", "Outputs", "Conditions"] {
        if let Some(v) = doc.get(section) {
            referenced_names(v, &mut names);
        }
    }
    for n in names {
        let known = n.starts_with("AWS::")
            || r.params.contains_key(&n)
            || r.resources.contains_key(&n)
            || r.reference(&n).is_ok();
        if !known {
            return Err(unresolved(&n));
        }
    }
    Ok(())
}

/// `v` is `!Ref id`, `!GetAtt id.X` or a `!Sub` naming `${id}`.
fn refers_to(v: &Value, id: &str) -> bool {
    let mut names = Vec::new();
    referenced_names(v, &mut names);
    names.iter().any(|n| n == id)
}

struct Builder<'r, 'a> {
    r: &'r Resolver<'a>,
    ctx: &'r LocalContext,
}

impl Builder<'_, '_> {
    fn prop(&self, id: &str, p: &str) -> Option<&Value> {
        self.r.props(id).and_then(|m| m.get(p))
    }

    fn opt_string(&self, id: &str, p: &str) -> Res<Option<String>> {
        match self.prop(id, p) {
            None => Ok(None),
            Some(v) => self
                .r
                .resolve_string(v)
                .map(Some)
                .map_err(|e| err(id, p, e)),
        }
    }

    fn opt_value(&self, id: &str, p: &str) -> Res<Option<Value>> {
        match self.prop(id, p) {
            None => Ok(None),
            Some(v) => self.r.resolve(v).map_err(|e| err(id, p, e)),
        }
    }

    fn opt_u64(&self, id: &str, p: &str) -> Res<Option<u64>> {
        match self.opt_string(id, p)? {
            None => Ok(None),
            Some(s) => s
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| bad(id, p, format!("expected a whole number, got {s:?}"))),
        }
    }

    fn opt_bool(&self, id: &str, p: &str) -> Res<bool> {
        Ok(self.opt_value(id, p)?.is_some_and(|v| truthy(&v)))
    }

    fn string_map(&self, id: &str, p: &str) -> Res<BTreeMap<String, String>> {
        let mut out = BTreeMap::new();
        if let Some(Value::Object(m)) = self.prop(id, p) {
            for (k, v) in m {
                let prop = format!("{p}.{k}");
                if let Some(x) = self.r.resolve(v).map_err(|e| err(id, &prop, e))? {
                    match scalar_text(&x) {
                        Some(s) => {
                            out.insert(k.clone(), s);
                        }
                        None => return Err(bad(id, &prop, "expected a string")),
                    }
                }
            }
        }
        Ok(out)
    }

    fn name(&self, id: &str) -> Res<String> {
        self.r.physical_name(id).map_err(|e| err(id, "Name", e))
    }

    /// Finds the logical id of a resource of one of `types` that `v` denotes: structurally
    /// (`!Ref X`, `!GetAtt X.Attr`), else by comparing the resolved value with each
    /// candidate's `Ref` value and `attr` attribute for equality.
    fn logical_of(&self, v: &Value, types: &[&str], attr: Option<&str>) -> Option<String> {
        let of_type = |id: &str| self.r.resource_type(id).is_some_and(|t| types.contains(&t));
        if let Some((k, arg)) = single(v) {
            let id = match (k, arg) {
                ("Ref", Value::String(s)) => Some(s.clone()),
                ("Fn::GetAtt", Value::Array(a)) => {
                    a.first().and_then(Value::as_str).map(str::to_string)
                }
                ("Fn::GetAtt", Value::String(s)) => s.split('.').next().map(str::to_string),
                _ => None,
            };
            if let Some(id) = id.filter(|id| of_type(id)) {
                return Some(id);
            }
        }
        let resolved = self
            .r
            .resolve(v)
            .ok()
            .flatten()
            .and_then(|x| scalar_text(&x))?;
        self.matching(&resolved, types, attr)
    }

    /// The logical id of a resource of `types` whose `Ref` value or `attr` equals `value`.
    fn matching(&self, value: &str, types: &[&str], attr: Option<&str>) -> Option<String> {
        self.r.resources.keys().find_map(|id| {
            if !self.r.resource_type(id).is_some_and(|t| types.contains(&t))
                || !self.r.enabled(id).unwrap_or(false)
            {
                return None;
            }
            let candidates = [
                self.r
                    .reference(id)
                    .ok()
                    .flatten()
                    .and_then(|x| scalar_text(&x)),
                attr.and_then(|a| self.r.get_att(id, a).ok())
                    .and_then(|x| scalar_text(&x)),
            ];
            candidates
                .into_iter()
                .flatten()
                .any(|c| c == value)
                .then(|| id.clone())
        })
    }

    fn function(&self, id: &str, res: &Value) -> Res<Function> {
        let code = self
            .opt_string(id, "CodeUri")?
            .unwrap_or_else(|| ".".into());
        let architectures = match self.opt_value(id, "Architectures")? {
            Some(Value::Array(a)) => a.iter().filter_map(scalar_text).collect(),
            Some(_) => return Err(bad(id, "Architectures", "expected a list")),
            None => vec!["x86_64".to_string()],
        };
        let mut environment = BTreeMap::new();
        if let Some(Value::Object(vars)) = self
            .prop(id, "Environment")
            .and_then(|e| e.get("Variables"))
        {
            for (k, v) in vars {
                let prop = format!("Environment.Variables.{k}");
                let x = self.r.resolve(v).map_err(|e| err(id, &prop, e))?;
                if let Some(x) = x {
                    let s = scalar_text(&x).ok_or_else(|| bad(id, &prop, "expected a string"))?;
                    environment.insert(k.clone(), s);
                }
            }
        }
        let meta = res.get("Metadata");
        let meta_str = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_string);
        let mut events = Vec::new();
        if let Some(Value::Object(evs)) = self.prop(id, "Events") {
            for (ename, ev) in evs {
                if ev.get("Type").and_then(Value::as_str) != Some("SQS") {
                    continue;
                }
                let prop = format!("Events.{ename}.Properties.Queue");
                let p = ev.get("Properties");
                let Some(q) = p.and_then(|p| p.get("Queue")) else {
                    return Err(bad(id, &prop, "an SQS event needs a Queue"));
                };
                let queue = self
                    .logical_of(q, &["AWS::SQS::Queue"], Some("Arn"))
                    .ok_or_else(|| bad(id, &prop, "does not name a queue of this template"))?;
                let num = |k: &str, d: u32| -> Res<u32> {
                    match p.and_then(|p| p.get(k)) {
                        None => Ok(d),
                        Some(v) => {
                            let kp = format!("Events.{ename}.Properties.{k}");
                            let s = self.r.resolve_string(v).map_err(|e| err(id, &kp, e))?;
                            s.trim()
                                .parse()
                                .map_err(|_| bad(id, &kp, "expected a whole number"))
                        }
                    }
                };
                let report = p
                    .and_then(|p| p.get("FunctionResponseTypes"))
                    .and_then(|v| self.r.resolve(v).ok().flatten())
                    .and_then(|v| v.as_array().cloned())
                    .is_some_and(|a| a.iter().any(|t| t == "ReportBatchItemFailures"));
                events.push(FunctionEvent::Sqs {
                    queue,
                    batch_size: num("BatchSize", 10)?,
                    maximum_batching_window_seconds: num("MaximumBatchingWindowInSeconds", 0)?,
                    report_batch_item_failures: report,
                });
            }
        }
        Ok(Function {
            logical_id: id.to_string(),
            name: self.name(id)?,
            code_uri: self.ctx.template_dir.join(code),
            handler: self
                .opt_string(id, "Handler")?
                .unwrap_or_else(|| "bootstrap".into()),
            runtime: self.opt_string(id, "Runtime")?.unwrap_or_default(),
            inline_code: match self.opt_string(id, "InlineCode")? {
                Some(code) => Some(code),
                None => match self.prop(id, "Code").and_then(|c| c.get("ZipFile")) {
                    Some(v) => Some(
                        self.r
                            .resolve_string(v)
                            .map_err(|e| err(id, "Code.ZipFile", e))?,
                    ),
                    None => None,
                },
            },
            architectures,
            timeout_seconds: self.opt_u64(id, "Timeout")?.unwrap_or(3),
            memory_mb: self.opt_u64(id, "MemorySize")?.unwrap_or(128),
            environment,
            build_method: meta_str(meta.and_then(|m| m.get("BuildMethod"))),
            binary: meta_str(
                meta.and_then(|m| m.get("BuildProperties"))
                    .and_then(|b| b.get("Binary")),
            ),
            events,
        })
    }

    fn state_machine(&self, id: &str) -> Res<StateMachine> {
        let kind = self
            .opt_string(id, "Type")?
            .or(self.opt_string(id, "StateMachineType")?)
            .unwrap_or_else(|| "STANDARD".into());
        let kind = match kind.as_str() {
            "EXPRESS" => StateMachineKind::Express,
            "STANDARD" => StateMachineKind::Standard,
            other => {
                return Err(bad(
                    id,
                    "Type",
                    format!("unknown state machine type {other}"),
                ));
            }
        };
        let mut definition_file = None;
        let mut definition = if let Some(d) = self.opt_value(id, "Definition")? {
            d.to_string()
        } else if let Some(s) = self.opt_string(id, "DefinitionString")? {
            s
        } else if let Some(uri) = self.opt_string(id, "DefinitionUri")? {
            let path = self.ctx.template_dir.join(&uri);
            let text = read_definition(&path)
                .map_err(|m| bad(id, "DefinitionUri", format!("{uri}: {m}")))?;
            definition_file = Some(path);
            text
        } else {
            return Err(bad(
                id,
                "Definition",
                "needs Definition, DefinitionString or DefinitionUri",
            ));
        };
        for (k, v) in self.string_map(id, "DefinitionSubstitutions")? {
            definition = definition.replace(&format!("${{{k}}}"), &v);
        }
        Ok(StateMachine {
            definition_file,
            logical_id: id.to_string(),
            name: self.name(id)?,
            kind,
            definition,
        })
    }

    fn pairs(&self, id: &str, p: &str, a: &str, b: &str) -> Res<Vec<(String, String)>> {
        let mut out = Vec::new();
        match self.opt_value(id, p)? {
            None => {}
            Some(Value::Array(items)) => {
                for it in items {
                    let x = it.get(a).and_then(scalar_text);
                    let y = it.get(b).and_then(scalar_text);
                    match (x, y) {
                        (Some(x), Some(y)) => out.push((x, y)),
                        _ => return Err(bad(id, p, format!("each entry needs {a} and {b}"))),
                    }
                }
            }
            Some(_) => return Err(bad(id, p, "expected a list")),
        }
        Ok(out)
    }

    fn table(&self, id: &str) -> Res<Table> {
        let ttl = self
            .opt_value(id, "TimeToLiveSpecification")?
            .and_then(|t| {
                let on = t.get("Enabled").is_some_and(truthy);
                on.then(|| t.get("AttributeName").and_then(scalar_text))
                    .flatten()
            });
        let key_schema = self.pairs(id, "KeySchema", "AttributeName", "KeyType")?;
        if key_schema.is_empty() {
            return Err(bad(id, "KeySchema", "a table needs a key schema"));
        }
        Ok(Table {
            logical_id: id.to_string(),
            name: self.name(id)?,
            key_schema,
            attribute_definitions: self.pairs(
                id,
                "AttributeDefinitions",
                "AttributeName",
                "AttributeType",
            )?,
            ttl_attribute: ttl,
            billing_mode: self
                .opt_string(id, "BillingMode")?
                .unwrap_or_else(|| "PROVISIONED".into()),
        })
    }

    fn topic(&self, id: &str) -> Res<Topic> {
        let mut subscriptions = Vec::new();
        if let Some(Value::Array(list)) = self.prop(id, "Subscription") {
            for (i, sub) in list.iter().enumerate() {
                let field = |k: &str| -> Res<String> {
                    let prop = format!("Subscription[{i}].{k}");
                    let v = sub.get(k).ok_or_else(|| bad(id, &prop, "is required"))?;
                    self.r.resolve_string(v).map_err(|e| err(id, &prop, e))
                };
                let protocol = field("Protocol")?;
                let endpoint = self.subscription_endpoint(&protocol, field("Endpoint")?);
                subscriptions.push(TopicSubscription {
                    protocol,
                    endpoint,
                    raw_message_delivery: false,
                });
            }
        }
        Ok(Topic {
            logical_id: id.to_string(),
            name: self.name(id)?,
            subscriptions,
        })
    }

    /// A Lambda endpoint given by name (`!Ref Function`) as its ARN.
    fn subscription_endpoint(&self, protocol: &str, endpoint: String) -> String {
        if protocol == "lambda" && !endpoint.starts_with("arn:") {
            self.ctx.account.lambda_function(&endpoint)
        } else {
            endpoint
        }
    }

    /// Adds each enabled `AWS::SNS::Subscription` to the topic its
    /// `TopicArn` names.
    fn topic_subscriptions(&self, topics: &mut [Topic]) -> Res<()> {
        for (id, res) in self.r.resources {
            if res.get("Type").and_then(Value::as_str) != Some("AWS::SNS::Subscription")
                || !self.r.enabled(id).map_err(|e| err(id, "Condition", e))?
            {
                continue;
            }
            let topic_arn = self
                .opt_string(id, "TopicArn")?
                .ok_or_else(|| bad(id, "TopicArn", "is required"))?;
            let protocol = self
                .opt_string(id, "Protocol")?
                .ok_or_else(|| bad(id, "Protocol", "is required"))?;
            let endpoint = self
                .opt_string(id, "Endpoint")?
                .ok_or_else(|| bad(id, "Endpoint", "is required"))?;
            let Some(topic) = topics
                .iter_mut()
                .find(|t| self.ctx.account.sns_topic(&t.name) == topic_arn)
            else {
                return Err(bad(
                    id,
                    "TopicArn",
                    "does not name a topic of this template",
                ));
            };
            topic.subscriptions.push(TopicSubscription {
                endpoint: self.subscription_endpoint(&protocol, endpoint),
                protocol,
                raw_message_delivery: self.opt_bool(id, "RawMessageDelivery")?,
            });
        }
        Ok(())
    }

    fn queue(&self, id: &str) -> Res<Queue> {
        let fifo = self.opt_bool(id, "FifoQueue")?;
        let name = self.name(id)?;
        if fifo != name.ends_with(".fifo") {
            return Err(bad(
                id,
                "QueueName",
                "The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, must end with .fifo suffix",
            ));
        }
        let redrive = match self.prop(id, "RedrivePolicy") {
            None => None,
            Some(rp) => {
                let target = rp
                    .get("deadLetterTargetArn")
                    .ok_or_else(|| bad(id, "RedrivePolicy", "needs deadLetterTargetArn"))?;
                let dlq = match self.logical_of(target, &["AWS::SQS::Queue"], Some("Arn")) {
                    Some(q) => q,
                    None => self
                        .r
                        .resolve_string(target)
                        .map_err(|e| err(id, "RedrivePolicy.deadLetterTargetArn", e))?,
                };
                let max = rp
                    .get("maxReceiveCount")
                    .and_then(|v| self.r.resolve(v).ok().flatten())
                    .and_then(|v| scalar_text(&v))
                    .and_then(|s| s.trim().parse().ok())
                    .ok_or_else(|| bad(id, "RedrivePolicy.maxReceiveCount", "expected a number"))?;
                Some(Redrive {
                    dead_letter_queue: dlq,
                    max_receive_count: max,
                })
            }
        };
        Ok(Queue {
            logical_id: id.to_string(),
            name,
            fifo,
            content_based_deduplication: self.opt_bool(id, "ContentBasedDeduplication")?,
            visibility_timeout_seconds: self.opt_u64(id, "VisibilityTimeout")?.unwrap_or(30),
            message_retention_seconds: self
                .opt_u64(id, "MessageRetentionPeriod")?
                .unwrap_or(345_600),
            deduplication_scope: self.opt_string(id, "DeduplicationScope")?,
            redrive,
        })
    }

    /// Enabled resources of `ty` whose `ApiId` refers to `api`.
    fn children(&self, ty: &str, key: &str, target: &str) -> Res<Vec<&str>> {
        let mut out = Vec::new();
        for (id, res) in self.r.resources {
            if res.get("Type").and_then(Value::as_str) != Some(ty) {
                continue;
            }
            if !self.r.enabled(id).map_err(|e| err(id, "Condition", e))? {
                continue;
            }
            if self.prop(id, key).is_some_and(|v| refers_to(v, target)) {
                out.push(id.as_str());
            }
        }
        Ok(out)
    }

    fn api(&self, id: &str) -> Res<WebSocketApi> {
        let stage = match self
            .children("AWS::ApiGatewayV2::Stage", "ApiId", id)?
            .first()
        {
            Some(s) => self.opt_string(s, "StageName")?.unwrap_or_default(),
            None => String::new(),
        };
        let mut models = BTreeMap::new();
        for mid in self.children("AWS::ApiGatewayV2::Model", "ApiId", id)? {
            models.insert(mid.to_string(), self.model(mid)?);
        }
        let mut routes = Vec::new();
        for rid in self.children("AWS::ApiGatewayV2::Route", "ApiId", id)? {
            routes.push(self.route(rid, &models)?);
        }
        Ok(WebSocketApi {
            logical_id: id.to_string(),
            name: self.name(id)?,
            route_selection_expression: self
                .opt_string(id, "RouteSelectionExpression")?
                .unwrap_or_else(|| "$request.body.action".into()),
            api_key_selection_expression: self.opt_string(id, "ApiKeySelectionExpression")?,
            stage,
            routes,
            url_path_header: self.url_path_header()?,
        })
    }

    /// An `AWS::ApiGatewayV2::Model`; its schema must compile (JSON Schema draft 4, as API
    /// Gateway validates with).
    fn model(&self, mid: &str) -> Res<Model> {
        let name = self
            .opt_string(mid, "Name")?
            .ok_or_else(|| bad(mid, "Name", "a model needs a Name"))?;
        let schema = match self.opt_value(mid, "Schema")? {
            None => return Err(bad(mid, "Schema", "a model needs a Schema")),
            Some(Value::String(text)) => serde_json::from_str(&text)
                .map_err(|e| bad(mid, "Schema", format!("not JSON: {e}")))?,
            Some(v) => v,
        };
        if !schema.is_object() {
            return Err(bad(mid, "Schema", "a JSON Schema is an object"));
        }
        jsonschema::draft4::options().build(&schema).map_err(|e| {
            bad(
                mid,
                "Schema",
                format!("not a JSON Schema (draft 4) the stack can compile: {e}"),
            )
        })?;
        Ok(Model {
            logical_id: mid.to_string(),
            name,
            content_type: self.opt_string(mid, "ContentType")?,
            schema,
        })
    }

    /// A route's `RequestModels`: each value names a model of the API, by its `Name` (as
    /// API Gateway takes it) or by a `!Ref` to the model resource.
    fn request_models(
        &self,
        rid: &str,
        models: &BTreeMap<String, Model>,
    ) -> Res<BTreeMap<String, Model>> {
        let mut out = BTreeMap::new();
        let Some(value) = self.prop(rid, "RequestModels") else {
            return Ok(out);
        };
        let Value::Object(map) = value else {
            return Err(bad(
                rid,
                "RequestModels",
                "expected a map from model selection key to model name",
            ));
        };
        for (key, v) in map {
            let prop = format!("RequestModels.{key}");
            let model = match self.logical_of(v, &["AWS::ApiGatewayV2::Model"], None) {
                Some(mid) => models.get(&mid),
                None => {
                    let name = self.r.resolve_string(v).map_err(|e| err(rid, &prop, e))?;
                    models.values().find(|m| m.name == name)
                }
            };
            let model = model.ok_or_else(|| {
                bad(
                    rid,
                    &prop,
                    "names no AWS::ApiGatewayV2::Model of this route's API",
                )
            })?;
            out.insert(key.clone(), model.clone());
        }
        Ok(out)
    }

    fn route(&self, rid: &str, models: &BTreeMap<String, Model>) -> Res<Route> {
        let route_key = self
            .opt_string(rid, "RouteKey")?
            .ok_or_else(|| bad(rid, "RouteKey", "a route needs a RouteKey"))?;
        let target = self
            .opt_string(rid, "Target")?
            .ok_or_else(|| bad(rid, "Target", "the local stack needs an integration target"))?;
        let iid = target
            .strip_prefix("integrations/")
            .unwrap_or(&target)
            .to_string();
        if self.r.resource_type(&iid) != Some("AWS::ApiGatewayV2::Integration") {
            return Err(bad(
                rid,
                "Target",
                format!("{target} does not name an integration of this template"),
            ));
        }
        let rrse = self.opt_string(rid, "RouteResponseSelectionExpression")?;
        let has_response = !self
            .children("AWS::ApiGatewayV2::RouteResponse", "RouteId", rid)?
            .is_empty();
        let mut integration_responses = Vec::new();
        for irid in self.children(
            "AWS::ApiGatewayV2::IntegrationResponse",
            "IntegrationId",
            &iid,
        )? {
            integration_responses.push(IntegrationResponse {
                key: self
                    .opt_string(irid, "IntegrationResponseKey")?
                    .ok_or_else(|| {
                        bad(
                            irid,
                            "IntegrationResponseKey",
                            "an integration response needs a key ($default or /regex/)",
                        )
                    })?,
                templates: self.string_map(irid, "ResponseTemplates")?,
                template_selection_expression: self
                    .opt_string(irid, "TemplateSelectionExpression")?,
                content_handling: self.opt_string(irid, "ContentHandlingStrategy")?,
            });
        }
        let authorization_type = self
            .opt_value(rid, "AuthorizationType")?
            .as_ref()
            .and_then(scalar_text)
            .unwrap_or_else(|| "NONE".into());
        let authorizer = match authorization_type.as_str() {
            "NONE" | "AWS_IAM" => None,
            "CUSTOM" => Some(self.authorizer(rid)?),
            "JWT" => {
                return Err(bad(
                    rid,
                    "AuthorizationType",
                    "JWT authorizers are for HTTP APIs; WebSocket APIs take NONE, AWS_IAM or CUSTOM",
                ));
            }
            other => {
                return Err(bad(
                    rid,
                    "AuthorizationType",
                    format!("unknown authorization type {other} (NONE, AWS_IAM or CUSTOM)"),
                ));
            }
        };
        if authorization_type != "NONE" && route_key != "$connect" {
            return Err(bad(
                rid,
                "AuthorizationType",
                "WebSocket APIs authorize the $connect route only",
            ));
        }
        Ok(Route {
            model_selection_expression: self.opt_string(rid, "ModelSelectionExpression")?,
            request_models: self.request_models(rid, models)?,
            authorization_type,
            authorizer,
            route_key,
            integration: self.integration(&iid)?,
            two_way: rrse.is_some() || has_response,
            operation_name: self.opt_string(rid, "OperationName")?,
            route_response_selection_expression: rrse,
            integration_responses,
        })
    }

    /// The authorizer a `CUSTOM` route's `AuthorizerId` names.
    fn authorizer(&self, rid: &str) -> Res<Authorizer> {
        let id_value = self.prop(rid, "AuthorizerId").ok_or_else(|| {
            bad(
                rid,
                "AuthorizerId",
                "CUSTOM authorization needs an AuthorizerId",
            )
        })?;
        let aid = self
            .logical_of(id_value, &["AWS::ApiGatewayV2::Authorizer"], None)
            .ok_or_else(|| {
                bad(
                    rid,
                    "AuthorizerId",
                    "does not name an AWS::ApiGatewayV2::Authorizer of this template",
                )
            })?;
        let authorizer_type = self
            .opt_string(&aid, "AuthorizerType")?
            .ok_or_else(|| bad(&aid, "AuthorizerType", "missing"))?;
        if authorizer_type != "REQUEST" {
            return Err(bad(
                &aid,
                "AuthorizerType",
                format!("{authorizer_type}: WebSocket APIs take REQUEST authorizers"),
            ));
        }
        let uri = self.opt_string(&aid, "AuthorizerUri")?.ok_or_else(|| {
            bad(
                &aid,
                "AuthorizerUri",
                "a REQUEST authorizer needs an AuthorizerUri",
            )
        })?;
        let function = self.lambda_uri_function(&aid, "AuthorizerUri", &uri)?;
        let identity_sources = match self.opt_value(&aid, "IdentitySource")? {
            None => Vec::new(),
            Some(Value::Array(items)) => items.iter().filter_map(scalar_text).collect(),
            Some(v) => scalar_text(&v)
                .map(|s| s.split(',').map(|p| p.trim().to_string()).collect())
                .unwrap_or_default(),
        };
        Ok(Authorizer {
            name: self
                .opt_string(&aid, "Name")?
                .unwrap_or_else(|| aid.clone()),
            logical_id: aid.clone(),
            authorizer_type,
            function,
            identity_sources,
            result_ttl_seconds: self.opt_u64(&aid, "AuthorizerResultTtlInSeconds")?,
        })
    }

    /// The function logical id of an
    /// `arn:aws:apigateway:<region>:lambda:path/2015-03-31/functions/<arn>/invocations` URI.
    fn lambda_uri_function(&self, id: &str, property: &str, uri: &str) -> Res<String> {
        uri.split_once(":lambda:path/")
            .and_then(|(_, p)| p.split_once("/functions/"))
            .and_then(|(_, f)| f.strip_suffix("/invocations"))
            .map(wsflow_aws_wire::arn::lambda_function_name)
            .and_then(|name| {
                self.matching(
                    name,
                    &["AWS::Serverless::Function", "AWS::Lambda::Function"],
                    None,
                )
            })
            .ok_or_else(|| {
                bad(
                    id,
                    property,
                    format!("{uri} does not invoke a function of this template"),
                )
            })
    }

    fn integration(&self, iid: &str) -> Res<Integration> {
        let ty = self
            .opt_string(iid, "IntegrationType")?
            .ok_or_else(|| bad(iid, "IntegrationType", "missing"))?;
        let uri = self.opt_string(iid, "IntegrationUri")?;
        let need_uri = || {
            uri.clone()
                .ok_or_else(|| bad(iid, "IntegrationUri", "missing"))
        };
        Ok(match ty.as_str() {
            "AWS_PROXY" => {
                // arn:aws:apigateway:<region>:lambda:path/2015-03-31/functions/<arn>/invocations
                let uri = need_uri()?;
                let function = self.lambda_uri_function(iid, "IntegrationUri", &uri)?;
                Integration::LambdaProxy { function }
            }
            "AWS" => {
                let uri = need_uri()?;
                let parts: Vec<&str> = uri.splitn(6, ':').collect();
                let [_, _, "apigateway", _, service, rest] = parts.as_slice() else {
                    return Err(bad(
                        iid,
                        "IntegrationUri",
                        format!(
                            "{uri} is not an arn:aws:apigateway:<region>:<service>:action|path/.. URI"
                        ),
                    ));
                };
                let (action, path) = if let Some(a) = rest.strip_prefix("action/") {
                    (Some(a.to_string()), None)
                } else if let Some(p) = rest.strip_prefix("path/") {
                    (None, Some(p.to_string()))
                } else {
                    return Err(bad(
                        iid,
                        "IntegrationUri",
                        format!("{uri}: expected action/ or path/"),
                    ));
                };
                Integration::AwsService {
                    service: service.to_string(),
                    action,
                    path,
                    request_templates: self.string_map(iid, "RequestTemplates")?,
                    template_selection_expression: self
                        .opt_string(iid, "TemplateSelectionExpression")?,
                    passthrough_behavior: self.opt_string(iid, "PassthroughBehavior")?,
                    request_parameters: self.string_map(iid, "RequestParameters")?,
                    content_handling: self.opt_string(iid, "ContentHandlingStrategy")?,
                }
            }
            "MOCK" => Integration::Mock {
                request_templates: self.string_map(iid, "RequestTemplates")?,
                template_selection_expression: self
                    .opt_string(iid, "TemplateSelectionExpression")?,
            },
            "HTTP" | "HTTP_PROXY" => Integration::Http { uri: need_uri()? },
            other => {
                return Err(bad(
                    iid,
                    "IntegrationType",
                    format!("unknown integration type {other}"),
                ));
            }
        })
    }

    /// The header an enabled CloudFront function copies the URL path into, when an enabled
    /// distribution uses it.
    fn url_path_header(&self) -> Res<Option<String>> {
        let mut dist = false;
        let mut header = None;
        for (id, res) in self.r.resources {
            let ty = res.get("Type").and_then(Value::as_str);
            if !matches!(
                ty,
                Some("AWS::CloudFront::Distribution" | "AWS::CloudFront::Function")
            ) {
                continue;
            }
            if !self.r.enabled(id).map_err(|e| err(id, "Condition", e))? {
                continue;
            }
            if ty == Some("AWS::CloudFront::Distribution") {
                dist = true;
            } else {
                let code = self
                    .prop(id, "FunctionCode")
                    .and_then(|c| self.r.resolve(c).ok().flatten())
                    .and_then(|c| scalar_text(&c))
                    .unwrap_or_default();
                header = Some(header_in_code(&code).unwrap_or_else(|| "ws-uri".into()));
            }
        }
        Ok(if dist { header } else { None })
    }
}

/// `request.headers['ws-uri'] = ...` → `ws-uri`.
fn header_in_code(code: &str) -> Option<String> {
    for open in ["headers['", "headers[\""] {
        if let Some(i) = code.find(open) {
            let rest = &code[i + open.len()..];
            let close = rest.find(['\'', '"'])?;
            return Some(rest[..close].to_string());
        }
    }
    None
}

/// Reads an ASL file: JSON as is, YAML converted to JSON.
fn read_definition(path: &Path) -> Result<String, String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    if serde_json::from_str::<serde::de::IgnoredAny>(&text).is_ok() {
        return Ok(text);
    }
    match yaml::parse(&text) {
        Ok(v) if v.is_object() => Ok(v.to_string()),
        Ok(_) => Err("not a JSON or YAML object".into()),
        Err(e) => Err(e.to_string()),
    }
}
