//! `python3.x` functions: the host's `python3` running wsflow's bootstrap
//! (`runtimes/bootstrap.py`, see the [module doc](super) for why not
//! `awslambdaric`), with the code directory on `PYTHONPATH` as
//! `/var/task` is on Lambda.
//!
//! boto3 ships with Lambda's Python runtimes: it is taken from the
//! interpreter's own site-packages. When it is missing there, the function
//! still starts and a warning says how to install it (`pip install boto3`).

use std::path::Path;

use super::{Handler, Launch, RuntimeError, code_dir, probe, write_file};

/// The bootstrap script, embedded in the binary.
const BOOTSTRAP: &str = include_str!("../../runtimes/bootstrap.py");

/// How to start a Python function: `runtime` is the template's `Runtime`
/// (e.g. `python3.12`), `cache_dir` a directory under the data directory.
pub fn launch(
    function: &str,
    runtime: &str,
    handler: &str,
    code_uri: &Path,
    inline_code: Option<&str>,
    cache_dir: &Path,
) -> Result<Launch, RuntimeError> {
    Handler::parse(handler)?;
    let code = code_dir(function, code_uri, inline_code, "py", cache_dir)?;
    let probe_out = probe(
        runtime,
        "python3",
        &[
            "-c",
            "import sys, importlib.util as u; print(sys.executable); print(u.find_spec('boto3') is not None)",
        ],
    )?;
    let mut lines = probe_out.lines();
    let executable = lines.next().unwrap_or("python3").into();
    let has_boto3 = lines.next() == Some("True");
    let script = cache_dir.join("runtimes").join("bootstrap.py");
    write_file(&script, BOOTSTRAP)?;
    let mut launch = Launch {
        executable,
        args: vec![script.display().to_string()],
        working_dir: code.clone(),
        environment: [
            ("PYTHONPATH", code.display().to_string()),
            ("PYTHONUNBUFFERED", "1".into()),
            ("PYTHONDONTWRITEBYTECODE", "1".into()),
            ("AWS_EXECUTION_ENV", format!("AWS_Lambda_{runtime}")),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect(),
        warnings: Vec::new(),
    };
    if !has_boto3 {
        launch.warnings.push(format!(
            "function {function} ({runtime}): boto3 is not installed for {} (Lambda's Python runtime ships it); run `{} -m pip install boto3`",
            launch.executable.display(),
            launch.executable.display()
        ));
    }
    Ok(launch)
}
