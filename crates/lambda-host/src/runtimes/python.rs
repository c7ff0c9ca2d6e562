//! `python3.x` functions: the host's `python3` running wsflow's bootstrap
//! (`runtimes/bootstrap.py`, see the [module doc](super) for why not
//! `awslambdaric`), with the code directory first on `PYTHONPATH` as
//! `/var/task` is first on `sys.path` on Lambda. Handlers are imported as
//! awslambdaric does (`dir/module.function` and `pkg.module.function` are
//! the modules `dir.module` and `pkg.module`), and results are marshalled
//! as it does (a result JSON cannot represent is `Runtime.MarshalError`).
//!
//! boto3 ships with Lambda's Python runtimes: it is taken from the
//! interpreter's own site-packages when it is there; otherwise [`prepare`]
//! installs it once into the package cache (`pip install --target`, see
//! [`super::packages`]), which then follows the code directory on
//! `PYTHONPATH`. When that fails, a warning says so and the functions
//! still start (an `import boto3` fails with `Runtime.ImportModuleError`).

use std::path::{Path, PathBuf};

use super::{FunctionCode, Handler, Launch, RuntimeError, code_dir, packages, probe, write_file};

/// The bootstrap script, embedded in the binary.
const BOOTSTRAP: &str = include_str!("../../runtimes/bootstrap.py");

/// The machine's `python3` and where boto3 comes from, set up once per
/// stack.
#[derive(Debug, Clone)]
pub struct PythonHost {
    /// The interpreter's absolute path, or why it was not found.
    executable: Result<PathBuf, String>,
    /// The cache directory holding boto3, when the interpreter lacks it.
    boto3: Option<PathBuf>,
    /// What the user should know (a boto3 install that failed), once.
    pub warnings: Vec<String>,
}

/// Finds `python3` and, when it cannot import boto3, installs boto3 into
/// `packages_dir` (the first time; this can take a minute). Never fails:
/// what is missing is in the result.
pub fn prepare(packages_dir: &Path) -> PythonHost {
    let probed = probe(
        "python3",
        "python3",
        &[
            "-c",
            "import sys, importlib.util as u; print(sys.executable); print(u.find_spec('boto3') is not None)",
        ],
    );
    let out = match probed {
        Ok(out) => out,
        Err(RuntimeError::InterpreterMissing { cause, .. }) => {
            return PythonHost {
                executable: Err(cause),
                boto3: None,
                warnings: Vec::new(),
            };
        }
        Err(e) => {
            return PythonHost {
                executable: Err(e.to_string()),
                boto3: None,
                warnings: Vec::new(),
            };
        }
    };
    let mut lines = out.lines();
    let executable = PathBuf::from(lines.next().unwrap_or("python3"));
    let has_boto3 = lines.next() == Some("True");
    let mut host = PythonHost {
        executable: Ok(executable.clone()),
        boto3: None,
        warnings: Vec::new(),
    };
    if !has_boto3 {
        match packages::python_boto3(&executable, packages_dir) {
            Ok(dir) => host.boto3 = Some(dir),
            Err(e) => host.warnings.push(format!(
                "boto3 (which Lambda's Python runtimes ship) is not installed for {} and could not be installed: {e}; Python functions importing boto3 will fail with Runtime.ImportModuleError (a later start retries)",
                executable.display()
            )),
        }
    }
    host
}

/// How to start a Python function (`cache_dir`: where the bootstrap and
/// inline code are written).
pub fn launch(
    code: &FunctionCode<'_>,
    host: &PythonHost,
    cache_dir: &Path,
) -> Result<Launch, RuntimeError> {
    Handler::parse(code.handler)?;
    let dir = code_dir(
        code.function,
        code.code_uri,
        code.inline_code,
        "py",
        cache_dir,
    )?;
    let executable = host
        .executable
        .clone()
        .map_err(|cause| RuntimeError::InterpreterMissing {
            runtime: code.runtime.to_owned(),
            program: "python3".into(),
            cause,
        })?;
    let script = cache_dir.join("runtimes").join("bootstrap.py");
    write_file(&script, BOOTSTRAP)?;
    let python_path = std::iter::once(&dir)
        .chain(host.boto3.iter())
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(":");
    Ok(Launch {
        executable,
        args: vec![script.display().to_string()],
        working_dir: dir,
        environment: [
            ("PYTHONPATH", python_path),
            ("PYTHONUNBUFFERED", "1".into()),
            ("PYTHONDONTWRITEBYTECODE", "1".into()),
            ("AWS_EXECUTION_ENV", format!("AWS_Lambda_{}", code.runtime)),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cached_boto3_follows_the_code_on_pythonpath() {
        let cache = std::env::temp_dir().join(format!("wsflow-python-{}", std::process::id()));
        let host = PythonHost {
            executable: Ok("/usr/bin/python3".into()),
            boto3: Some("/cache/python-boto3".into()),
            warnings: Vec::new(),
        };
        let code = FunctionCode {
            function: "Fn",
            runtime: "python3.12",
            handler: "index.handler",
            code_uri: Path::new("/nonexistent"),
            inline_code: Some("def handler(e, c):\n    return 1\n"),
        };
        let launch = launch(&code, &host, &cache).unwrap();
        assert_eq!(
            launch.environment["PYTHONPATH"],
            format!("{}:/cache/python-boto3", launch.working_dir.display())
        );
        assert_eq!(
            launch.environment["AWS_EXECUTION_ENV"],
            "AWS_Lambda_python3.12"
        );
        std::fs::remove_dir_all(&cache).unwrap();
    }
}
