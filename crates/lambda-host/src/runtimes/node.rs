//! `nodejs18.x` and later: the host's `node` running wsflow's bootstrap
//! (`runtimes/bootstrap.mjs`, see the [module doc](super) for why not
//! `aws-lambda-ric`). It loads handlers as the Node.js runtime interface
//! client does (CommonJS with `require`, ES modules with `import()`), and
//! settles invocations as it does: a promise when it settles, a callback
//! once the event loop is empty, `null` when neither happens before the
//! loop empties (a non-async handler's return value is ignored), and
//! `Runtime.NodeJsExit` for an `async` handler whose promise never settles;
//! the bootstrap's header lists the details.
//!
//! The AWS SDK for JavaScript v3 ships with Lambda's Node.js runtimes: a
//! subset of it ([`super::packages::NODE_SDK_PACKAGES`]) is installed once
//! into the package cache by [`prepare`] and put on `NODE_PATH` (before the
//! code directory, as `/var/runtime/node_modules` is before `/var/task` on
//! AWS). Node applies `NODE_PATH` to `require()` only; Lambda's runtimes
//! apply it to ES module imports too, and so does the bootstrap, with a
//! resolve hook (`runtimes/node-path-hooks.mjs`, registered with
//! `module.register`, Node 18.19/20.6 or later). The v2 SDK (`aws-sdk`) is
//! not installed, as on AWS for nodejs18.x and later.
//!
//! Inline code is written to `index.mjs` when it uses ES module syntax
//! (`import`/`export` statements), else `index.js`, so `Handler:
//! index.handler` finds it either way.

use std::path::{Path, PathBuf};

use super::{FunctionCode, Handler, Launch, RuntimeError, code_dir, packages, probe, write_file};

/// The bootstrap script, embedded in the binary.
const BOOTSTRAP: &str = include_str!("../../runtimes/bootstrap.mjs");

/// The ES module resolution hooks the bootstrap registers.
const HOOKS: &str = include_str!("../../runtimes/node-path-hooks.mjs");

/// The machine's `node` and the AWS SDK cache, set up once per stack.
#[derive(Debug, Clone)]
pub struct NodeHost {
    /// `node`'s absolute path, or why it was not found.
    executable: Result<PathBuf, String>,
    /// The `node_modules` holding the AWS SDK v3, when installed.
    sdk: Option<PathBuf>,
    /// What the user should know (an SDK install that failed), once.
    pub warnings: Vec<String>,
}

/// Finds `node` and makes sure the AWS SDK v3 is in `packages_dir`
/// (installing it with npm the first time; this can take a minute). Never
/// fails: what is missing is in the result, for each function's launch
/// and for a warning.
pub fn prepare(packages_dir: &Path) -> NodeHost {
    let executable = match probe("nodejs", "node", &["-p", "process.execPath"]) {
        Ok(path) => Ok(PathBuf::from(path)),
        Err(RuntimeError::InterpreterMissing { cause, .. }) => Err(cause),
        Err(e) => Err(e.to_string()),
    };
    let mut host = NodeHost {
        executable,
        sdk: None,
        warnings: Vec::new(),
    };
    if host.executable.is_err() {
        return host;
    }
    match packages::node_sdk(packages_dir) {
        Ok(dir) => host.sdk = Some(dir),
        Err(e) => host.warnings.push(format!(
            "the AWS SDK for JavaScript v3 could not be installed: {e}; Node.js functions importing @aws-sdk/* will fail with Runtime.ImportModuleError (a later start retries)"
        )),
    }
    host
}

/// How to start a Node.js function (`cache_dir`: where the bootstrap and
/// inline code are written).
pub fn launch(
    code: &FunctionCode<'_>,
    host: &NodeHost,
    cache_dir: &Path,
) -> Result<Launch, RuntimeError> {
    Handler::parse(code.handler)?;
    let extension = if code.inline_code.is_some_and(is_es_module) {
        "mjs"
    } else {
        "js"
    };
    let dir = code_dir(
        code.function,
        code.code_uri,
        code.inline_code,
        extension,
        cache_dir,
    )?;
    let executable = host
        .executable
        .clone()
        .map_err(|cause| RuntimeError::InterpreterMissing {
            runtime: code.runtime.to_owned(),
            program: "node".into(),
            cause,
        })?;
    let scripts = cache_dir.join("runtimes");
    let script = scripts.join("bootstrap.mjs");
    write_file(&script, BOOTSTRAP)?;
    write_file(&scripts.join("node-path-hooks.mjs"), HOOKS)?;
    let node_path = host
        .sdk
        .iter()
        .chain(std::iter::once(&dir))
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(":");
    Ok(Launch {
        executable,
        args: vec![script.display().to_string()],
        working_dir: dir,
        environment: [
            ("AWS_EXECUTION_ENV", format!("AWS_Lambda_{}", code.runtime)),
            ("NODE_OPTIONS", "--enable-source-maps".into()),
            ("NODE_PATH", node_path),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect(),
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

    #[test]
    fn the_sdk_comes_before_the_code_on_node_path() {
        let cache = std::env::temp_dir().join(format!("wsflow-node-{}", std::process::id()));
        let host = NodeHost {
            executable: Ok("/usr/bin/node".into()),
            sdk: Some("/cache/node-sdk-v3/node_modules".into()),
            warnings: Vec::new(),
        };
        let code = FunctionCode {
            function: "Fn",
            runtime: "nodejs20.x",
            handler: "index.handler",
            code_uri: Path::new("/nonexistent"),
            inline_code: Some("exports.handler = async () => 1;"),
        };
        let launch = launch(&code, &host, &cache).unwrap();
        assert_eq!(
            launch.environment["NODE_PATH"],
            format!(
                "/cache/node-sdk-v3/node_modules:{}",
                launch.working_dir.display()
            )
        );
        assert!(cache.join("runtimes/node-path-hooks.mjs").is_file());
        let missing = NodeHost {
            executable: Err("not found".into()),
            sdk: None,
            warnings: Vec::new(),
        };
        let err = super::launch(&code, &missing, &cache).unwrap_err();
        assert!(
            err.to_string()
                .contains("runtime nodejs20.x: `node` was not found"),
            "{err}"
        );
        std::fs::remove_dir_all(&cache).unwrap();
    }
}
