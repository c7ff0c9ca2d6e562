//! The trait local AWS services implement, and its request/response types.

use std::{future::Future, pin::Pin};

use crate::ServiceError;

/// A boxed, sendable future (what [`AwsService::call`] returns).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// How a request body is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// `application/x-amz-json-1.0` / `1.1` with `X-Amz-Target`.
    Json,
    /// The AWS query protocol: a form-encoded body with `Action=…`
    /// (SQS from awscli v1, and API Gateway's SQS integrations).
    Query,
}

/// One call of an AWS API operation.
#[derive(Debug, Clone)]
pub struct ServiceRequest {
    /// Operation name, e.g. `PutItem`, `StartSyncExecution`, `SendMessage`.
    pub operation: String,
    /// Encoding of `body`.
    pub protocol: Protocol,
    /// Raw request body.
    pub body: Vec<u8>,
}

/// A successful response of an AWS API operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceResponse {
    /// HTTP status (200 almost always).
    pub status: u16,
    /// `Content-Type` of `body`.
    pub content_type: &'static str,
    /// Response body, already encoded for the request's protocol.
    pub body: Vec<u8>,
}

impl ServiceResponse {
    /// A 200 response with a JSON body.
    pub fn json(value: &serde_json::Value) -> Self {
        Self {
            status: 200,
            content_type: "application/x-amz-json-1.0",
            body: serde_json::to_vec(value).unwrap_or_else(|_| b"{}".to_vec()),
        }
    }

    /// A 200 response with an XML body (query protocol).
    pub fn xml(body: String) -> Self {
        Self {
            status: 200,
            content_type: "text/xml",
            body: body.into_bytes(),
        }
    }
}

/// SQS's query-protocol XML namespace.
pub const SQS_QUERY_NAMESPACE: &str = "http://queue.amazonaws.com/doc/2012-11-05/";

/// A local AWS service reachable by operation name.
///
/// Implemented by the DynamoDB, Step Functions and SQS crates. The edge
/// router picks the service from `X-Amz-Target` (or the query protocol's
/// form), and API Gateway AWS-service integrations call the same trait with
/// the body their mapping template rendered: one code path for both.
pub trait AwsService: Send + Sync {
    /// The `X-Amz-Target` prefix before the dot: `DynamoDB_20120810`,
    /// `AWSStepFunctions`, `AmazonSQS`.
    fn target_prefix(&self) -> &'static str;

    /// The service name in API Gateway integration URIs
    /// (`arn:aws:apigateway:<region>:<name>:action/<Op>`): `dynamodb`,
    /// `states`, `sqs`.
    fn integration_name(&self) -> &'static str;

    /// The Smithy namespace used in JSON error `__type`s.
    fn error_namespace(&self) -> Option<&'static str> {
        None
    }

    /// Whether this service also speaks the AWS query protocol
    /// (form-encoded `Action=…` bodies, XML responses): SQS and SNS here.
    fn speaks_query_protocol(&self) -> bool {
        false
    }

    /// The XML namespace of this service's query-protocol documents, errors
    /// included (`http://queue.amazonaws.com/doc/2012-11-05/` for SQS, which
    /// is the default).
    fn query_namespace(&self) -> &'static str {
        SQS_QUERY_NAMESPACE
    }

    /// The query-protocol actions this service answers, when several
    /// services speak that protocol (SNS beside SQS): the edge picks the
    /// service by the SigV4 credential scope's service name
    /// ([`Self::integration_name`]), and, without one, by this list; empty
    /// means any action.
    fn query_actions(&self) -> &'static [&'static str] {
        &[]
    }

    /// Runs one operation.
    fn call(&self, request: ServiceRequest)
    -> BoxFuture<'_, Result<ServiceResponse, ServiceError>>;
}
