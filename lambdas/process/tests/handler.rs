//! The validate-and-enrich task with the inputs the workflows give it.

use chrono::{DateTime, TimeZone, Utc};
use lambda_runtime::{Context, Diagnostic, LambdaEvent};
use process_task::{InvalidData, MAX_DATA_BYTES, process};
use serde_json::{Value, json};

fn at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 3, 4, 5).unwrap() + chrono::Duration::milliseconds(678)
}

#[test]
fn a_string_is_measured_and_digested_as_its_characters() {
    let processed = process(&json!({"data": "hello world"}), at()).expect("valid");

    assert_eq!(
        serde_json::to_value(&processed).unwrap(),
        json!({
            "type": "string",
            "length": 11,
            "bytes": 11,
            "sha256": "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9",
            "processedAt": "2026-11-22T03:04:05.678Z"
        })
    );
}

#[test]
fn length_counts_characters_and_bytes_counts_utf8() {
    let processed = process(&json!({"data": "héllo €"}), at()).unwrap();
    assert_eq!((processed.length, processed.bytes), (7, 10));
}

#[test]
fn other_values_are_measured_as_compact_json_and_extra_members_ignored() {
    let input = json!({"connectionId": "SOqGjdZioAMCEeg=", "data": {"a": 1}});

    let processed = process(&input, at()).unwrap();

    assert_eq!(processed.kind, "object");
    assert_eq!((processed.length, processed.bytes), (7, 7)); // {"a":1}
    // sha256('{"a":1}')
    assert_eq!(
        processed.sha256,
        "015abd7f5cc57a2dd94b7590f04ad8084273905ee33ec5cebeae62276a97f862"
    );
    assert_eq!(
        process(&json!({"data": 123456}), at()).unwrap().kind,
        "number"
    );
    assert_eq!(
        process(&json!({"data": [1, 2]}), at()).unwrap().kind,
        "array"
    );
    assert_eq!(
        process(&json!({"data": false}), at()).unwrap().kind,
        "boolean"
    );
}

#[test]
fn missing_null_blank_and_oversized_data_are_invalid() {
    let oversized = "x".repeat(MAX_DATA_BYTES + 1);
    for input in [
        json!({}),
        json!({"data": null}),
        json!({"data": "   "}),
        json!({"data": oversized}),
        json!("not an object"),
    ] {
        let err = process(&input, at()).expect_err("invalid");
        let diagnostic = Diagnostic::from(err.clone());
        assert_eq!(diagnostic.error_type, "InvalidData", "{input}");
        assert_eq!(diagnostic.error_message, err.0);
    }
    let exactly_max = "x".repeat(MAX_DATA_BYTES);
    assert!(process(&json!({"data": exactly_max}), at()).is_ok());
}

#[tokio::test]
async fn the_handler_stamps_the_current_time() {
    let before = Utc::now();
    let processed = process_task::handle(LambdaEvent::new(
        json!({"data": "123456"}),
        Context::default(),
    ))
    .await
    .expect("valid");
    let after = Utc::now();

    let stamped: DateTime<Utc> = processed.processed_at.parse().expect("RFC 3339");
    // Millisecond precision: compare against the bounds truncated the same way.
    assert!(stamped >= before - chrono::Duration::milliseconds(1) && stamped <= after);
    assert!(processed.processed_at.ends_with('Z'));

    let err: InvalidData =
        process_task::handle(LambdaEvent::new(json!({"data": ""}), Context::default()))
            .await
            .unwrap_err();
    assert_eq!(err.0, "data is an empty string");
    let output: Value = serde_json::to_value(&processed).unwrap();
    assert_eq!(output["processedAt"], processed.processed_at.as_str());
}
