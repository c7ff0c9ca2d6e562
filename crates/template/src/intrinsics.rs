//! Intrinsic functions, pseudo parameters, conditions and resource references, evaluated
//! against the LOCAL naming of every resource.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap, HashSet};

use base64::Engine as _;
use serde_json::{Map, Value};

use crate::LocalContext;

/// Why a value could not be resolved.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum RErr {
    /// A `Ref` / `GetAtt` / `${}` names nothing in the template.
    Unresolved(String),
    /// Anything else (unsupported attribute or function, bad arguments).
    Other(String),
}

pub(crate) type RResult<T> = Result<T, RErr>;

fn other<T>(m: impl Into<String>) -> RResult<T> {
    Err(RErr::Other(m.into()))
}

/// Evaluates intrinsics for one template.
pub(crate) struct Resolver<'a> {
    pub local: &'a LocalContext,
    pub params: BTreeMap<String, Value>,
    pub mappings: Option<&'a Map<String, Value>>,
    pub conditions: Option<&'a Map<String, Value>>,
    pub resources: &'a Map<String, Value>,
    cond_cache: RefCell<HashMap<String, bool>>,
    busy: RefCell<HashSet<String>>,
    names: RefCell<HashMap<String, String>>,
}

/// Text form of a scalar (CloudFormation passes numbers and booleans as strings).
pub(crate) fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// `host:port` of the local endpoint.
pub(crate) fn host_port(endpoint: &str) -> String {
    let rest = endpoint
        .split_once("://")
        .map(|(_, r)| r)
        .unwrap_or(endpoint);
    rest.trim_end_matches('/').to_string()
}

impl<'a> Resolver<'a> {
    pub fn new(
        local: &'a LocalContext,
        params: BTreeMap<String, Value>,
        doc: &'a Value,
        resources: &'a Map<String, Value>,
    ) -> Self {
        Resolver {
            local,
            params,
            mappings: doc.get("Mappings").and_then(Value::as_object),
            conditions: doc.get("Conditions").and_then(Value::as_object),
            resources,
            cond_cache: RefCell::new(HashMap::new()),
            busy: RefCell::new(HashSet::new()),
            names: RefCell::new(HashMap::new()),
        }
    }

