//! `ListFunctions`, `GetFunction` and `GetFunctionConfiguration`.

use axum::{
    Json,
    extract::{Path, Query, State},
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use serde_json::json;

use crate::{LambdaApi, errors::ApiError, invoke::with_request_id};

/// The largest page `ListFunctions` returns (AWS's `MaxItems` limit).
const MAX_ITEMS: usize = 50;

/// `ListFunctions`' query string.
#[derive(Debug, Deserialize)]
pub(crate) struct ListQuery {
    #[serde(rename = "MaxItems")]
    max_items: Option<String>,
    #[serde(rename = "Marker")]
    marker: Option<String>,
}

/// The query string of the operations on one function.
#[derive(Debug, Deserialize)]
pub(crate) struct QualifierQuery {
    #[serde(rename = "Qualifier")]
    pub(crate) qualifier: Option<String>,
}

/// `GET /2015-03-31/functions/`: the functions sorted by name, a page of
/// `MaxItems` (at most 50) after `Marker` (the `NextMarker` of the page
/// before: the last name it listed).
pub(crate) async fn list_functions(
    State(api): State<LambdaApi>,
    Query(q): Query<ListQuery>,
) -> Result<Response, ApiError> {
    let max_items = match q.max_items.as_deref() {
        None => MAX_ITEMS,
        Some(s) => match s.parse::<usize>() {
            Ok(n) if n >= 1 => n.min(MAX_ITEMS),
            _ => {
                return Err(ApiError::invalid_parameter(format!(
                    "1 validation error detected: Value '{s}' at 'maxItems' failed to satisfy constraint: Member must have value greater than or equal to 1"
                )));
            }
        },
    };
    let functions = api.functions();
    let start = match q.marker.as_deref() {
        None | Some("") => 0,
        Some(m) => functions.partition_point(|f| f.function_name.as_str() <= m),
    };
    let page: Vec<_> = functions.iter().skip(start).take(max_items).collect();
    let mut body = json!({ "Functions": page });
    if start + page.len() < functions.len()
        && let Some(last) = page.last()
    {
        body["NextMarker"] = json!(last.function_name);
    }
    Ok(with_request_id(Json(body).into_response()))
}

/// `GET /2015-03-31/functions/{FunctionName}`: the configuration and `Code`, whose
/// `Location` is a `file://` URL of the function's code on this machine (on AWS, a presigned
/// S3 URL of the deployment package).
pub(crate) async fn get_function(
    State(api): State<LambdaApi>,
    Path(name): Path<String>,
    Query(q): Query<QualifierQuery>,
) -> Result<Response, ApiError> {
    let config = api.function(&name, q.qualifier.as_deref())?;
    let mut body = json!({ "Configuration": config });
    if let Some(location) = &config.code_location {
        body["Code"] = json!({"RepositoryType": "S3", "Location": location});
    }
    Ok(with_request_id(Json(body).into_response()))
}

/// `GET /2015-03-31/functions/{FunctionName}/configuration`.
pub(crate) async fn get_configuration(
    State(api): State<LambdaApi>,
    Path(name): Path<String>,
    Query(q): Query<QualifierQuery>,
) -> Result<Response, ApiError> {
    let config = api.function(&name, q.qualifier.as_deref())?;
    Ok(with_request_id(Json(config).into_response()))
}
