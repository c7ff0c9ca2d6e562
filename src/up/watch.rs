//! `wsflow up --watch`: the development loop without restarts.
//!
//! Watches `template.yaml` and every definition file it references
//! (`DefinitionUri`) with `notify` (inotify here), and on a change loads the
//! template again, as at start-up, and hands each changed state machine
//! definition to the Step Functions service as UpdateStateMachine would: new
//! executions run it within a second of the save, running ones finish on the
//! definition they started with. An invalid file is reported with the
//! start-up error and the last good version keeps serving. Each reload
//! prints one line: what changed and how long it took.
//!
//! Everything else the template declares is applied live too, as a stack
//! update ([`super::stack_update`]), all or nothing: routes, integrations
//! and mapping templates are swapped into the running gateway
//! ([`wsflow_gateway::Gateway::reload`]: open WebSocket connections stay
//! open and their next message takes the new routes); functions are added,
//! removed and reconfigured in the lambda host; tables, queues, topics, event
//! source mappings and state machines are created, updated and deleted
//! through their services. Function code is watched by [`super::rebuild`].

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use notify::{RecursiveMode, Watcher};
use wsflow_template::{App, LocalContext};

use super::functions::Built;
use super::stack_update::{self, Live};

/// Saves arriving within this window are one reload (editors write a file
/// in several steps).
const SETTLE: Duration = Duration::from_millis(40);

/// What a reload needs to load the template as `wsflow up` did.
pub struct Source {
    /// The template file.
    pub template: PathBuf,
    /// `--parameter-overrides`.
    pub overrides: Vec<(String, String)>,
    /// Account, endpoint, directories.
    pub ctx: LocalContext,
}

/// Starts watching; runs until the process ends.
pub fn spawn(source: Source, app: App, live: Live, built: Built) -> anyhow::Result<()> {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if let Ok(event) = event
            && !matches!(event.kind, notify::EventKind::Access(_))
        {
            let _ = tx.send(event.paths);
        }
    })?;
    let mut files = watched_files(&source.template, &app);
    let mut dirs = BTreeSet::new();
    watch_dirs(&mut watcher, &files, &mut dirs);
    eprintln!(
        "wsflow: watching {} file(s) for changes (the template and its state machine definitions)",
        files.len()
    );
    tokio::spawn(async move {
        let mut current = app;
        let mut built = built;
        while let Some(paths) = rx.recv().await {
            let mut changed: BTreeSet<PathBuf> =
                paths.into_iter().filter(|p| files.contains(p)).collect();
            if changed.is_empty() {
                continue;
            }
            // Let the editor finish writing; take what else arrived meanwhile.
            tokio::time::sleep(SETTLE).await;
            while let Ok(more) = rx.try_recv() {
                changed.extend(more.into_iter().filter(|p| files.contains(p)));
            }
            let started = Instant::now();
            if let Some((next, next_built)) =
                reload(&source, &current, &live, &built, &changed, started).await
            {
                current = next;
                if let Some(b) = next_built {
                    built = b;
                }
                files = watched_files(&source.template, &current);
                watch_dirs(&mut watcher, &files, &mut dirs);
            }
        }
    });
    Ok(())
}

/// The template and the definition files it reads.
fn watched_files(template: &Path, app: &App) -> BTreeSet<PathBuf> {
    let mut files: BTreeSet<PathBuf> = app
        .state_machines
        .iter()
        .filter_map(|m| m.definition_file.as_deref())
        .map(absolute)
        .collect();
    files.insert(absolute(template));
    files
}

fn absolute(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}

/// Watches the directories holding `files` (a file replaced by a rename, as
/// editors save, stays watched).
fn watch_dirs(
    watcher: &mut notify::RecommendedWatcher,
    files: &BTreeSet<PathBuf>,
    dirs: &mut BTreeSet<PathBuf>,
) {
    for dir in files.iter().filter_map(|f| f.parent()) {
        if dirs.insert(dir.to_path_buf())
            && let Err(e) = watcher.watch(dir, RecursiveMode::NonRecursive)
        {
            eprintln!("wsflow: cannot watch {}: {e}", dir.display());
        }
    }
}

/// Loads the template again and applies what changed; the new model (and
/// the new set of built functions, when it changed), or `None` when nothing
/// was applied.
async fn reload(
    source: &Source,
    current: &App,
    live: &Live,
    built: &Built,
    changed: &BTreeSet<PathBuf>,
    started: Instant,
) -> Option<(App, Option<Built>)> {
    let names: Vec<String> = changed
        .iter()
        .map(|p| {
            p.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        })
        .collect();
    let what = names.join(", ");
    let next = match wsflow_template::load(&source.template, &source.overrides, &source.ctx) {
        Ok(app) => app,
        Err(e) => {
            eprintln!(
                "wsflow: reload of {what} failed: {:#}; the last good version keeps serving",
                anyhow::Error::new(e)
            );
            return None;
        }
    };
    if next == *current {
        // An event without a change of content (an editor touching the file).
        return None;
    }
    // Everything checked (and new Rust functions built) before anything
    // changes: a template the stack cannot serve changes nothing.
    let plan = match stack_update::plan(current, &next, live, built).await {
        Ok(plan) => plan,
        Err(e) => {
            eprintln!(
                "wsflow: reload of {what} failed: {e:#}; the last good version keeps serving"
            );
            return None;
        }
    };
    let applied = plan.apply(live).await;
    let elapsed = started.elapsed().as_secs_f64() * 1000.0;
    let mut line = format!("wsflow: reloaded {what} in {elapsed:.1} ms: ");
    let summary = applied.summary();
    if summary.is_empty() {
        line.push_str("nothing the stack serves changed");
    } else {
        line.push_str(&summary);
    }
    if !applied.not_applied.is_empty() {
        line.push_str(&format!(
            "; {} changed too, which applies at the next start",
            applied.not_applied.join(", ")
        ));
    }
    eprintln!("{line}");
    Some((next, applied.built))
}
