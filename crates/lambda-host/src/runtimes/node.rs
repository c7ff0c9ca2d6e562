//! `nodejs18.x` and later: the host's `node` running wsflow's bootstrap
//! (`runtimes/bootstrap.mjs`, see the [module doc](super) for why not
//! `aws-lambda-ric`). CommonJS (`.js`, `.cjs`) and ES modules (`.mjs`, or
//! `.js` under `"type": "module"`) load alike through `import()`.
//!
//! Inline code is written to `index.mjs` when it uses ES module syntax
//! (`import`/`export` statements), else `index.js`, so `Handler:
//! index.handler` finds it either way. The AWS SDK v2 (`aws-sdk`) is not
//! available, as on AWS for nodejs18.x and later; the SDK v3 is not
//! provided either (see the README): a function needing it bundles it.

use std::path::Path;

use super::{Handler, Launch, RuntimeError, code_dir, probe, write_file};

/// The bootstrap script, embedded in the binary.
const BOOTSTRAP: &str = include_str!("../../runtimes/bootstrap.mjs");

/// How to start a Node.js function.
pub fn launch(
    function: &str,
    runtime: &str,
    handler: &str,
    code_uri: &Path,
    inline_code: Option<&str>,
    cache_dir: &Path,
) -> Result<Launch, RuntimeError> {
    Handler::parse(handler)?;
    let extension = if inline_code.is_some_and(is_es_module) {
        "mjs"
    } else {
        "js"
    };
    let code = code_dir(function, code_uri, inline_code, extension, cache_dir)?;
    let executable = probe(runtime, "node", &["-p", "process.execPath"])?.into();
    let script = cache_dir.join("runtimes").join("bootstrap.mjs");
    write_file(&script, BOOTSTRAP)?;
    Ok(Launch {
        executable,
        args: vec![script.display().to_string()],
        working_dir: code,
        environment: [
            ("AWS_EXECUTION_ENV", format!("AWS_Lambda_{runtime}")),
            ("NODE_OPTIONS", "--enable-source-maps".into()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect(),
        warnings: Vec::new(),
    })
}

/// Whether source uses ES module syntax (a line starting with `import ` or
/// `export `).
fn is_es_module(source: &str) -> bool {
    source.lines().map(str::trim_start).any(|l| {
        (l.starts_with("import ") && !l.starts_with("import ("))
            || l.starts_with("export ")
            || l.starts_with("import{")
            || l.starts_with("export{")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn es_module_detection() {
        assert!(is_es_module("export const handler = async () => 1;"));
        assert!(is_es_module("import fs from 'node:fs';\nexport default 1"));
        assert!(!is_es_module("exports.handler = async () => 1;"));
        assert!(!is_es_module(
            "const x = require('x');\nmodule.exports = { x };"
        ));
    }
}
