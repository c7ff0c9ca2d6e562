//! AWS's own error payloads and service errors for everything that can go
//! wrong around a function (as opposed to errors the function reports).
//!
//! Sources: the Lambda Runtime Interface Emulator, which is Lambda's own
//! runtime-API implementation (`aws/aws-lambda-runtime-interface-emulator`:
//! `interop.GetErrorResponseWithFormattedErrorMessage` formats
//! `RequestId: <id> Error: <cause>`, `rapid/handlers.go` words process exits,
//! `invoke/utils.go` words timeouts, `fatalerror` names the types), AWS's
//! "Troubleshoot invocation issues in Lambda" page (`Sandbox.Timedout`), and
//! the Invoke API reference (`RequestTooLargeException`,
//! `ResourceNotFoundException`).

use std::{process::ExitStatus, time::Duration};

use serde_json::{Value, json};
use wsflow_aws_wire::{LambdaInvokeError, ServiceError};

/// Largest invocation payload Lambda accepts synchronously (6 MiB).
pub(crate) const MAX_REQUEST_BYTES: usize = 6 * 1024 * 1024;

/// Largest response a runtime may post (6 MiB + 100 bytes, `MaxPayloadSize`
/// in the emulator).
pub(crate) const MAX_RESPONSE_BYTES: usize = 6 * 1024 * 1024 + 100;

/// `errorType` of a function that ran past its timeout.
pub(crate) const SANDBOX_TIMEDOUT: &str = "Sandbox.Timedout";
/// `errorType` of a runtime process that exited.
pub(crate) const RUNTIME_EXIT_ERROR: &str = "Runtime.ExitError";
/// `errorType` of a process that could not be started.
pub(crate) const RUNTIME_INVALID_ENTRYPOINT: &str = "Runtime.InvalidEntrypoint";
/// `errorType` of a function whose runtime cannot run on this machine.
pub(crate) const RUNTIME_UNAVAILABLE: &str = "Runtime.InvalidRuntime";
/// `errorType` of a response over [`MAX_RESPONSE_BYTES`].
pub(crate) const FUNCTION_RESPONSE_TOO_LARGE: &str = "Function.ResponseSizeTooLarge";

fn function_error(error_type: &str, message: String) -> LambdaInvokeError {
    LambdaInvokeError::Function {
        payload: json!({ "errorType": error_type, "errorMessage": message }),
    }
}

/// `Task timed out after 3.00 seconds`, the cause text of a timeout.
pub(crate) fn timeout_cause(timeout: Duration) -> String {
    format!("Task timed out after {:.2} seconds", timeout.as_secs_f64())
}

/// `{"errorType":"Sandbox.Timedout","errorMessage":"RequestId: … Error: Task timed out after 3.00 seconds"}`.
pub(crate) fn timed_out(request_id: &str, timeout: Duration) -> LambdaInvokeError {
    function_error(
        SANDBOX_TIMEDOUT,
        format!("RequestId: {request_id} Error: {}", timeout_cause(timeout)),
    )
}

/// How Lambda words a runtime's exit: `Runtime exited with error: exit
/// status 101`, `… signal: killed`, or `Runtime exited without providing a
/// reason` for a clean exit.
pub(crate) fn exit_cause(status: Option<ExitStatus>) -> String {
    use std::os::unix::process::ExitStatusExt;
    match status {
        Some(s) if s.success() => "Runtime exited without providing a reason".into(),
        Some(s) => match (s.code(), s.signal()) {
            (Some(code), _) => format!("Runtime exited with error: exit status {code}"),
            (None, Some(sig)) => format!("Runtime exited with error: signal: {}", signal_name(sig)),
            (None, None) => "Runtime exited with error: unknown status".into(),
        },
        None => "Runtime exited without providing a reason".into(),
    }
}

/// Go's `syscall.Signal.String()` words (what Lambda prints).
fn signal_name(sig: i32) -> String {
    match sig {
        1 => "hangup".into(),
        2 => "interrupt".into(),
        3 => "quit".into(),
        4 => "illegal instruction".into(),
        6 => "aborted".into(),
        7 => "bus error".into(),
        8 => "floating point exception".into(),
        9 => "killed".into(),
        11 => "segmentation fault".into(),
        13 => "broken pipe".into(),
        15 => "terminated".into(),
        n => format!("signal {n}"),
    }
}

/// `{"errorType":"Runtime.ExitError","errorMessage":"RequestId: … Error: Runtime exited with error: exit status 101"}`.
pub(crate) fn exited(request_id: &str, status: Option<ExitStatus>) -> LambdaInvokeError {
    function_error(
        RUNTIME_EXIT_ERROR,
        format!("RequestId: {request_id} Error: {}", exit_cause(status)),
    )
}

