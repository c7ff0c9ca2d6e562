//! wsflow-vtl (skeleton; being written).
#![warn(missing_docs)]
