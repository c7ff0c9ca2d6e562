//! wsflow-template (skeleton; being written).
#![warn(missing_docs)]
