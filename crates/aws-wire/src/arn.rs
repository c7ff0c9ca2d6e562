//! The one place ARNs, queue URLs and local resource ids are built and parsed.

/// The region and account the local stack presents itself as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// AWS partition, `aws`.
    pub partition: String,
    /// Region, e.g. `us-east-1`.
    pub region: String,
    /// Twelve-digit account id.
    pub account_id: String,
}

impl Default for Account {
    fn default() -> Self {
        Self {
            partition: "aws".into(),
            region: "us-east-1".into(),
            account_id: "123456789012".into(),
        }
    }
}

impl Account {
    fn prefix(&self, service: &str) -> String {
        format!(
            "arn:{}:{service}:{}:{}",
            self.partition, self.region, self.account_id
        )
    }

    /// `arn:aws:lambda:<region>:<account>:function:<name>`.
    pub fn lambda_function(&self, name: &str) -> String {
        format!("{}:function:{name}", self.prefix("lambda"))
    }

    /// `arn:aws:states:<region>:<account>:stateMachine:<name>`.
    pub fn state_machine(&self, name: &str) -> String {
        format!("{}:stateMachine:{name}", self.prefix("states"))
    }

    /// A Standard execution: `arn:aws:states:…:execution:<machine>:<name>`.
    pub fn execution(&self, machine: &str, name: &str) -> String {
        format!("{}:execution:{machine}:{name}", self.prefix("states"))
    }

    /// An Express execution: `arn:aws:states:…:express:<machine>:<name>:<id>`.
    pub fn express_execution(&self, machine: &str, name: &str, id: &str) -> String {
        format!("{}:express:{machine}:{name}:{id}", self.prefix("states"))
    }

    /// `arn:aws:dynamodb:<region>:<account>:table/<name>`.
    pub fn dynamodb_table(&self, name: &str) -> String {
        format!("{}:table/{name}", self.prefix("dynamodb"))
    }

    /// `arn:aws:sqs:<region>:<account>:<name>`.
    pub fn sqs_queue(&self, name: &str) -> String {
        format!("{}:{name}", self.prefix("sqs"))
    }

    /// `arn:aws:sns:<region>:<account>:<name>`.
    pub fn sns_topic(&self, name: &str) -> String {
        format!("{}:{name}", self.prefix("sns"))
    }

    /// `arn:aws:execute-api:<region>:<account>:<api-id>`.
    pub fn execute_api(&self, api_id: &str) -> String {
        format!("{}:{api_id}", self.prefix("execute-api"))
    }

    /// A queue URL served by the local endpoint: `<endpoint>/<account>/<name>`.
    pub fn queue_url(&self, endpoint: &str, name: &str) -> String {
        format!(
            "{}/{}/{name}",
            endpoint.trim_end_matches('/'),
            self.account_id
        )
    }
}

/// The parts of an ARN: `arn:partition:service:region:account:resource`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arn<'a> {
    /// Partition (`aws`).
    pub partition: &'a str,
    /// Service (`lambda`, `states`, …).
    pub service: &'a str,
    /// Region (may be empty, as in `arn:aws:states:::lambda:invoke`).
    pub region: &'a str,
    /// Account (may be empty).
    pub account: &'a str,
    /// Everything after the account, e.g. `function:name` or `table/name`.
    pub resource: &'a str,
}

/// Splits an ARN into its parts; `None` if it is not an ARN.
pub fn parse(arn: &str) -> Option<Arn<'_>> {
    let mut it = arn.splitn(6, ':');
    if it.next()? != "arn" {
        return None;
    }
    Some(Arn {
        partition: it.next()?,
        service: it.next()?,
        region: it.next()?,
        account: it.next()?,
        resource: it.next()?,
    })
}

/// The function name of a Lambda function ARN (`…:function:<name>[:qualifier]`),
/// or the input itself when it is a bare name.
pub fn lambda_function_name(arn_or_name: &str) -> &str {
    match parse(arn_or_name) {
        Some(a) if a.service == "lambda" => {
            let rest = a.resource.strip_prefix("function:").unwrap_or(a.resource);
            rest.split(':').next().unwrap_or(rest)
        }
        _ => arn_or_name,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_and_parses_function_arns() {
        let acct = Account::default();
        let arn = acct.lambda_function("Echo");
        assert_eq!(arn, "arn:aws:lambda:us-east-1:123456789012:function:Echo");
        assert_eq!(lambda_function_name(&arn), "Echo");
        assert_eq!(lambda_function_name(&format!("{arn}:$LATEST")), "Echo");
        assert_eq!(lambda_function_name("Echo"), "Echo");
        let p = parse("arn:aws:states:::lambda:invoke").unwrap();
        assert_eq!(
            (p.service, p.region, p.resource),
            ("states", "", "lambda:invoke")
        );
    }

    #[test]
    fn builds_execution_and_queue_ids() {
        let acct = Account::default();
        assert_eq!(
            acct.execution("M", "e1"),
            "arn:aws:states:us-east-1:123456789012:execution:M:e1"
        );
        assert_eq!(
            acct.queue_url("http://127.0.0.1:3001/", "q.fifo"),
            "http://127.0.0.1:3001/123456789012/q.fifo"
        );
        assert!(parse("not-an-arn").is_none());
    }
}
