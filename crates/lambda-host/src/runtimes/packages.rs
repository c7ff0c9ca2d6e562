//! What Lambda's managed runtimes ship besides the interpreter, installed
//! once from the package registries into a cache directory (by default
//! `<data-dir>/runtimes`, see `wsflow up --runtime-packages-dir`):
//!
//! * **`nodejs18.x` and later ship the AWS SDK for JavaScript v3** (all of
//!   `@aws-sdk/*` in `/var/runtime/node_modules`, and not the v2 `aws-sdk`).
//!   Installing all ~400 `@aws-sdk` packages would take minutes and hundreds
//!   of megabytes, so the cache holds [`NODE_SDK_PACKAGES`], the clients of
//!   the services a WebSocket + Step Functions application talks to
//!   (`npm install --prefix <cache>/node-sdk-v3`, with their dependencies
//!   such as `@aws-sdk/credential-providers`' core). Another client must be
//!   bundled with the function, as it would be for a version pin on AWS.
//!   `aws-sdk` (v2) is never installed, so `require('aws-sdk')` fails with
//!   `Runtime.ImportModuleError` as it does on AWS.
//! * **`python3.x` ships boto3**: when the machine's `python3` cannot
//!   `import boto3`, `python3 -m pip install --target
//!   <cache>/python-boto3 boto3` installs it.
//!
//! Each install runs once per cache: a marker file written after a
//! successful install (naming what was installed) makes later starts skip
//! it, and an exclusive lock file makes a second stack starting at the same
//! time wait for the first instead of racing it. A progress line says when
//! an install runs. When the tool or the registry is not reachable the
//! install fails with an [`InstallError`]; the caller prints it as a warning
//! and the stack starts anyway (the function then fails on import with the
//! runtime's own error).

use std::{
    fs::File,
    io::Read as _,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::{Duration, Instant},
};

/// The `@aws-sdk` packages installed for Node.js functions (see the module
/// doc for why not all of them).
pub const NODE_SDK_PACKAGES: &[&str] = &[
    "@aws-sdk/client-apigatewaymanagementapi",
    "@aws-sdk/client-dynamodb",
    "@aws-sdk/lib-dynamodb",
    "@aws-sdk/client-eventbridge",
    "@aws-sdk/client-lambda",
    "@aws-sdk/client-s3",
    "@aws-sdk/client-sfn",
    "@aws-sdk/client-sns",
    "@aws-sdk/client-sqs",
];

/// The PyPI packages installed for Python functions whose interpreter lacks
/// them.
pub const PYTHON_PACKAGES: &[&str] = &["boto3"];

/// How long one install may take before it is abandoned.
const INSTALL_TIMEOUT: Duration = Duration::from_secs(600);

/// Why an install did not complete.
#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    /// The installer could not be started (not on `PATH`).
    #[error("`{program}` could not be run ({cause})")]
    Tool {
        /// The program.
        program: String,
        /// The I/O error.
        cause: std::io::Error,
    },
    /// The installer ran and failed (e.g. the registry is not reachable).
    #[error("`{command}` failed ({status}): {output}")]
    Failed {
        /// The command line.
        command: String,
        /// Its exit status.
        status: String,
        /// The end of what it printed.
        output: String,
    },
    /// The installer did not finish in time; it was killed.
    #[error("`{command}` did not finish within {} s; it was stopped", .timeout.as_secs())]
    TimedOut {
        /// The command line.
        command: String,
        /// The limit.
        timeout: Duration,
    },
    /// The cache directory, its lock or its marker could not be used.
    #[error("{}: {cause}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        cause: std::io::Error,
    },
}

/// Makes sure `<cache>/node-sdk-v3/node_modules` holds
/// [`NODE_SDK_PACKAGES`], installing them with `npm` (found on `PATH`) the
/// first time; returns that `node_modules` directory.
pub fn node_sdk(cache: &Path) -> Result<PathBuf, InstallError> {
    let dir = cache.join("node-sdk-v3");
    let mut args = vec![
        "install".to_owned(),
        "--prefix".to_owned(),
        dir.display().to_string(),
        "--no-audit".to_owned(),
        "--no-fund".to_owned(),
        "--no-update-notifier".to_owned(),
        "--loglevel=error".to_owned(),
    ];
    args.extend(NODE_SDK_PACKAGES.iter().map(|p| (*p).to_owned()));
    install(
        &dir,
        "the AWS SDK for JavaScript v3",
        NODE_SDK_PACKAGES,
        "npm",
        &args,
    )?;
    Ok(dir.join("node_modules"))
}

/// Makes sure `<cache>/python-boto3` holds boto3, installing it with
/// `python -m pip` the first time; returns that directory (for
/// `PYTHONPATH`).
pub fn python_boto3(python: &Path, cache: &Path) -> Result<PathBuf, InstallError> {
    let dir = cache.join("python-boto3");
    let mut args = vec![
        "-m".to_owned(),
        "pip".to_owned(),
        "install".to_owned(),
        "--quiet".to_owned(),
        "--disable-pip-version-check".to_owned(),
        "--no-input".to_owned(),
        "--upgrade".to_owned(),
        "--target".to_owned(),
        dir.display().to_string(),
    ];
    args.extend(PYTHON_PACKAGES.iter().map(|p| (*p).to_owned()));
    install(
        &dir,
        "boto3",
        PYTHON_PACKAGES,
        &python.display().to_string(),
        &args,
    )?;
    Ok(dir)
}

