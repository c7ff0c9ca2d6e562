//! Shared AWS wire-protocol pieces for the local services.
//!
//! Every local service (DynamoDB, Step Functions, SQS) speaks an AWS protocol
//! on the stack's single edge port. This crate owns what they share, so each
//! concept has exactly one owner:
//!
//! * [`ServiceError`]: an AWS error (`__type` + `message` + HTTP status) and
//!   its JSON-protocol body;
//! * [`AwsService`]: the trait a service implements so the edge router (and
//!   the gateway's AWS service integrations, and the Step Functions service
//!   integrations) can call it by operation name;
//! * [`arn`]: the one place ARNs, queue URLs and ids are built and parsed;
//! * [`LambdaInvoker`]: how anything invokes a function hosted by the stack;
//! * [`Account`]: the region and account id the local stack pretends to be;
//! * [`observe`]: the broadcast services announce their work on (the console).
#![warn(missing_docs)]

pub mod arn;
mod error;
mod lambda;
pub mod observe;
mod service;
mod xml;

pub use arn::Account;
pub use error::ServiceError;
pub use lambda::{LambdaInvokeError, LambdaInvoker};
pub use service::{
    AwsService, BoxFuture, Protocol, SQS_QUERY_NAMESPACE, ServiceRequest, ServiceResponse,
};
pub use xml::{query_error_document, xml_escape};
