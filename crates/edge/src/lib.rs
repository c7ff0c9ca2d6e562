//! The local stack's edge: one port for everything, as LocalStack's edge port.
//!
//! A request is told apart by what it carries, never by a port:
//!
//! * the method and path of a REST-protocol API added with
//!   [`EdgeBuilder::rest`] (Lambda's `/2015-03-31/functions/…`);
//! * `X-Amz-Target: <Prefix>.<Operation>` → the AWS JSON protocol of the
//!   [`AwsService`] whose `target_prefix` is `<Prefix>` (DynamoDB, Step
//!   Functions, SQS-JSON);
//! * a form-encoded `POST` with `Action=<Operation>` → the AWS query protocol
//!   (SQS from awscli v1 and boto3's older clients);
//! * anything else (WebSocket upgrades, `@connections`) → the gateway router.
//!
//! This crate knows neither WebSocket semantics nor any service's rules: it
//! only routes bytes and renders [`ServiceError`]s in the protocol the caller
//! spoke.
#![warn(missing_docs)]

mod protocol;
mod router;

pub use router::{Edge, EdgeBuilder};

use wsflow_aws_wire::{AwsService, ServiceError};
