//! Lambda runtimes besides the Rust binaries: how a function of a given
//! `Runtime` is started as a real process speaking the Runtime API.
//!
//! * `provided.al2023` / `provided.al2` (and `provided`): a cargo-built binary
//!   (chosen by the caller) or a prebuilt `bootstrap` file in `CodeUri`;
//! * `python3.x`: [`python`], the interpreter running wsflow's own bootstrap;
//! * `nodejs18.x` and later: [`node`], the same for Node.js;
//! * anything else (java, dotnet, ruby…): [`RuntimeKind::Unsupported`]; the
//!   caller marks the function unavailable ([`crate::FunctionSpec::unavailable`])
//!   so the stack still starts and its invocations fail with a clear error.
//!
//! # Why our own bootstraps, not the official runtime interface clients
//!
//! npm's `aws-lambda-ric` is a native addon (C++ against a bundled libcurl,
//! built with node-gyp/cmake/autotools at install time): installing it needs
//! a compiler toolchain and minutes per machine. PyPI's `awslambdaric` does
//! publish manylinux wheels (`pip download awslambdaric` fetched
//! `awslambdaric-4.2.2-cp311-…-manylinux2014_x86_64` here), but only per
//! CPython version and architecture, and using it would make the first
//! start-up depend on reaching PyPI. The Runtime API loop itself is small
//! and fully specified, so each runtime here is one short script using only
//! the interpreter's standard library (`runtimes/bootstrap.py`,
//! `runtimes/bootstrap.mjs`, embedded in the binary with `include_str!` and
//! written to the data directory), reproducing the official clients'
//! handler loading, context object, invocation semantics and error
//! payloads. The bootstraps themselves need nothing from a registry.
//!
//! What the Lambda runtimes ship besides the interpreter (the AWS SDK for
//! JavaScript v3, boto3) is installed once into a package cache by
//! [`packages`], when a template has such a function: [`node::prepare`] and
//! [`python::prepare`] run once per stack, then [`node::launch`] and
//! [`python::launch`] once per function.

pub mod node;
pub mod packages;
pub mod python;

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

/// Which family a template's `Runtime` belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuntimeKind {
    /// `provided.*` (or no `Runtime`): an executable `bootstrap`.
    Provided,
    /// `python3.x`.
    Python,
    /// `nodejs18.x` or later.
    Node,
    /// A runtime this stack cannot run (the runtime name).
    Unsupported(String),
}

impl RuntimeKind {
    /// Classifies a template's `Runtime` value.
    pub fn of(runtime: &str) -> RuntimeKind {
        let r = runtime.trim();
        if r.is_empty() || r == "provided" || r.starts_with("provided.") {
            RuntimeKind::Provided
        } else if r.starts_with("python3.") {
            RuntimeKind::Python
        } else if let Some(v) = r.strip_prefix("nodejs") {
            match v.split('.').next().and_then(|m| m.parse::<u32>().ok()) {
                Some(major) if major >= 18 => RuntimeKind::Node,
                _ => RuntimeKind::Unsupported(r.to_owned()),
            }
        } else {
            RuntimeKind::Unsupported(r.to_owned())
        }
    }
}

/// Why a function's process cannot be set up.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// The `Handler` is not `file.function`.
    #[error("Handler {0:?} is not of the form file.function (e.g. app.handler)")]
    BadHandler(String),
    /// The interpreter is not installed.
    #[error(
        "runtime {runtime}: `{program}` was not found on PATH ({cause}); install it to run this function"
    )]
    InterpreterMissing {
        /// The template's runtime.
        runtime: String,
        /// The program looked for.
        program: String,
        /// What failed.
        cause: String,
    },
    /// A runtime this stack cannot run.
    #[error(
        "runtime {0} is not supported by wsflow (it runs provided.al2023/provided.al2, python3.x and nodejs18.x or later)"
    )]
    Unsupported(String),
    /// The code directory does not exist.
    #[error("CodeUri {} is not a directory", .0.display())]
    CodeMissing(PathBuf),
    /// Writing the bootstrap or the inline code failed.
    #[error("writing {}: {cause}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        cause: std::io::Error,
    },
}

/// A handler string `dir/module.function` split at its last dot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handler {
    /// `dir/module` (a path relative to the code directory, no extension).
    pub module: String,
    /// `function` (for Node.js, possibly `a.b` nested exports are not split).
    pub function: String,
}

