//! `wsflow up --watch` for functions: a saved source file rebuilds its
//! function in the background and swaps the new binary in.
//!
//! A function built by cargo at start-up is watched through its sources: its
//! package directory and the path dependencies it uses (from `cargo
//! metadata`), recursively, `target/` excepted. On a change the binary is
//! built again with [`build::locate_or_build`], as at start-up (same
//! workspace, same profile, incremental); cargo's diagnostics go to the
//! console, and a failed build leaves the previous binary serving. A built
//! binary replaces the old one with [`LambdaHost::replace_executable`]: new
//! invocations start processes of the new binary, idle old processes stop,
//! an invocation in flight finishes on its old process.
//!
//! A function taken from `--functions-dir` was built by someone else: its
//! binary file itself is watched and swapped in when it changes.

use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use anyhow::Context as _;
use notify::{RecursiveMode, Watcher};
use serde_json::Value;
use wsflow_lambda_host::{
    LambdaHost,
    build::{self, BinaryTarget},
};

use super::functions::{Built, BuiltFunction};

/// Saves arriving within this window are one rebuild (an editor writes in
/// several steps, a "save all" touches several files, a linker writes a
/// binary in several).
const SETTLE: Duration = Duration::from_millis(150);

/// Starts watching the functions' sources (and prebuilt binaries); runs
/// until the process ends.
pub async fn spawn(host: LambdaHost, built: Built) -> anyhow::Result<()> {
    let mut sources: BTreeMap<PathBuf, BTreeSet<String>> = BTreeMap::new();
    let cargo_built: Vec<&BuiltFunction> = built.functions.iter().filter(|f| !f.prebuilt).collect();
    if !cargo_built.is_empty() {
        let packages = source_dirs(&built).await?;
        for f in &cargo_built {
            let Some(package) = &f.target.package else {
                continue;
            };
            for dir in packages.get(package).into_iter().flatten() {
                sources
                    .entry(dir.clone())
                    .or_default()
                    .insert(f.target.bin.clone());
            }
        }
    }
    let binaries: BTreeMap<PathBuf, String> = built
        .functions
        .iter()
        .filter(|f| f.prebuilt)
        .map(|f| (absolute(&f.executable), f.target.bin.clone()))
        .collect();

    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if let Ok(event) = event
            && !matches!(event.kind, notify::EventKind::Access(_))
        {
            let _ = tx.send(event.paths);
        }
    })?;
    for dir in sources.keys() {
        watcher
            .watch(dir, RecursiveMode::Recursive)
            .with_context(|| format!("watching {}", dir.display()))?;
    }
    let bin_dirs: BTreeSet<&Path> = binaries.keys().filter_map(|p| p.parent()).collect();
    for dir in bin_dirs {
        watcher
            .watch(dir, RecursiveMode::NonRecursive)
            .with_context(|| format!("watching {}", dir.display()))?;
    }
    eprintln!(
        "wsflow: watching the sources of {} function binary(ies) in {} director(ies) and {} prebuilt binary(ies)",
        sources.values().flatten().collect::<BTreeSet<_>>().len(),
        sources.len(),
        binaries.len()
    );
    tokio::spawn(async move {
        // The watcher lives as long as this task.
        let _watcher = watcher;
        let changed_bins =
            |paths: Vec<PathBuf>, rebuild: &mut BTreeSet<String>, swap: &mut BTreeSet<String>| {
                for p in paths {
                    if let Some(bin) = binaries.get(&p) {
                        swap.insert(bin.clone());
                        continue;
                    }
                    if !is_source(&p) {
                        continue;
                    }
                    for (dir, bins) in &sources {
                        if p.starts_with(dir) && !p.strip_prefix(dir).is_ok_and(in_target) {
                            rebuild.extend(bins.iter().cloned());
                        }
                    }
                }
            };
        while let Some(paths) = rx.recv().await {
            let (mut rebuild, mut swap) = (BTreeSet::new(), BTreeSet::new());
            changed_bins(paths, &mut rebuild, &mut swap);
            if rebuild.is_empty() && swap.is_empty() {
                continue;
            }
            let saved = Instant::now();
            tokio::time::sleep(SETTLE).await;
            while let Ok(more) = rx.try_recv() {
                changed_bins(more, &mut rebuild, &mut swap);
            }
            if !rebuild.is_empty() {
                rebuild_and_swap(&host, &built, &rebuild, saved).await;
            }
            if !swap.is_empty() {
                let executables = built
                    .functions
                    .iter()
                    .filter(|f| swap.contains(&f.target.bin))
                    .map(|f| (f.target.bin.clone(), f.executable.clone()))
                    .collect();
                swap_in(&host, &built, &executables, None, saved);
            }
        }
    });
    Ok(())
}

