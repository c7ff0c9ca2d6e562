//! What wsflow's Rust Lambda functions (`lambdas/*`) share.
//!
//! * [`settings`]: the environment variables the functions read (`CONNECTIONS_ENDPOINT`,
//!   `TABLE_NAME`) and the AWS SDK configuration (region, credentials and the standard
//!   `AWS_ENDPOINT_URL*` overrides all come from the usual SDK sources);
//! * [`connections`]: the `@connections` API client (aws-sdk-apigatewaymanagement) built from a
//!   configured or event-derived endpoint, with AWS's `GoneException` turned into an outcome
//!   ([`connections::Delivery::Gone`]) and every other failure classified as transient or not;
//! * [`table`]: the connections table written by the `$connect`/`$disconnect` mapping templates
//!   (ids listed with a paginated `Scan`, records removed with `DeleteItem`);
//! * [`error`]: the errors the functions return, with the `errorType` names Step Functions
//!   `Retry`/`Catch` rules match on;
//! * [`websocket`]: reading a WebSocket route event (connection id, the `data` member) and the
//!   error message sent back for a malformed one;
//! * [`payload`]: how a message's `data` becomes the bytes sent to a client;
//! * [`response`]: Lambda proxy responses for WebSocket routes;
//! * `testing` (feature `testing`): a small HTTP server speaking the `@connections` and DynamoDB
//!   wire protocols, so the functions' tests exercise the real SDK clients over real sockets.
//!
//! The endpoint for `@connections` is never hard-coded: the same binary talks to AWS
//! (`https://{api}.execute-api.{region}.amazonaws.com/{stage}`) and to the local stack
//! (`http://127.0.0.1:{port}/{stage}`).
#![warn(missing_docs)]

pub mod connections;
pub mod error;
pub mod payload;
pub mod response;
pub mod settings;
pub mod table;
#[cfg(feature = "testing")]
pub mod testing;
pub mod websocket;

pub use connections::{Connections, Delivery, PostError, RouteConnections};
pub use error::FunctionError;
pub use settings::Settings;
pub use table::{ConnectionTable, TableError};
