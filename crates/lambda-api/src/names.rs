//! The three spellings of `FunctionName` the Lambda API accepts: a name
//! (`my-function`), a function ARN
//! (`arn:aws:lambda:us-east-1:123456789012:function:my-function`) and a
//! partial ARN (`123456789012:function:my-function`), each optionally with a
//! qualifier (`:$LATEST`, a version or an alias).

use wsflow_aws_wire::{Account, arn};

/// A parsed `FunctionName`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FunctionId<'a> {
    /// The function's name.
    pub(crate) name: &'a str,
    /// The qualifier, when one was given.
    pub(crate) qualifier: Option<&'a str>,
    /// The region of a full ARN.
    region: Option<&'a str>,
    /// The account of a full or partial ARN.
    account: Option<&'a str>,
}

impl<'a> FunctionId<'a> {
    /// Reads `function_name` in any of its three spellings. Anything that is
    /// not an ARN is taken as a name (an unknown name is then not found).
    pub(crate) fn parse(function_name: &'a str) -> Self {
        if let Some(a) = arn::parse(function_name)
            && a.service == "lambda"
            && let Some(rest) = a.resource.strip_prefix("function:")
        {
            let (name, qualifier) = split_qualifier(rest);
            return Self {
                name,
                qualifier,
                region: Some(a.region),
                account: Some(a.account),
            };
        }
        if let Some((account, rest)) = function_name.split_once(":function:") {
            let (name, qualifier) = split_qualifier(rest);
            return Self {
                name,
                qualifier,
                region: None,
                account: Some(account),
            };
        }
        let (name, qualifier) = split_qualifier(function_name);
        Self {
            name,
            qualifier,
            region: None,
            account: None,
        }
    }

    /// Adds a `Qualifier` query parameter (it wins over none in the name).
    pub(crate) fn with_qualifier(mut self, qualifier: Option<&'a str>) -> Self {
        if qualifier.is_some() {
            self.qualifier = qualifier;
        }
        self
    }

    /// Whether the ARN's account and region (when given) are the stack's.
    pub(crate) fn is_local(&self, account: &Account) -> bool {
        self.account.is_none_or(|a| a == account.account_id)
            && self.region.is_none_or(|r| r == account.region)
    }

    /// Whether the qualifier (if any) is `$LATEST`, the only version here.
    pub(crate) fn is_latest(&self) -> bool {
        self.qualifier.is_none_or(|q| q == "$LATEST")
    }

    /// The ARN this id names (with its qualifier), as AWS's "Function not
    /// found" message spells it.
    pub(crate) fn arn(&self, account: &Account) -> String {
        let local = Account {
            partition: account.partition.clone(),
            region: self.region.unwrap_or(&account.region).to_owned(),
            account_id: self.account.unwrap_or(&account.account_id).to_owned(),
        };
        let base = local.lambda_function(self.name);
        match self.qualifier {
            Some(q) => format!("{base}:{q}"),
            None => base,
        }
    }
}

fn split_qualifier(s: &str) -> (&str, Option<&str>) {
    match s.split_once(':') {
        Some((name, q)) => (name, Some(q)),
        None => (s, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_names_arns_and_partial_arns() {
        let acct = Account::default();
        let by_name = FunctionId::parse("Echo");
        assert_eq!((by_name.name, by_name.qualifier), ("Echo", None));
        assert!(by_name.is_local(&acct) && by_name.is_latest());

        let full = FunctionId::parse("arn:aws:lambda:us-east-1:123456789012:function:Echo");
        assert_eq!(full.name, "Echo");
        assert!(full.is_local(&acct));

        let partial = FunctionId::parse("123456789012:function:Echo:$LATEST");
        assert_eq!((partial.name, partial.qualifier), ("Echo", Some("$LATEST")));
        assert!(partial.is_local(&acct) && partial.is_latest());

        let other_region = FunctionId::parse("arn:aws:lambda:eu-west-1:123456789012:function:Echo");
        assert!(!other_region.is_local(&acct));
        assert_eq!(
            other_region.arn(&acct),
            "arn:aws:lambda:eu-west-1:123456789012:function:Echo"
        );

        let versioned = FunctionId::parse("Echo:7");
        assert!(!versioned.is_latest());
        assert_eq!(
            versioned.arn(&acct),
            "arn:aws:lambda:us-east-1:123456789012:function:Echo:7"
        );
        let q = FunctionId::parse("Echo").with_qualifier(Some("live"));
        assert_eq!(q.qualifier, Some("live"));
    }
}
