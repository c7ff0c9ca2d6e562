//! What a console request can fail with: every failure is a 4xx/5xx HTML
//! page that says what was wrong, never a panic.

use axum::{
    http::StatusCode,
    response::{Html, IntoResponse, Response},
};
use wsflow_aws_wire::ServiceError;

use crate::view;

/// A failed console request.
#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    /// Nothing by that name or ARN.
    #[error("{0}")]
    NotFound(String),
    /// A malformed path or query parameter.
    #[error("{0}")]
    BadRequest(String),
    /// A request body above the limit.
    #[error("the request body is larger than {0} bytes")]
    TooLarge(usize),
    /// A POST without a JSON content type (what cross-site forms send).
    #[error("console actions take an application/json body")]
    UnsupportedMediaType,
    /// A Host header that is not a loopback name (DNS rebinding).
    #[error("the console answers only to 127.0.0.1, localhost and [::1]")]
    ForbiddenHost,
    /// A local service refused the call.
    #[error("{}: {}", .0.code, .0.message)]
    Service(ServiceError),
}

impl From<ServiceError> for ConsoleError {
    fn from(e: ServiceError) -> Self {
        match e.code.as_str() {
            "ExecutionDoesNotExist"
            | "StateMachineDoesNotExist"
            | "ResourceNotFoundException"
            | "GoneException" => ConsoleError::NotFound(if e.message.is_empty() {
                e.code.clone()
            } else {
                e.message.clone()
            }),
            "InvalidArn" | "InvalidToken" | "ValidationException" | "InvalidName" => {
                ConsoleError::BadRequest(format!("{}: {}", e.code, e.message))
            }
            _ => ConsoleError::Service(e),
        }
    }
}

impl ConsoleError {
    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            ConsoleError::NotFound(_) => StatusCode::NOT_FOUND,
            ConsoleError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ConsoleError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ConsoleError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ConsoleError::ForbiddenHost => StatusCode::FORBIDDEN,
            ConsoleError::Service(e) => {
                StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
            }
        }
    }
}

impl IntoResponse for ConsoleError {
    fn into_response(self) -> Response {
        let status = self.status();
        let title = status.canonical_reason().unwrap_or("Error");
        let page = view::page(
            title,
            "",
            maud::html! {
                h1 { (status.as_u16()) " " (title) }
                p class="error-message" { (self.to_string()) }
                p { a href=(view::url("/")) { "Back to the overview" } }
            },
        );
        (status, Html(page.into_string())).into_response()
    }
}
