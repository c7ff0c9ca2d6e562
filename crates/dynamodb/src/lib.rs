//! wsflow-dynamodb (skeleton; being written).
#![warn(missing_docs)]
