//! wsflow-gateway (skeleton; being written).
#![warn(missing_docs)]
