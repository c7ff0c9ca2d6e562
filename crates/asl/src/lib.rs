//! wsflow-asl (skeleton; being written).
#![warn(missing_docs)]
