//! The `$default` route function (skeleton; being written).
