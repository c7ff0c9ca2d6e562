//! Hard limits that keep parsing and rendering bounded whatever the template or input.

/// Maximum nesting of directives, parentheses, literals and interpolated strings in a source.
pub const MAX_NESTING: usize = 100;
/// Maximum `#foreach` iterations (all loops together) in one render, and maximum range length.
pub const MAX_ITERATIONS: usize = 1_000_000;
/// Maximum nesting depth of a list/map value built or parsed while rendering.
pub const MAX_VALUE_DEPTH: u32 = 200;
/// Maximum size of a rendered output (and of any string built while rendering), in bytes.
pub const MAX_OUTPUT: usize = 16 * 1024 * 1024;
