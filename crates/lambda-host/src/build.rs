//! Finding (or building) the executables of the functions: the very binaries
//! `cargo lambda build` deploys, built for the host instead of
//! `aarch64-unknown-linux-gnu`.
//!
//! [`workspace_binaries`] lists the workspace's bin targets (`cargo
//! metadata`), so a template's `CodeUri` (a crate directory) can be mapped to
//! its package and binary. [`locate_or_build`] runs one `cargo build` for
//! every binary that is not already in [`BuildOptions::prebuilt_dir`] and
//! takes the executables' paths from cargo's own JSON messages (so the target
//! directory, profile and platform suffixes never have to be guessed).

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    process::Stdio,
};

use serde::Deserialize;
use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::Command,
};

/// Why binaries could not be found or built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// cargo could not be run.
    #[error("running cargo: {0}")]
    Spawn(#[from] std::io::Error),
    /// cargo ran and failed.
    #[error("`{command}` failed ({status})")]
    Failed {
        /// The command line.
        command: String,
        /// Its exit status.
        status: String,
    },
    /// cargo's output could not be understood.
    #[error("unexpected cargo output: {0}")]
    Output(String),
    /// cargo succeeded but did not report this binary.
    #[error("cargo built no binary named {0}")]
    Missing(String),
}

/// How to find or build binaries.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    /// The workspace (where `cargo` runs).
    pub workspace_dir: PathBuf,
    /// `--release`.
    pub release: bool,
    /// A directory holding already built binaries (e.g. `target/release`):
    /// binaries found there are not built.
    pub prebuilt_dir: Option<PathBuf>,
    /// The cargo executable (`cargo`, or `$CARGO` when run from cargo).
    pub cargo: PathBuf,
}

impl BuildOptions {
    /// Builds in `workspace_dir` with the `cargo` on `PATH` (or `$CARGO`).
    pub fn new(workspace_dir: impl Into<PathBuf>, release: bool) -> Self {
        Self {
            workspace_dir: workspace_dir.into(),
            release,
            prebuilt_dir: None,
            cargo: std::env::var_os("CARGO")
                .map(PathBuf::from)
                .unwrap_or_else(|| "cargo".into()),
        }
    }
}

/// A binary to build: `cargo build -p <package> --bin <bin>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BinaryTarget {
    /// The package (`None`: let cargo find the bin in the workspace).
    pub package: Option<String>,
    /// The bin target's name.
    pub bin: String,
}

/// A bin target of a workspace package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkspaceBinary {
    /// The package name.
    pub package: String,
    /// The bin target name.
    pub bin: String,
    /// The directory holding the package's `Cargo.toml`.
    pub package_dir: PathBuf,
}

#[derive(Deserialize)]
struct Metadata {
    packages: Vec<MetaPackage>,
}

#[derive(Deserialize)]
struct MetaPackage {
    name: String,
    manifest_path: PathBuf,
    targets: Vec<MetaTarget>,
}

#[derive(Deserialize)]
struct MetaTarget {
    name: String,
    kind: Vec<String>,
}

/// Every bin target of the workspace's packages (`cargo metadata --no-deps`).
pub async fn workspace_binaries(
    options: &BuildOptions,
) -> Result<Vec<WorkspaceBinary>, BuildError> {
    let output = Command::new(&options.cargo)
        .args(["metadata", "--no-deps", "--format-version", "1"])
        .current_dir(&options.workspace_dir)
        .stderr(Stdio::inherit())
        .output()
        .await?;
    if !output.status.success() {
        return Err(BuildError::Failed {
            command: "cargo metadata --no-deps --format-version 1".into(),
            status: output.status.to_string(),
        });
    }
    let meta: Metadata =
        serde_json::from_slice(&output.stdout).map_err(|e| BuildError::Output(e.to_string()))?;
    Ok(meta
        .packages
        .into_iter()
        .flat_map(|p| {
            let dir = p
                .manifest_path
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_default();
            p.targets
                .into_iter()
                .filter(|t| t.kind.iter().any(|k| k == "bin"))
                .map(move |t| WorkspaceBinary {
                    package: p.name.clone(),
                    bin: t.name,
                    package_dir: dir.clone(),
                })
        })
        .collect())
}