/// Builds `bins` as at start-up and swaps the new executables in.
async fn rebuild_and_swap(
    host: &LambdaHost,
    built: &Built,
    bins: &BTreeSet<String>,
    saved: Instant,
) {
    let targets: Vec<BinaryTarget> = built
        .functions
        .iter()
        .filter(|f| bins.contains(&f.target.bin))
        .map(|f| f.target.clone())
        .fold(Vec::new(), |mut all, t| {
            if !all.contains(&t) {
                all.push(t);
            }
            all
        });
    let names = function_names(built, bins);
    let mut options = built.options.clone();
    // Rebuild even when an older copy sits in `--functions-dir`.
    options.prebuilt_dir = None;
    let started = Instant::now();
    match build::locate_or_build(&options, &targets).await {
        Ok(executables) => swap_in(host, built, &executables, Some(started.elapsed()), saved),
        Err(e) => eprintln!(
            "wsflow: rebuild of function {names} failed ({e}; cargo's messages above); the previous binary keeps serving"
        ),
    }
}

/// Hands each function its new executable and prints the reload line.
fn swap_in(
    host: &LambdaHost,
    built: &Built,
    executables: &BTreeMap<String, PathBuf>,
    build_time: Option<Duration>,
    saved: Instant,
) {
    let started = Instant::now();
    let mut swapped = Vec::new();
    for f in &built.functions {
        let Some(exe) = executables.get(&f.target.bin) else {
            continue;
        };
        match host.replace_executable(&f.name, exe) {
            Ok(()) => swapped.push(f.name.as_str()),
            Err(e) => eprintln!("wsflow: cannot swap in the new binary: {e}"),
        }
    }
    if swapped.is_empty() {
        return;
    }
    let swap_ms = started.elapsed().as_secs_f64() * 1000.0;
    let total = saved.elapsed().as_secs_f64();
    match build_time {
        Some(b) => eprintln!(
            "wsflow: reloaded function {} (built in {:.1} s, swapped in {swap_ms:.1} ms; {total:.1} s after the save)",
            swapped.join(", "),
            b.as_secs_f64()
        ),
        None => eprintln!(
            "wsflow: reloaded function {} (binary changed, swapped in {swap_ms:.1} ms)",
            swapped.join(", ")
        ),
    }
}

