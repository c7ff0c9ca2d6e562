//! wsflow-sfn (skeleton; being written).
#![warn(missing_docs)]