/// The process could not be started at all.
pub(crate) fn invalid_entrypoint(request_id: &str, cause: &std::io::Error) -> LambdaInvokeError {
    function_error(
        RUNTIME_INVALID_ENTRYPOINT,
        format!("RequestId: {request_id} Error: {cause}"),
    )
}

/// `{"errorType":"Runtime.InvalidRuntime","errorMessage":"…"}`: the
/// function's runtime cannot run locally (`reason` says why).
pub(crate) fn unavailable(reason: &str) -> LambdaInvokeError {
    function_error(RUNTIME_UNAVAILABLE, reason.to_owned())
}

/// The runtime posted a response over [`MAX_RESPONSE_BYTES`].
pub(crate) fn response_too_large() -> LambdaInvokeError {
    function_error(
        FUNCTION_RESPONSE_TOO_LARGE,
        format!(
            "Response payload size exceeded maximum allowed payload size ({MAX_RESPONSE_BYTES} bytes)."
        ),
    )
}

/// The Invoke API's answer to a payload over [`MAX_REQUEST_BYTES`] (HTTP 413).
pub(crate) fn request_too_large() -> LambdaInvokeError {
    ServiceError::with_status(
        413,
        "RequestTooLargeException",
        format!("Request must be smaller than {MAX_REQUEST_BYTES} bytes for the InvokeFunction operation"),
    )
    .into()
}

/// The Invoke API's answer for an unknown function (HTTP 404).
pub(crate) fn function_not_found(arn: &str) -> LambdaInvokeError {
    ServiceError::with_status(
        404,
        "ResourceNotFoundException",
        format!("Function not found: {arn}"),
    )
    .into()
}

/// The host is shutting down (Lambda's generic `ServiceException`, 500).
pub(crate) fn shutting_down() -> LambdaInvokeError {
    ServiceError::with_status(
        500,
        "ServiceException",
        "The local Lambda service is shutting down.",
    )
    .into()
}

/// An error payload the runtime posted to `/error` or `/init/error`, as the
/// Invoke API returns it: verbatim when it is JSON; otherwise wrapped, with
/// the type from `Lambda-Runtime-Function-Error-Type` validated the way
/// Lambda does (`Runtime.*`/`Function.*`, else `Runtime.Unknown`).
pub(crate) fn posted_error(body: &[u8], error_type_header: Option<&str>) -> Value {
    match serde_json::from_slice::<Value>(body) {
        Ok(v) => v,
        Err(_) => json!({
            "errorType": valid_error_type(error_type_header.unwrap_or("")),
            "errorMessage": String::from_utf8_lossy(body),
        }),
    }
}

/// `fatalerror.GetValidRuntimeOrFunctionErrorType`.
fn valid_error_type(t: &str) -> &str {
    let valid = ["Runtime.", "Function."].iter().any(|p| {
        t.strip_prefix(p).is_some_and(|rest| {
            rest.starts_with(|c: char| c.is_ascii_uppercase())
                && rest.len() > 1
                && rest.chars().all(|c| c.is_ascii_alphabetic())
        })
    });
    if valid {
        t
    } else if t.starts_with("Function.") {
        "Function.Unknown"
    } else {
        "Runtime.Unknown"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::ExitStatusExt;

    #[test]
    fn words_exits_like_lambda() {
        assert_eq!(
            exit_cause(Some(ExitStatus::from_raw(101 << 8))),
            "Runtime exited with error: exit status 101"
        );
        assert_eq!(
            exit_cause(Some(ExitStatus::from_raw(9))),
            "Runtime exited with error: signal: killed"
        );
        assert_eq!(
            exit_cause(Some(ExitStatus::from_raw(0))),
            "Runtime exited without providing a reason"
        );
    }

    #[test]
    fn timeout_payload_matches_aws() {
        let e = timed_out("abc", Duration::from_secs(3));
        assert_eq!(e.error_type(), "Sandbox.Timedout");
        let LambdaInvokeError::Function { payload } = e else {
            panic!("not a function error")
        };
        assert_eq!(
            payload["errorMessage"],
            "RequestId: abc Error: Task timed out after 3.00 seconds"
        );
    }

    #[test]
    fn posted_errors_pass_through_or_get_wrapped() {
        let v = posted_error(br#"{"errorType":"X","errorMessage":"m"}"#, None);
        assert_eq!(v["errorType"], "X");
        let v = posted_error(b"boom", Some("Runtime.Custom"));
        assert_eq!(
            v,
            json!({"errorType": "Runtime.Custom", "errorMessage": "boom"})
        );
        let v = posted_error(b"boom", Some("unhandled"));
        assert_eq!(v["errorType"], "Runtime.Unknown");
        let v = posted_error(b"boom", Some("Function.x1"));
        assert_eq!(v["errorType"], "Function.Unknown");
    }
}
