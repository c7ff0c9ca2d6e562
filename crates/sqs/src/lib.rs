//! wsflow-sqs (skeleton; being written).
#![warn(missing_docs)]
