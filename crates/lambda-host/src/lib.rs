//! wsflow-lambda-host (skeleton; being written).
#![warn(missing_docs)]