/// The executables of `targets`, keyed by bin name: taken from
/// `prebuilt_dir` when there, built with one `cargo build` otherwise.
/// Compiler diagnostics go to stderr as cargo renders them.
pub async fn locate_or_build(
    options: &BuildOptions,
    targets: &[BinaryTarget],
) -> Result<BTreeMap<String, PathBuf>, BuildError> {
    let mut found = BTreeMap::new();
    let mut to_build = Vec::new();
    for t in targets {
        match options
            .prebuilt_dir
            .as_ref()
            .map(|d| d.join(&t.bin))
            .filter(|p| p.is_file())
        {
            Some(path) => {
                found.insert(t.bin.clone(), path);
            }
            None => to_build.push(t),
        }
    }
    if to_build.is_empty() {
        return Ok(found);
    }
    let mut args = vec![
        "build".to_owned(),
        "--message-format=json-render-diagnostics".into(),
    ];
    if options.release {
        args.push("--release".into());
    }
    for t in &to_build {
        if let Some(p) = &t.package
            && !args.iter().any(|a| a == p)
        {
            args.extend(["-p".into(), p.clone()]);
        }
    }
    for t in &to_build {
        args.extend(["--bin".into(), t.bin.clone()]);
    }
    let command = format!("cargo {}", args.join(" "));
    tracing::info!("building functions: {command}");
    let mut child = Command::new(&options.cargo)
        .args(&args)
        .current_dir(&options.workspace_dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()?;
    let Some(stdout) = child.stdout.take() else {
        return Err(BuildError::Output("no stdout".into()));
    };
    let mut lines = BufReader::new(stdout).lines();
    let mut built = BTreeMap::new();
    while let Some(line) = lines.next_line().await? {
        if let Some((name, path)) = artifact_executable(&line) {
            built.insert(name, path);
        }
    }
    let status = child.wait().await?;
    if !status.success() {
        return Err(BuildError::Failed {
            command,
            status: status.to_string(),
        });
    }
    for t in to_build {
        let path = built
            .get(&t.bin)
            .cloned()
            .ok_or_else(|| BuildError::Missing(t.bin.clone()))?;
        found.insert(t.bin.clone(), path);
    }
    Ok(found)
}

#[derive(Deserialize)]
struct Artifact {
    reason: String,
    target: Option<ArtifactTarget>,
    executable: Option<PathBuf>,
}

#[derive(Deserialize)]
struct ArtifactTarget {
    name: String,
    kind: Vec<String>,
}

/// `(bin name, executable)` of a `compiler-artifact` message for a bin.
fn artifact_executable(line: &str) -> Option<(String, PathBuf)> {
    let a: Artifact = serde_json::from_str(line).ok()?;
    if a.reason != "compiler-artifact" {
        return None;
    }
    let target = a.target?;
    if !target.kind.iter().any(|k| k == "bin") {
        return None;
    }
    Some((target.name, a.executable?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_executables_from_cargo_messages() {
        let line = r#"{"reason":"compiler-artifact","package_id":"x","target":{"kind":["bin"],"crate_types":["bin"],"name":"echo","src_path":"/w/src/main.rs"},"executable":"/w/target/debug/echo","fresh":true}"#;
        assert_eq!(
            artifact_executable(line),
            Some(("echo".into(), PathBuf::from("/w/target/debug/echo")))
        );
        let lib = r#"{"reason":"compiler-artifact","target":{"kind":["lib"],"name":"l"},"executable":null}"#;
        assert_eq!(artifact_executable(lib), None);
        assert_eq!(
            artifact_executable(r#"{"reason":"build-finished","success":true}"#),
            None
        );
        assert_eq!(artifact_executable("not json"), None);
    }

    #[tokio::test]
    async fn prebuilt_binaries_skip_cargo() {
        let dir = std::env::temp_dir().join(format!("wsflow-prebuilt-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("fn-a"), b"").unwrap();
        let mut options = BuildOptions::new("/nonexistent", false);
        options.prebuilt_dir = Some(dir.clone());
        // A cargo that does not exist: any attempt to build would fail.
        options.cargo = "/nonexistent/cargo".into();
        let found = locate_or_build(
            &options,
            &[BinaryTarget {
                package: None,
                bin: "fn-a".into(),
            }],
        )
        .await
        .unwrap();
        assert_eq!(found["fn-a"], dir.join("fn-a"));
        let missing = locate_or_build(
            &options,
            &[BinaryTarget {
                package: None,
                bin: "fn-b".into(),
            }],
        )
        .await;
        assert!(matches!(missing, Err(BuildError::Spawn(_))));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