/// Runs `program args` once for `dir`: skipped when `dir`'s marker names
/// `packages`, serialized with other stacks by `dir`'s lock file.
fn install(
    dir: &Path,
    what: &str,
    packages: &[&str],
    program: &str,
    args: &[String],
) -> Result<(), InstallError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |cause| InstallError::Io { path, cause }
    };
    let marker = dir.join(".wsflow-installed");
    let expected = packages.join("\n") + "\n";
    let installed = || std::fs::read_to_string(&marker).is_ok_and(|m| m == expected);
    if installed() {
        return Ok(());
    }
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let lock_path = dir.join(".wsflow-lock");
    let lock = File::create(&lock_path).map_err(io(&lock_path))?;
    // Another stack may be installing into the same cache: wait for it.
    lock.lock().map_err(io(&lock_path))?;
    if installed() {
        return Ok(());
    }
    eprintln!("wsflow: installing {what} into {} (once)…", dir.display());
    let started = Instant::now();
    run(program, args, packages)?;
    std::fs::write(&marker, expected).map_err(io(&marker))?;
    tracing::info!(
        "installed {what} into {} in {:.1} s",
        dir.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Runs the installer with the host's environment, its output captured
/// (and returned on failure), for at most [`INSTALL_TIMEOUT`].
fn run(program: &str, args: &[String], packages: &[&str]) -> Result<(), InstallError> {
    // The command as the user would type it, with a long package list
    // (the last arguments) counted rather than listed.
    let shown = if packages.len() > 3 {
        let options = &args[..args.len().saturating_sub(packages.len())];
        format!("{} <{} packages>", options.join(" "), packages.len())
    } else {
        args.join(" ")
    };
    let command = format!("{program} {shown}");
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|cause| InstallError::Tool {
            program: program.to_owned(),
            cause,
        })?;
    // Drain both pipes on threads so a chatty installer cannot block.
    let readers: Vec<_> = [
        child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
        child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
    ]
    .into_iter()
    .flatten()
    .map(|mut pipe| {
        std::thread::spawn(move || {
            let mut out = String::new();
            let _ = pipe.read_to_string(&mut out);
            out
        })
    })
    .collect();
    let deadline = Instant::now() + INSTALL_TIMEOUT;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(100)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(InstallError::TimedOut {
                    command,
                    timeout: INSTALL_TIMEOUT,
                });
            }
            Err(cause) => {
                return Err(InstallError::Tool {
                    program: program.to_owned(),
                    cause,
                });
            }
        }
    };
    let output: String = readers
        .into_iter()
        .filter_map(|r| r.join().ok())
        .collect::<Vec<_>>()
        .join("");
    if status.success() {
        return Ok(());
    }
    Err(InstallError::Failed {
        command,
        status: status.to_string(),
        output: excerpt(&output),
    })
}

/// The non-empty lines of an installer's output, joined with ` | `: all of
/// them when few, else the first three (npm's error code and cause) and
/// the last two (pip's verdict).
fn excerpt(text: &str) -> String {
    let all: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    if all.len() <= 6 {
        return all.join(" | ");
    }
    let mut parts = all[..3].to_vec();
    parts.push("…");
    parts.extend_from_slice(&all[all.len() - 2..]);
    parts.join(" | ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_install_runs_once_per_cache() {
        let cache = tempfile_dir("once");
        let dir = cache.join("pkg");
        let log = cache.join("runs.log");
        let script = format!("echo ran >> {}", log.display());
        let args = vec!["-c".to_owned(), script];
        install(&dir, "test packages", &["a", "b"], "sh", &args).unwrap();
        install(&dir, "test packages", &["a", "b"], "sh", &args).unwrap();
        assert_eq!(std::fs::read_to_string(&log).unwrap(), "ran\n");
        // Another package list is another install.
        install(&dir, "test packages", &["a", "b", "c"], "sh", &args).unwrap();
        assert_eq!(std::fs::read_to_string(&log).unwrap(), "ran\nran\n");
        std::fs::remove_dir_all(&cache).unwrap();
    }

    #[test]
    fn concurrent_installs_wait_for_the_first() {
        let cache = tempfile_dir("race");
        let dir = cache.join("pkg");
        let log = cache.join("runs.log");
        let script = format!("echo ran >> {}; sleep 0.3", log.display());
        let threads: Vec<_> = (0..3)
            .map(|_| {
                let (dir, script) = (dir.clone(), script.clone());
                std::thread::spawn(move || {
                    install(&dir, "test", &["a"], "sh", &["-c".to_owned(), script])
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap().unwrap();
        }
        assert_eq!(std::fs::read_to_string(&log).unwrap(), "ran\n");
        std::fs::remove_dir_all(&cache).unwrap();
    }

    #[test]
    fn long_output_is_cut_to_its_head_and_tail() {
        let text = (1..=10).map(|i| format!("line {i}\n")).collect::<String>();
        assert_eq!(
            excerpt(&text),
            "line 1 | line 2 | line 3 | … | line 9 | line 10"
        );
        assert_eq!(excerpt("a\n\n b \n"), "a | b");
    }

    #[test]
    fn failures_say_what_failed_and_leave_no_marker() {
        let cache = tempfile_dir("fail");
        let dir = cache.join("pkg");
        let args = vec![
            "-c".to_owned(),
            "echo 'E404 registry down' >&2; exit 3".to_owned(),
        ];
        let err = install(&dir, "test", &["a"], "sh", &args).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("E404 registry down") && text.contains("exit status: 3"),
            "{text}"
        );
        assert!(!dir.join(".wsflow-installed").exists());
        let missing = install(&dir, "test", &["a"], "/nonexistent/npm", &[]).unwrap_err();
        assert!(matches!(missing, InstallError::Tool { .. }), "{missing}");
        std::fs::remove_dir_all(&cache).unwrap();
    }

    fn tempfile_dir(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("wsflow-packages-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
}