impl Handler {
    /// Parses `module.function`; the module part may hold `/`.
    pub fn parse(handler: &str) -> Result<Handler, RuntimeError> {
        let bad = || RuntimeError::BadHandler(handler.to_owned());
        let (module, function) = handler.rsplit_once('.').ok_or_else(bad)?;
        if module.is_empty()
            || function.is_empty()
            || module.ends_with('/')
            || function.contains('/')
            || module.starts_with('/')
        {
            return Err(bad());
        }
        Ok(Handler {
            module: module.to_owned(),
            function: function.to_owned(),
        })
    }
}

/// A function's code, as the template gives it.
#[derive(Debug, Clone, Copy)]
pub struct FunctionCode<'a> {
    /// The function's name (for inline code's directory).
    pub function: &'a str,
    /// The template's `Runtime` (e.g. `python3.12`).
    pub runtime: &'a str,
    /// The template's `Handler`.
    pub handler: &'a str,
    /// `CodeUri` (absolute).
    pub code_uri: &'a Path,
    /// `InlineCode`, which replaces `CodeUri`.
    pub inline_code: Option<&'a str>,
}

/// How to start a function's process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Launch {
    /// The interpreter (an absolute path).
    pub executable: PathBuf,
    /// Its arguments (the bootstrap script).
    pub args: Vec<String>,
    /// The code directory (working directory, `LAMBDA_TASK_ROOT`).
    pub working_dir: PathBuf,
    /// Variables the runtime sets (under the template's own).
    pub environment: BTreeMap<String, String>,
}

