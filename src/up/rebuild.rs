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
//!
//! A template reload that adds, removes or moves functions hands the new
//! set over with [`Rebuilder::set`]; the watched directories follow it.

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

/// What is watched: source directories (with the binaries built from each)
/// and prebuilt binary files (with their binary names).
#[derive(Default)]
struct WatchSet {
    sources: BTreeMap<PathBuf, BTreeSet<String>>,
    binaries: BTreeMap<PathBuf, String>,
}

impl WatchSet {
    /// The sources and binaries of `built`'s functions.
    async fn of(built: &Built) -> anyhow::Result<WatchSet> {
        let mut sources: BTreeMap<PathBuf, BTreeSet<String>> = BTreeMap::new();
        let cargo_built: Vec<&BuiltFunction> =
            built.functions.iter().filter(|f| !f.prebuilt).collect();
        if !cargo_built.is_empty() {
            let packages = source_dirs(built).await?;
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
        let binaries = built
            .functions
            .iter()
            .filter(|f| f.prebuilt)
            .map(|f| (absolute(&f.executable), f.target.bin.clone()))
            .collect();
        Ok(WatchSet { sources, binaries })
    }

    /// The directories to watch, and whether recursively.
    fn dirs(&self) -> BTreeMap<PathBuf, RecursiveMode> {
        let mut dirs: BTreeMap<PathBuf, RecursiveMode> = self
            .binaries
            .keys()
            .filter_map(|p| p.parent())
            .map(|d| (d.to_path_buf(), RecursiveMode::NonRecursive))
            .collect();
        for dir in self.sources.keys() {
            dirs.insert(dir.clone(), RecursiveMode::Recursive);
        }
        dirs
    }

    /// Adds the binaries that `paths` call for to `rebuild` (a source
    /// changed) or `swap` (a prebuilt binary changed).
    fn changed_bins(
        &self,
        paths: Vec<PathBuf>,
        rebuild: &mut BTreeSet<String>,
        swap: &mut BTreeSet<String>,
    ) {
        for p in paths {
            if let Some(bin) = self.binaries.get(&p) {
                swap.insert(bin.clone());
                continue;
            }
            if !is_source(&p) {
                continue;
            }
            for (dir, bins) in &self.sources {
                if p.starts_with(dir) && !p.strip_prefix(dir).is_ok_and(in_target) {
                    rebuild.extend(bins.iter().cloned());
                }
            }
        }
    }
}

/// Watches `set`'s directories: new ones are added, ones no longer needed
/// dropped.
fn rewatch(
    watcher: &mut notify::RecommendedWatcher,
    watched: &mut BTreeMap<PathBuf, RecursiveMode>,
    set: &WatchSet,
) -> anyhow::Result<()> {
    let wanted = set.dirs();
    for (dir, mode) in watched.iter() {
        if wanted.get(dir) != Some(mode) {
            let _ = watcher.unwatch(dir);
        }
    }
    watched.retain(|dir, mode| wanted.get(dir) == Some(mode));
    for (dir, mode) in wanted {
        if let std::collections::btree_map::Entry::Vacant(slot) = watched.entry(dir) {
            watcher
                .watch(slot.key(), mode)
                .with_context(|| format!("watching {}", slot.key().display()))?;
            slot.insert(mode);
        }
    }
    Ok(())
}

/// Tells the source watcher which functions are cargo-built or prebuilt
/// now (after a template reload added, removed or moved some).
#[derive(Clone)]
pub struct Rebuilder {
    tx: tokio::sync::mpsc::UnboundedSender<Built>,
}

impl Rebuilder {
    /// Watches `built`'s functions from now on.
    pub fn set(&self, built: Built) {
        let _ = self.tx.send(built);
    }
}

/// Starts watching the functions' sources (and prebuilt binaries); runs
/// until the process ends.
pub async fn spawn(host: LambdaHost, built: Built) -> anyhow::Result<Rebuilder> {
    let mut set = WatchSet::of(&built).await?;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if let Ok(event) = event
            && !matches!(event.kind, notify::EventKind::Access(_))
        {
            let _ = tx.send(event.paths);
        }
    })?;
    let mut watched = BTreeMap::new();
    rewatch(&mut watcher, &mut watched, &set)?;
    eprintln!(
        "wsflow: watching the sources of {} function binary(ies) in {} director(ies) and {} prebuilt binary(ies)",
        set.sources
            .values()
            .flatten()
            .collect::<BTreeSet<_>>()
            .len(),
        set.sources.len(),
        set.binaries.len()
    );
    let (control, mut updates) = tokio::sync::mpsc::unbounded_channel::<Built>();
    tokio::spawn(async move {
        let mut built = built;
        loop {
            let paths = tokio::select! {
                Some(paths) = rx.recv() => paths,
                Some(next) = updates.recv() => {
                    match WatchSet::of(&next).await {
                        Ok(next_set) => {
                            if let Err(e) = rewatch(&mut watcher, &mut watched, &next_set) {
                                eprintln!("wsflow: {e:#}");
                            }
                            set = next_set;
                        }
                        Err(e) => eprintln!("wsflow: cannot watch the new functions' sources: {e:#}"),
                    }
                    built = next;
                    continue;
                }
                else => return,
            };
            let (mut rebuild, mut swap) = (BTreeSet::new(), BTreeSet::new());
            set.changed_bins(paths, &mut rebuild, &mut swap);
            if rebuild.is_empty() && swap.is_empty() {
                continue;
            }
            let saved = Instant::now();
            tokio::time::sleep(SETTLE).await;
            while let Ok(more) = rx.try_recv() {
                set.changed_bins(more, &mut rebuild, &mut swap);
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
    Ok(Rebuilder { tx: control })
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
