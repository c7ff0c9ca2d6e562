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
//! Routes, integrations and mapping templates are compiled into a new
//! gateway configuration (as at start-up) and swapped in with
//! [`Gateway::reload`]: open WebSocket connections stay open and their next
//! message takes the new routes. Function code is watched by
//! [`super::rebuild`]. Changes to functions' other properties, tables,
//! queues or the set of state machines are named, with a note that they
//! apply at the next start.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use notify::{RecursiveMode, Watcher};
use wsflow_aws_wire::Account;
use wsflow_gateway::{Backends, Gateway};
use wsflow_sfn::StepFunctions;
use wsflow_template::{App, LocalContext};

use super::UpArgs;

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

/// The running services a reload updates.
pub struct Live {
    /// Takes new definitions.
    pub sfn: Arc<StepFunctions>,
    /// Takes new routes and integrations.
    pub gateway: Gateway,
    /// What the gateway's integrations call.
    pub backends: Backends,
    /// For the gateway's configuration, as at start-up.
    pub account: Account,
    /// The port served.
    pub port: u16,
    /// The command line.
    pub args: UpArgs,
}

/// Starts watching; runs until the process ends.
pub fn spawn(source: Source, app: App, live: Live) -> anyhow::Result<()> {
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
            if let Some(next) = reload(&source, &current, &live, &changed, started) {
                current = next;
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

/// Loads the template again and applies what changed; the new model, or
/// `None` when nothing could be applied.
fn reload(
    source: &Source,
    current: &App,
    live: &Live,
    changed: &BTreeSet<PathBuf>,
    started: Instant,
) -> Option<App> {
    let names: Vec<String> = changed
        .iter()
        .map(|p| {
            p.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        })
        .collect();
    let what = names.join(", ");
    let mut next = match wsflow_template::load(&source.template, &source.overrides, &source.ctx) {
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
    // Routes first: a template the gateway cannot serve changes nothing.
    let routes_changed = current.apis != next.apis || current.functions != next.functions;
    let mut routes_reloaded = false;
    if routes_changed {
        match reload_routes(&next, live) {
            Ok(()) => routes_reloaded = current.apis != next.apis,
            Err(e) => {
                eprintln!(
                    "wsflow: reload of {what} failed: {e:#}; the last good version keeps serving"
                );
                return None;
            }
        }
    }
    let mut updated = Vec::new();
    for m in &mut next.state_machines {
        match live.sfn.update_template_definition(&m.name, &m.definition) {
            Ok(true) => updated.push(m.name.clone()),
            Ok(false) => {}
            Err(e) => {
                eprintln!(
                    "wsflow: reload of {what} failed: {:#}; the last good version keeps serving",
                    anyhow::Error::new(e)
                );
                // Keep the serving definition, so restoring the file reloads it.
                if let Some(old) = current.state_machines.iter().find(|o| o.name == m.name) {
                    m.definition = old.definition.clone();
                }
            }
        }
    }
    let elapsed = started.elapsed().as_secs_f64() * 1000.0;
    let mut line = format!("wsflow: reloaded {what} in {elapsed:.1} ms: ");
    let mut applied = Vec::new();
    if routes_reloaded {
        applied.push("routes and integrations reloaded".to_owned());
    }
    if !updated.is_empty() {
        applied.push(format!("state machine(s) {} updated", updated.join(", ")));
    }
    if applied.is_empty() {
        line.push_str("no state machine definition changed");
    } else {
        line.push_str(&applied.join("; "));
    }
    let rest = beyond_definitions(current, &next);
    if !rest.is_empty() {
        line.push_str(&format!(
            "; {} changed too, which applies at the next start",
            rest.join(", ")
        ));
    }
    eprintln!("{line}");
    Some(next)
}

/// Compiles the template's WebSocket API as at start-up and has the gateway
/// serve it; the start-up error otherwise.
fn reload_routes(app: &App, live: &Live) -> anyhow::Result<()> {
    let config = super::api::config(app, &live.account, live.port, &live.args)?;
    live.gateway
        .reload(config, &live.backends)
        .map_err(|e| anyhow::Error::new(e).context("the WebSocket API"))
}

/// What changed between two models that a reload does not apply.
fn beyond_definitions(old: &App, new: &App) -> Vec<&'static str> {
    let mut out = Vec::new();
    if old.functions != new.functions {
        out.push("functions");
    }
    if old.tables != new.tables {
        out.push("tables");
    }
    if old.queues != new.queues {
        out.push("queues");
    }
    let machines = |app: &App| -> Vec<(String, String)> {
        app.state_machines
            .iter()
            .map(|m| (m.name.clone(), format!("{:?}", m.kind)))
            .collect()
    };
    if machines(old) != machines(new) {
        out.push("the set of state machines");
    }
    out
}