fn function_names(built: &Built, bins: &BTreeSet<String>) -> String {
    built
        .functions
        .iter()
        .filter(|f| bins.contains(&f.target.bin))
        .map(|f| f.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Each workspace package's source directories: its own and those of the
/// path dependencies it uses, transitively (`cargo metadata --no-deps`
/// lists a path dependency with its `path`).
async fn source_dirs(built: &Built) -> anyhow::Result<BTreeMap<String, Vec<PathBuf>>> {
    let output = tokio::process::Command::new(&built.options.cargo)
        .args(["metadata", "--no-deps", "--format-version", "1"])
        .current_dir(&built.options.workspace_dir)
        .stderr(std::process::Stdio::inherit())
        .output()
        .await
        .context("running cargo metadata")?;
    anyhow::ensure!(
        output.status.success(),
        "cargo metadata failed ({})",
        output.status
    );
    let meta: Value = serde_json::from_slice(&output.stdout).context("reading cargo metadata")?;
    Ok(package_dirs(&meta))
}

/// [`source_dirs`] from `cargo metadata`'s JSON.
fn package_dirs(meta: &Value) -> BTreeMap<String, Vec<PathBuf>> {
    let packages = meta["packages"].as_array().cloned().unwrap_or_default();
    // Package directory -> the path dependencies' directories.
    let mut deps: BTreeMap<PathBuf, Vec<PathBuf>> = BTreeMap::new();
    let mut dir_of = BTreeMap::new();
    for p in &packages {
        let Some(dir) = p["manifest_path"]
            .as_str()
            .and_then(|m| Path::new(m).parent())
        else {
            continue;
        };
        let paths = p["dependencies"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|d| d["path"].as_str())
            .map(PathBuf::from)
            .collect();
        deps.insert(dir.to_path_buf(), paths);
        if let Some(name) = p["name"].as_str() {
            dir_of.insert(name.to_owned(), dir.to_path_buf());
        }
    }
    dir_of
        .into_iter()
        .map(|(name, dir)| {
            let mut seen = BTreeSet::new();
            let mut todo = vec![dir];
            while let Some(d) = todo.pop() {
                if seen.insert(d.clone()) {
                    todo.extend(deps.get(&d).into_iter().flatten().cloned());
                }
            }
            // A directory inside another watched one is covered by it.
            let all: Vec<PathBuf> = seen.iter().cloned().collect();
            let dirs = seen
                .into_iter()
                .filter(|d| !all.iter().any(|o| o != d && d.starts_with(o)))
                .collect();
            (name, dirs)
        })
        .collect()
}

/// Whether a path below a watched directory is in a cargo `target/` directory.
fn in_target(relative: &Path) -> bool {
    relative.components().any(|c| c.as_os_str() == "target")
}

/// Whether a changed file is one cargo builds from: Rust sources and the
/// manifests (a `template.yaml` or a README beside the crate is not; nor is
/// a file pulled in with `include_str!`, which a `.rs` save picks up).
fn is_source(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    !name.starts_with('.')
        && (name.ends_with(".rs") || name.ends_with(".toml") || name == "Cargo.lock")
}

fn absolute(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_package_watches_its_path_dependencies_transitively() {
        let meta = serde_json::json!({"packages": [
            {"name": "echo", "manifest_path": "/w/lambdas/echo/Cargo.toml",
             "dependencies": [{"name": "kit", "path": "/w/crates/kit"}, {"name": "serde"}]},
            {"name": "kit", "manifest_path": "/w/crates/kit/Cargo.toml",
             "dependencies": [{"name": "wire", "path": "/w/crates/wire"}]},
            {"name": "wire", "manifest_path": "/w/crates/wire/Cargo.toml", "dependencies": []},
            {"name": "root", "manifest_path": "/w/Cargo.toml",
             "dependencies": [{"name": "kit", "path": "/w/crates/kit"}]},
        ]});
        let dirs = package_dirs(&meta);
        assert_eq!(
            dirs["echo"],
            ["/w/crates/kit", "/w/crates/wire", "/w/lambdas/echo"].map(PathBuf::from)
        );
        assert_eq!(dirs["wire"], [PathBuf::from("/w/crates/wire")]);
        // The root package's directory covers the ones inside it.
        assert_eq!(dirs["root"], [PathBuf::from("/w")]);
        assert!(in_target(Path::new("target/debug/echo")));
        assert!(!in_target(Path::new("src/main.rs")));
        assert!(is_source(Path::new("/w/src/main.rs")));
        assert!(!is_source(Path::new("/w/src/.main.rs.swp")));
        assert!(!is_source(Path::new("/w/src/main.rs~")));
        assert!(!is_source(Path::new("/w/template.yaml")));
        assert!(is_source(Path::new("/w/Cargo.toml")));
    }
}
