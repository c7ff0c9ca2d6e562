//! The stylesheet and script, compiled into the binary.

use axum::{
    extract::Path,
    http::header,
    response::{IntoResponse, Response},
};

use crate::ConsoleError;

const CSS: &str = include_str!("../assets/console.css");
const JS: &str = include_str!("../assets/console.js");

/// `GET /@console/assets/{file}`.
pub async fn serve(Path(file): Path<String>) -> Response {
    let (body, ty) = match file.as_str() {
        "console.css" => (CSS, "text/css; charset=utf-8"),
        "console.js" => (JS, "text/javascript; charset=utf-8"),
        _ => return ConsoleError::NotFound(format!("No asset named {file}")).into_response(),
    };
    (
        [
            (header::CONTENT_TYPE, ty),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}