/// Where a function's code is: `CodeUri`, or its `InlineCode` written to
/// `<cache>/inline/<function>-<name hash>/<code hash>/index.<ext>`.
///
/// Each version of inline code gets its own directory, named by the digest
/// of its text: writing a new version (a `--watch` reload being checked, or
/// one later refused) never touches the directory processes of the current
/// version run in, and the directory holds only that version's handler file
/// (a stale `index.js` would be loaded before a new `index.mjs`). The name
/// hash keeps functions whose names sanitise alike (`a.b`, `a_b`) apart.
/// Old versions' directories stay until the data directory is removed.
pub(crate) fn code_dir(
    function: &str,
    code_uri: &Path,
    inline_code: Option<&str>,
    extension: &str,
    cache_dir: &Path,
) -> Result<PathBuf, RuntimeError> {
    match inline_code {
        Some(code) => {
            // A function name is the template's text: keep it one path
            // component (Lambda names are letters, digits, `-` and `_`), so
            // `../x` or `/abs` cannot place code outside the cache.
            let component: String = function
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '-' {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
            let name_hash = &hex_digest(function.as_bytes())[..8];
            let version = &hex_digest(format!("{extension}\n{code}").as_bytes())[..16];
            let dir = cache_dir
                .join("inline")
                .join(format!("{component}-{name_hash}"))
                .join(version);
            write_file(&dir.join(format!("index.{extension}")), code)?;
            Ok(dir)
        }
        None => {
            let dir = std::path::absolute(code_uri).unwrap_or_else(|_| code_uri.to_path_buf());
            if !dir.is_dir() {
                return Err(RuntimeError::CodeMissing(dir));
            }
            Ok(dir)
        }
    }
}

/// The SHA-256 of `bytes` in lower-case hex.
fn hex_digest(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Writes `contents` to `path` (creating its directory) unless it already
/// holds exactly that. The text goes to a temporary file first, renamed over
/// `path`, so a process starting meanwhile never reads half a file.
pub(crate) fn write_file(path: &Path, contents: &str) -> Result<(), RuntimeError> {
    let write = || -> std::io::Result<()> {
        if std::fs::read(path).is_ok_and(|old| old == contents.as_bytes()) {
            return Ok(());
        }
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(format!(".tmp{}", std::process::id()));
        let tmp = PathBuf::from(tmp);
        std::fs::write(&tmp, contents)?;
        std::fs::rename(&tmp, path)
    };
    write().map_err(|cause| RuntimeError::Write {
        path: path.to_path_buf(),
        cause,
    })
}

/// Runs `program args…` with the host's environment and returns its
/// trimmed stdout (used to find an interpreter's real path and what it has
/// installed).
pub(crate) fn probe(runtime: &str, program: &str, args: &[&str]) -> Result<String, RuntimeError> {
    let missing = |cause: String| RuntimeError::InterpreterMissing {
        runtime: runtime.to_owned(),
        program: program.to_owned(),
        cause,
    };
    let out = std::process::Command::new(program)
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| missing(e.to_string()))?;
    if !out.status.success() {
        return Err(missing(format!(
            "{}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handler_strings() {
        assert_eq!(
            Handler::parse("app.handler").unwrap(),
            Handler {
                module: "app".into(),
                function: "handler".into()
            }
        );
        assert_eq!(
            Handler::parse("src/handlers/chat.on_message").unwrap(),
            Handler {
                module: "src/handlers/chat".into(),
                function: "on_message".into()
            }
        );
        assert_eq!(Handler::parse("pkg.mod.fn").unwrap().module, "pkg.mod");
        for bad in [
            "",
            "app",
            ".handler",
            "app.",
            "dir/.h",
            "/abs/app.h",
            "a.b/c",
        ] {
            assert!(
                matches!(Handler::parse(bad), Err(RuntimeError::BadHandler(_))),
                "{bad:?} accepted"
            );
        }
    }

    #[test]
    fn runtime_kinds() {
        assert_eq!(RuntimeKind::of("provided.al2023"), RuntimeKind::Provided);
        assert_eq!(RuntimeKind::of("provided.al2"), RuntimeKind::Provided);
        assert_eq!(RuntimeKind::of(""), RuntimeKind::Provided);
        assert_eq!(RuntimeKind::of("python3.12"), RuntimeKind::Python);
        assert_eq!(RuntimeKind::of("nodejs20.x"), RuntimeKind::Node);
        assert_eq!(RuntimeKind::of("nodejs18.x"), RuntimeKind::Node);
        assert_eq!(
            RuntimeKind::of("nodejs16.x"),
            RuntimeKind::Unsupported("nodejs16.x".into())
        );
        assert_eq!(
            RuntimeKind::of("java21"),
            RuntimeKind::Unsupported("java21".into())
        );
        assert_eq!(
            RuntimeKind::of("python2.7"),
            RuntimeKind::Unsupported("python2.7".into())
        );
    }

    #[test]
    fn inline_code_is_written_once() {
        let dir = std::env::temp_dir().join(format!("wsflow-inline-{}", std::process::id()));
        let code = code_dir("Fn", Path::new("/nonexistent"), Some("x = 1\n"), "py", &dir).unwrap();
        assert_eq!(
            std::fs::read_to_string(code.join("index.py")).unwrap(),
            "x = 1\n"
        );
        assert!(matches!(
            code_dir("Fn", Path::new("/nonexistent/code"), None, "py", &dir),
            Err(RuntimeError::CodeMissing(_))
        ));
        // A name that is a path stays one component under the cache.
        let odd = code_dir("../../x", Path::new("/nonexistent"), Some("y"), "js", &dir).unwrap();
        assert_eq!(odd.parent().unwrap().parent().unwrap(), dir.join("inline"));
        let component = odd.parent().unwrap().file_name().unwrap().to_string_lossy();
        assert!(component.starts_with("______x-"), "{component}");
        let abs = code_dir("/tmp/x", Path::new("/nonexistent"), Some("y"), "js", &dir).unwrap();
        assert!(abs.starts_with(dir.join("inline")), "{}", abs.display());
        // Names that sanitise alike get their own directories.
        let a = code_dir("a.b", Path::new("/nonexistent"), Some("y"), "js", &dir).unwrap();
        let b = code_dir("a_b", Path::new("/nonexistent"), Some("y"), "js", &dir).unwrap();
        assert_ne!(a, b);
        // A new version gets its own directory and leaves the serving one as it was
        // (a reload being checked, or refused, never changes running code).
        let m = code_dir(
            "Fn",
            Path::new("/nonexistent"),
            Some("export {}"),
            "mjs",
            &dir,
        )
        .unwrap();
        assert_ne!(m, code);
        assert!(m.join("index.mjs").is_file());
        assert!(!m.join("index.py").exists());
        assert_eq!(
            std::fs::read_to_string(code.join("index.py")).unwrap(),
            "x = 1\n"
        );
        // The same text again: the same directory.
        assert_eq!(
            code_dir("Fn", Path::new("/nonexistent"), Some("x = 1\n"), "py", &dir).unwrap(),
            code
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