    pub fn resource_type(&self, id: &str) -> Option<&'a str> {
        self.resources.get(id)?.get("Type")?.as_str()
    }

    pub fn props(&self, id: &str) -> Option<&'a Map<String, Value>> {
        self.resources.get(id)?.get("Properties")?.as_object()
    }

    /// A resource exists and its `Condition` (if any) holds.
    pub fn enabled(&self, id: &str) -> RResult<bool> {
        match self.resources.get(id).and_then(|r| r.get("Condition")) {
            None => Ok(self.resources.contains_key(id)),
            Some(Value::String(c)) => self.condition(c),
            Some(_) => other(format!("resource {id} has a non-string Condition")),
        }
    }

    /// A resource disabled by its Condition does not exist: referring to it is an error.
    fn require_enabled(&self, id: &str) -> RResult<()> {
        if self.enabled(id)? {
            Ok(())
        } else {
            Err(RErr::Unresolved(id.to_string()))
        }
    }

    /// Evaluates a named condition (memoised; cycles are errors).
    pub fn condition(&self, name: &str) -> RResult<bool> {
        if let Some(b) = self.cond_cache.borrow().get(name) {
            return Ok(*b);
        }
        let Some(expr) = self.conditions.and_then(|c| c.get(name)) else {
            return Err(RErr::Unresolved(name.to_string()));
        };
        let key = format!("condition:{name}");
        if !self.busy.borrow_mut().insert(key.clone()) {
            return other(format!("condition {name} refers to itself"));
        }
        let r = self.cond_expr(expr);
        self.busy.borrow_mut().remove(&key);
        let b = r?;
        self.cond_cache.borrow_mut().insert(name.to_string(), b);
        Ok(b)
    }

    fn cond_expr(&self, v: &Value) -> RResult<bool> {
        if let Some((k, arg)) = single(v) {
            match k {
                "Condition" => {
                    let Some(n) = arg.as_str() else {
                        return other("Condition needs a name");
                    };
                    return self.condition(n);
                }
                "Fn::Equals" => {
                    let [a, b] = arg.as_array().map(Vec::as_slice).unwrap_or(&[]) else {
                        return other("Fn::Equals needs two values");
                    };
                    let a = self.resolve(a)?.unwrap_or(Value::Null);
                    let b = self.resolve(b)?.unwrap_or(Value::Null);
                    return Ok(match (scalar_text(&a), scalar_text(&b)) {
                        (Some(x), Some(y)) => x == y,
                        _ => a == b,
                    });
                }
                "Fn::Not" => {
                    let [a] = arg.as_array().map(Vec::as_slice).unwrap_or(&[]) else {
                        return other("Fn::Not needs one condition");
                    };
                    return Ok(!self.cond_expr(a)?);
                }
                "Fn::And" | "Fn::Or" => {
                    let Some(list) = arg.as_array() else {
                        return other(format!("{k} needs a list of conditions"));
                    };
                    let mut acc = k == "Fn::And";
                    for c in list {
                        let b = self.cond_expr(c)?;
                        acc = if k == "Fn::And" { acc && b } else { acc || b };
                    }
                    return Ok(acc);
                }
                _ => {}
            }
        }
        match self.resolve(v)? {
            Some(Value::Bool(b)) => Ok(b),
            Some(Value::String(s)) if s == "true" || s == "false" => Ok(s == "true"),
            _ => other("a condition must be Fn::Equals, Fn::And, Fn::Or, Fn::Not or Condition"),
        }
    }

    /// The local physical name of a resource.
    pub fn physical_name(&self, id: &str) -> RResult<String> {
        if let Some(n) = self.names.borrow().get(id) {
            return Ok(n.clone());
        }
        let ty = self.resource_type(id).unwrap_or("");
        let prop = match ty {
            "AWS::Serverless::Function" | "AWS::Lambda::Function" => "FunctionName",
            "AWS::Serverless::StateMachine" => "Name",
            "AWS::StepFunctions::StateMachine" => "StateMachineName",
            "AWS::DynamoDB::Table" | "AWS::Serverless::SimpleTable" => "TableName",
            "AWS::SQS::Queue" => "QueueName",
            "AWS::SNS::Topic" => "TopicName",
            "AWS::ApiGatewayV2::Api" | "AWS::CloudFront::Function" => "Name",
            "AWS::IAM::Role" => "RoleName",
            _ => "",
        };
        let key = format!("name:{id}");
        if !self.busy.borrow_mut().insert(key.clone()) {
            return other(format!("the name of {id} refers to itself"));
        }
        let explicit = self
            .props(id)
            .and_then(|p| p.get(prop))
            .map(|v| self.resolve_string(v));
        self.busy.borrow_mut().remove(&key);
        let name = match explicit {
            Some(r) => r?,
            None => {
                let base = format!("{}-{id}", self.local.stack_name);
                let fifo = ty == "AWS::SQS::Queue"
                    && self
                        .props(id)
                        .and_then(|p| p.get("FifoQueue"))
                        .and_then(|v| self.resolve(v).ok().flatten())
                        .is_some_and(|v| truthy(&v));
                if fifo { format!("{base}.fifo") } else { base }
            }
        };
        self.names.borrow_mut().insert(id.to_string(), name.clone());
        Ok(name)
    }

    fn is_sam_role(&self, id: &str) -> bool {
        id.strip_suffix("Role").is_some_and(|f| {
            self.resource_type(f) == Some("AWS::Serverless::Function")
                || self.resource_type(f) == Some("AWS::Serverless::StateMachine")
        })
    }

    /// `Ref`: a pseudo parameter, a parameter or a resource. `None` is `AWS::NoValue`.
    pub fn reference(&self, name: &str) -> RResult<Option<Value>> {
        let a = &self.local.account;
        let s = |x: String| Ok(Some(Value::String(x)));
        match name {
            "AWS::Region" => return s(a.region.clone()),
            "AWS::AccountId" => return s(a.account_id.clone()),
            "AWS::StackName" => return s(self.local.stack_name.clone()),
            "AWS::Partition" => return s(a.partition.clone()),
            "AWS::URLSuffix" => return s("amazonaws.com".into()),
            "AWS::NoValue" => return Ok(None),
            "AWS::NotificationARNs" => return Ok(Some(Value::Array(Vec::new()))),
            "AWS::StackId" => {
                return s(format!(
                    "arn:{}:cloudformation:{}:{}:stack/{}/00000000-0000-0000-0000-000000000000",
                    a.partition, a.region, a.account_id, self.local.stack_name
                ));
            }
            _ => {}
        }
        if let Some(v) = self.params.get(name) {
            return Ok(Some(v.clone()));
        }
        if self.is_sam_role(name) && !self.resources.contains_key(name) {
            return s(name.to_string());
        }
        let Some(ty) = self.resource_type(name) else {
            return Err(RErr::Unresolved(name.to_string()));
        };
        self.require_enabled(name)?;
        let v = match ty {
            "AWS::Serverless::Function" | "AWS::Lambda::Function" => self.physical_name(name)?,
            "AWS::Serverless::StateMachine" | "AWS::StepFunctions::StateMachine" => {
                a.state_machine(&self.physical_name(name)?)
            }
            "AWS::DynamoDB::Table" | "AWS::Serverless::SimpleTable" => self.physical_name(name)?,
            "AWS::SQS::Queue" => a.queue_url(&self.local.endpoint, &self.physical_name(name)?),
            "AWS::SNS::Topic" => a.sns_topic(&self.physical_name(name)?),
            "AWS::ApiGatewayV2::Api" => self.local.api_id.clone(),
            "AWS::ApiGatewayV2::Stage" => match self.props(name).and_then(|p| p.get("StageName")) {
                Some(v) => self.resolve_string(v)?,
                None => return other(format!("stage {name} has no StageName")),
            },
            "AWS::IAM::Role" => self.physical_name_or_id(name),
            "AWS::IAM::ManagedPolicy" => format!("arn:aws:iam::{}:policy/{name}", a.account_id),
            "AWS::CloudFront::Function" => self.cloudfront_function_arn(name)?,
            _ => name.to_string(),
        };
        s(v)
    }

    fn physical_name_or_id(&self, id: &str) -> String {
        match self.props(id).and_then(|p| p.get("RoleName")) {
            Some(v) => self.resolve_string(v).unwrap_or_else(|_| id.to_string()),
            None => id.to_string(),
        }
    }

    fn cloudfront_function_arn(&self, id: &str) -> RResult<String> {
        Ok(format!(
            "arn:aws:cloudfront::{}:function/{}",
            self.local.account.account_id,
            self.physical_name(id)?
        ))
    }

    /// `Fn::GetAtt`.
    pub fn get_att(&self, id: &str, attr: &str) -> RResult<Value> {
        let a = &self.local.account;
        if self.is_sam_role(id) && !self.resources.contains_key(id) && attr == "Arn" {
            return Ok(Value::String(format!(
                "arn:aws:iam::{}:role/{id}",
                a.account_id
            )));
        }
        let Some(ty) = self.resource_type(id) else {
            return Err(RErr::Unresolved(id.to_string()));
        };
        self.require_enabled(id)?;
        let v = match (ty, attr) {
            ("AWS::Serverless::Function" | "AWS::Lambda::Function", "Arn") => {
                a.lambda_function(&self.physical_name(id)?)
            }
            ("AWS::Serverless::StateMachine" | "AWS::StepFunctions::StateMachine", "Arn") => {
                a.state_machine(&self.physical_name(id)?)
            }
            ("AWS::Serverless::StateMachine" | "AWS::StepFunctions::StateMachine", "Name") => {
                self.physical_name(id)?
            }
            ("AWS::DynamoDB::Table", "Arn") => a.dynamodb_table(&self.physical_name(id)?),
            ("AWS::DynamoDB::Table", "StreamArn") => format!(
                "{}/stream/1970-01-01T00:00:00.000",
                a.dynamodb_table(&self.physical_name(id)?)
            ),
            ("AWS::SQS::Queue", "Arn") => a.sqs_queue(&self.physical_name(id)?),
            ("AWS::SQS::Queue", "QueueName") => self.physical_name(id)?,
            ("AWS::SNS::Topic", "TopicArn") => a.sns_topic(&self.physical_name(id)?),
            ("AWS::SNS::Topic", "TopicName") => self.physical_name(id)?,
            ("AWS::SQS::Queue", "QueueUrl") => {
                a.queue_url(&self.local.endpoint, &self.physical_name(id)?)
            }
            ("AWS::ApiGatewayV2::Api", "ApiEndpoint") => {
                format!("ws://{}", host_port(&self.local.endpoint))
            }
            ("AWS::ApiGatewayV2::Api", "ApiId") => self.local.api_id.clone(),
            ("AWS::IAM::Role", "Arn") => {
                format!(
                    "arn:aws:iam::{}:role/{}",
                    a.account_id,
                    self.physical_name_or_id(id)
                )
            }
            ("AWS::IAM::Role", "RoleId") => format!("AROA{id}"),
            ("AWS::CloudFront::Distribution", "DomainName") => host_port(&self.local.endpoint),
            ("AWS::CloudFront::Function", "FunctionARN") => self.cloudfront_function_arn(id)?,
            _ => {
                return other(format!(
                    "attribute {attr} of {id} ({ty}) is not available locally"
                ));
            }
        };
        Ok(Value::String(v))
    }

    /// Resolves to a string (numbers and booleans become text).
    pub fn resolve_string(&self, v: &Value) -> RResult<String> {
        match self.resolve(v)? {
            Some(x) => match scalar_text(&x) {
                Some(s) => Ok(s),
                None => other(format!("expected a string, got {x}")),
            },
            None => other("expected a string, got AWS::NoValue"),
        }
    }

    /// Resolves every intrinsic inside `v`. `None` is `AWS::NoValue` (dropped by the caller).
    pub fn resolve(&self, v: &Value) -> RResult<Option<Value>> {
        if let Some((k, arg)) = single(v)
            && (k == "Ref" || k.starts_with("Fn::"))
        {
            return self.intrinsic(k, arg);
        }
        Ok(Some(match v {
            Value::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for i in items {
                    if let Some(x) = self.resolve(i)? {
                        out.push(x);
                    }
                }
                Value::Array(out)
            }
            Value::Object(m) => {
                let mut out = Map::new();
                for (k, x) in m {
                    if let Some(x) = self.resolve(x)? {
                        out.insert(k.clone(), x);
                    }
                }
                Value::Object(out)
            }
            other => other.clone(),
        }))
    }

    fn list_arg<'v>(&self, f: &str, arg: &'v Value, n: usize) -> RResult<&'v [Value]> {
        match arg.as_array() {
            Some(a) if a.len() == n => Ok(a),
            _ => other(format!("{f} needs a list of {n} values")),
        }
    }

    fn resolved_list(&self, v: &Value) -> RResult<Vec<Value>> {
        match self.resolve(v)? {
            Some(Value::Array(a)) => Ok(a),
            Some(x) => other(format!("expected a list, got {x}")),
            None => Ok(Vec::new()),
        }
    }

    fn intrinsic(&self, f: &str, arg: &Value) -> RResult<Option<Value>> {
        let string = |s: String| Ok(Some(Value::String(s)));
        match f {
            "Ref" => match arg.as_str() {
                Some(n) => self.reference(n),
                None => other("Ref needs a name"),
            },
            "Fn::GetAtt" => {
                let (id, attr) = match arg {
                    Value::Array(a) if a.len() == 2 => (
                        a[0].as_str().map(str::to_string),
                        self.resolve_string(&a[1]).ok(),
                    ),
                    Value::String(s) => match s.split_once('.') {
                        Some((x, y)) => (Some(x.to_string()), Some(y.to_string())),
                        None => (None, None),
                    },
                    _ => (None, None),
                };
                match (id, attr) {
                    (Some(id), Some(attr)) => self.get_att(&id, &attr).map(Some),
                    _ => other("Fn::GetAtt needs [LogicalId, Attribute]"),
                }
            }
            "Fn::Sub" => {
                let (text, vars) = match arg {
                    Value::String(s) => (s.as_str(), None),
                    Value::Array(a) if a.len() == 2 => match (&a[0], a[1].as_object()) {
                        (Value::String(s), Some(m)) => (s.as_str(), Some(m)),
                        _ => return other("Fn::Sub needs [String, {Var: Value}]"),
                    },
                    _ => return other("Fn::Sub needs a string"),
                };
                string(self.sub(text, vars)?)
            }
            "Fn::Join" => {
                let [d, list] = self.list_arg(f, arg, 2)? else {
                    return other("Fn::Join needs [Delimiter, List]");
                };
                let d = self.resolve_string(d)?;
                let mut parts = Vec::new();
                for x in self.resolved_list(list)? {
                    match scalar_text(&x) {
                        Some(s) => parts.push(s),
                        None => return other(format!("Fn::Join cannot join {x}")),
                    }
                }
                string(parts.join(&d))
            }
            "Fn::Select" => {
                let [i, list] = self.list_arg(f, arg, 2)? else {
                    return other("Fn::Select needs [Index, List]");
                };
                let i: usize = self
                    .resolve_string(i)?
                    .trim()
                    .parse()
                    .map_err(|_| RErr::Other("Fn::Select index must be a number".into()))?;
                match self.resolved_list(list)?.into_iter().nth(i) {
                    Some(v) => Ok(Some(v)),
                    None => other("Fn::Select index out of range"),
                }
            }
            "Fn::Split" => {
                let [d, s] = self.list_arg(f, arg, 2)? else {
                    return other("Fn::Split needs [Delimiter, String]");
                };
                let d = self.resolve_string(d)?;
                if d.is_empty() {
                    return other("Fn::Split needs a non-empty delimiter");
                }
                let s = self.resolve_string(s)?;
                Ok(Some(Value::Array(
                    s.split(d.as_str())
                        .map(|p| Value::String(p.into()))
                        .collect(),
                )))
            }
            "Fn::If" => {
                let [c, a, b] = self.list_arg(f, arg, 3)? else {
                    return other("Fn::If needs [Condition, Then, Else]");
                };
                let Some(c) = c.as_str() else {
                    return other("Fn::If needs a condition name");
                };
                self.resolve(if self.condition(c)? { a } else { b })
            }
            "Fn::Equals" | "Fn::And" | "Fn::Or" | "Fn::Not" => {
                let mut m = Map::new();
                m.insert(f.to_string(), arg.clone());
                Ok(Some(Value::Bool(self.cond_expr(&Value::Object(m))?)))
            }
            "Fn::FindInMap" => {
                let a = match arg.as_array() {
                    Some(a) if a.len() == 3 || a.len() == 4 => a,
                    _ => return other("Fn::FindInMap needs [Map, TopKey, SecondKey]"),
                };
                let map = self.resolve_string(&a[0])?;
                let top = self.resolve_string(&a[1])?;
                let second = self.resolve_string(&a[2])?;
                let found = self
                    .mappings
                    .and_then(|m| m.get(&map))
                    .and_then(|m| m.get(&top))
                    .and_then(|m| m.get(&second));
                match found {
                    Some(v) => self.resolve(v),
                    None => match a.get(3).and_then(|d| d.get("DefaultValue")) {
                        Some(d) => self.resolve(d),
                        None => other(format!(
                            "Fn::FindInMap: no value for [{map}, {top}, {second}] in Mappings"
                        )),
                    },
                }
            }
            "Fn::Base64" => {
                let s = self.resolve_string(arg)?;
                string(base64::engine::general_purpose::STANDARD.encode(s))
            }
            "Fn::GetAZs" => {
                let r = &self.local.account.region;
                Ok(Some(Value::Array(
                    ["a", "b", "c"]
                        .iter()
                        .map(|z| Value::String(format!("{r}{z}")))
                        .collect(),
                )))
            }
            "Fn::Length" => Ok(Some(Value::from(self.resolved_list(arg)?.len()))),
            "Fn::ToJsonString" => match self.resolve(arg)? {
                Some(v) => string(v.to_string()),
                None => other("Fn::ToJsonString of AWS::NoValue"),
            },
            "Fn::ImportValue" => {
                other("Fn::ImportValue (another stack's export) is not available locally")
            }
            _ => other(format!("{f} is not supported locally")),
        }
    }

    /// `Fn::Sub`: `${Name}`, `${Resource.Attr}`, `${!Literal}`.
    pub fn sub(&self, text: &str, vars: Option<&Map<String, Value>>) -> RResult<String> {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(i) = rest.find("${") {
            out.push_str(&rest[..i]);
            let after = &rest[i + 2..];
            let Some(end) = after.find('}') else {
                out.push_str(&rest[i..]);
                return Ok(out);
            };
            let name = &after[..end];
            if let Some(lit) = name.strip_prefix('!') {
                out.push_str("${");
                out.push_str(lit);
                out.push('}');
            } else {
                let name = name.trim();
                let v = if let Some(v) = vars.and_then(|m| m.get(name)) {
                    self.resolve(v)?
                } else if let Some((id, attr)) = name.split_once('.')
                    && !name.starts_with("AWS::")
                {
                    Some(self.get_att(id, attr)?)
                } else {
                    self.reference(name)?
                };
                match v.as_ref().and_then(scalar_text) {
                    Some(s) => out.push_str(&s),
                    None => return other(format!("Fn::Sub variable {name} is not a string")),
                }
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }
}

/// `{"Key": arg}` with exactly one key.
pub(crate) fn single(v: &Value) -> Option<(&str, &Value)> {
    let m = v.as_object()?;
    if m.len() != 1 {
        return None;
    }
    m.iter().next().map(|(k, v)| (k.as_str(), v))
}

/// CloudFormation booleans: `true` or `"true"` (any case).
pub(crate) fn truthy(v: &Value) -> bool {
    match v {
        Value::Bool(b) => *b,
        Value::String(s) => s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

/// Names every `Ref`, `Fn::GetAtt` and `${}` in `v` refers to (for up-front validation).
pub(crate) fn referenced_names(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Array(a) => a.iter().for_each(|x| referenced_names(x, out)),
        Value::Object(m) => {
            if let Some((k, arg)) = single(v) {
                match k {
                    "Ref" => {
                        if let Some(n) = arg.as_str() {
                            out.push(n.to_string());
                        }
                        return;
                    }
                    "Fn::GetAtt" => {
                        match arg {
                            Value::Array(a) => {
                                if let Some(n) = a.first().and_then(Value::as_str) {
                                    out.push(n.to_string());
                                }
                            }
                            Value::String(s) => {
                                out.push(s.split('.').next().unwrap_or(s).to_string())
                            }
                            _ => {}
                        }
                        return;
                    }
                    "Fn::Sub" => {
                        let (text, vars) = match arg {
                            Value::String(s) => (Some(s.as_str()), None),
                            Value::Array(a) => (a.first().and_then(Value::as_str), a.get(1)),
                            _ => (None, None),
                        };
                        if let Some(vars) = vars {
                            referenced_names(vars, out);
                        }
                        let declared = vars.and_then(Value::as_object);
                        let mut rest = text.unwrap_or("");
                        while let Some(i) = rest.find("${") {
                            let after = &rest[i + 2..];
                            let Some(end) = after.find('}') else { break };
                            let name = after[..end].trim();
                            if !name.starts_with('!')
                                && !declared.is_some_and(|d| d.contains_key(name))
                            {
                                let base = if name.starts_with("AWS::") {
                                    name
                                } else {
                                    name.split('.').next().unwrap_or(name)
                                };
                                out.push(base.to_string());
                            }
                            rest = &after[end + 1..];
                        }
                        return;
                    }
                    _ => {}
                }
            }
            m.values().for_each(|x| referenced_names(x, out));
        }
        _ => {}
    }
}
