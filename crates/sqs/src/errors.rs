//! SQS errors: the JSON-protocol error names, their query-protocol (legacy)
//! codes, and the query protocol's XML error document.

use wsflow_aws_wire::ServiceError;

use crate::xml::escape;

/// `QueueDoesNotExist` (`AWS.SimpleQueueService.NonExistentQueue` in the query protocol).
pub fn queue_does_not_exist() -> ServiceError {
    ServiceError::client("QueueDoesNotExist", "The specified queue does not exist.")
}

/// `InvalidParameterValue`.
pub fn invalid_parameter(message: impl Into<String>) -> ServiceError {
    ServiceError::client("InvalidParameterValue", message)
}

/// `MissingParameter` with SQS's wording.
pub fn missing_parameter(name: &str) -> ServiceError {
    ServiceError::client(
        "MissingParameter",
        format!("The request must contain the parameter {name}."),
    )
}

/// `ReceiptHandleIsInvalid`.
pub fn invalid_receipt(handle: &str) -> ServiceError {
    ServiceError::client(
        "ReceiptHandleIsInvalid",
        format!("The input receipt handle \"{handle}\" is not a valid receipt handle."),
    )
}

/// The query protocol's code for a JSON-protocol error name.
pub fn query_code(code: &str) -> &str {
    match code {
        "QueueDoesNotExist" => "AWS.SimpleQueueService.NonExistentQueue",
        "QueueNameExists" => "QueueAlreadyExists",
        "MessageNotInflight" => "AWS.SimpleQueueService.MessageNotInflight",
        "PurgeQueueInProgress" => "AWS.SimpleQueueService.PurgeQueueInProgress",
        "QueueDeletedRecently" => "AWS.SimpleQueueService.QueueDeletedRecently",
        "BatchEntryIdsNotDistinct" => "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
        "BatchRequestTooLong" => "AWS.SimpleQueueService.BatchRequestTooLong",
        "EmptyBatchRequest" => "AWS.SimpleQueueService.EmptyBatchRequest",
        "InvalidBatchEntryId" => "AWS.SimpleQueueService.InvalidBatchEntryId",
        "TooManyEntriesInBatchRequest" => "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
        "UnsupportedOperation" => "AWS.SimpleQueueService.UnsupportedOperation",
        other => other,
    }
}

/// The `x-amzn-query-error` header value AWS sends with JSON-protocol SQS
/// errors (`<legacy code>;Sender`), which SDKs in query-compatible mode use
/// as the error code.
pub fn query_error_header(err: &ServiceError) -> String {
    format!(
        "{};{}",
        query_code(&err.code),
        if err.status >= 500 {
            "Receiver"
        } else {
            "Sender"
        }
    )
}

/// The query protocol's XML error document for `err`.
pub fn query_error_body(err: &ServiceError, request_id: &str) -> Vec<u8> {
    format!(
        "<?xml version=\"1.0\"?><ErrorResponse xmlns=\"{ns}\"><Error><Type>{ty}</Type><Code>{code}</Code><Message>{msg}</Message><Detail/></Error><RequestId>{rid}</RequestId></ErrorResponse>",
        ns = crate::xml::XMLNS,
        ty = if err.status >= 500 { "Receiver" } else { "Sender" },
        code = escape(query_code(&err.code)),
        msg = escape(&err.message),
        rid = escape(request_id),
    )
    .into_bytes()
}
