//! `cargo bench -p wsflow --bench reload`: save-to-reloaded times of
//! `wsflow up --watch` (issue 10), on real `wsflow up` processes.
//!
//! "Reloaded" is the moment the stack prints its reload line for the save
//! (`wsflow: reloaded ...`), read from its stderr: the time from the end of
//! the file write to that line. For functions the line also carries the
//! cargo build time and the swap time, reported separately.
//!
//! * definition: `statemachines/sync-express.asl.json` of a temp copy of
//!   the app, a `Pass` state's parameters changed on each save;
//! * template: the same copy's `template.yaml`, the `queue` route's key
//!   changed on each save (routes and integrations reloaded);
//! * function: `tests/fixtures/reload-app` copied to a temp directory (its
//!   own workspace, one std-only function crate), its reply changed on
//!   each save: cargo's incremental build + the swap.
//!
//! `RELOAD_BENCH_N` (default 5) saves of each kind.

use std::{
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::mpsc,
    time::{Duration, Instant},
};

fn main() {
    if let Err(e) = run() {
        eprintln!("bench failed: {e}");
        std::process::exit(1);
    }
}

/// A `wsflow up --watch` process and its output lines.
struct Up {
    child: Child,
    lines: mpsc::Receiver<(Instant, String)>,
}

impl Drop for Up {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Up {
    fn start(dir: &Path, functions_dir: Option<&Path>) -> Result<Up, String> {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_wsflow"));
        cmd.current_dir(dir)
            .args(["up", "--watch", "--port", "0", "--time-scale", "0"])
            .args(["--template", "template.yaml", "--data-dir", "data"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(d) = functions_dir {
            cmd.arg("--functions-dir").arg(d);
        }
        let mut child = cmd.spawn().map_err(|e| format!("spawn wsflow: {e}"))?;
        let (tx, lines) = mpsc::channel();
        for stream in [
            Box::new(child.stdout.take().ok_or("stdout")?) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().ok_or("stderr")?),
        ] {
            let tx = tx.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    if tx.send((Instant::now(), line)).is_err() {
                        break;
                    }
                }
            });
        }
        let up = Up { child, lines };
        up.wait_for("watching the sources", Instant::now(), 600)?;
        Ok(up)
    }

    /// The first line containing `what`, and when it arrived.
    fn wait_for(&self, what: &str, since: Instant, secs: u64) -> Result<(Instant, String), String> {
        let deadline = since + Duration::from_secs(secs);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok((at, line)) if line.contains(what) => return Ok((at, line)),
                Ok((_, line)) if line.contains("failed") => return Err(line),
                Ok(_) => {}
                Err(_) => return Err(format!("no line with {what:?} within {secs} s")),
            }
        }
    }
}

/// Replaces `from` by `to` in `file`; the time the write ended.
fn save(file: &Path, from: &str, to: &str) -> Result<Instant, String> {
    let text = std::fs::read_to_string(file).map_err(|e| e.to_string())?;
    if !text.contains(from) {
        return Err(format!("{from:?} not in {}", file.display()));
    }
    std::fs::write(file, text.replace(from, to)).map_err(|e| e.to_string())?;
    Ok(Instant::now())
}

fn copy(from: &Path, to: &Path, files: &[&str]) -> Result<(), String> {
    for f in files {
        let dest = to.join(f);
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
        }
        std::fs::copy(from.join(f), &dest).map_err(|e| format!("{f}: {e}"))?;
    }
    Ok(())
}

fn run() -> Result<(), String> {
    let n: usize = std::env::var("RELOAD_BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let ws = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let release = !cfg!(debug_assertions);
    // The app's function binaries, in the profile of this bench.
    let mut build = Command::new(env!("CARGO"));
    build
        .current_dir(&ws)
        .args(["build", "--workspace", "--bins"]);
    if release {
        build.arg("--release");
    }
    let status = build.status().map_err(|e| e.to_string())?;
    if !status.success() {
        return Err("building the function binaries failed".into());
    }
    let bins = PathBuf::from(env!("CARGO_BIN_EXE_wsflow"))
        .parent()
        .ok_or("target dir")?
        .to_path_buf();

    // Definitions and the template.
    let app = tempfile::tempdir().map_err(|e| e.to_string())?;
    copy(
        &ws,
        app.path(),
        &[
            "template.yaml",
            "statemachines/sync-express.asl.json",
            "statemachines/async-standard.asl.json",
        ],
    )?;
    let up = Up::start(app.path(), Some(&bins))?;
    let definition = app.path().join("statemachines/sync-express.asl.json");
    let mut definition_times = Vec::new();
    let mut marker = r#""Type": "Pass","#.to_owned();
    for i in 0..n {
        let next = format!(r#""Type": "Pass", "Comment": "edit {i}","#);
        let saved = save(&definition, &marker, &next)?;
        marker = next;
        let (at, _) = up.wait_for("wsflow-SyncStateMachine updated", saved, 30)?;
        definition_times.push(at - saved);
        std::thread::sleep(Duration::from_millis(200));
    }
    let template = app.path().join("template.yaml");
    let mut template_times = Vec::new();
    let mut key = "RouteKey: queue\n".to_owned();
    for i in 0..n {
        let next = format!("RouteKey: queue{i}\n");
        let saved = save(&template, &key, &next)?;
        key = next;
        let (at, _) = up.wait_for("routes and integrations reloaded", saved, 30)?;
        template_times.push(at - saved);
        std::thread::sleep(Duration::from_millis(200));
    }
    drop(up);

    // A function source.
    let fn_app = tempfile::tempdir().map_err(|e| e.to_string())?;
    copy(
        &ws.join("tests/fixtures/reload-app"),
        fn_app.path(),
        &["template.yaml", "Cargo.toml", "src/main.rs"],
    )?;
    let up = Up::start(fn_app.path(), None)?;
    let main_rs = fn_app.path().join("src/main.rs");
    let (mut function_times, mut builds, mut swaps) = (Vec::new(), Vec::new(), Vec::new());
    let mut reply = r#"const REPLY: &str = "v1";"#.to_owned();
    for i in 0..n {
        let next = format!(r#"const REPLY: &str = "edit {i}";"#);
        let saved = save(&main_rs, &reply, &next)?;
        reply = next;
        let (at, line) = up.wait_for("reloaded function", saved, 600)?;
        function_times.push(at - saved);
        builds.push(figure(&line, "built in ", " s").ok_or(line.clone())? * 1000.0);
        swaps.push(figure(&line, "swapped in ", " ms").ok_or(line.clone())?);
    }
    drop(up);

    let profile = if release { "release" } else { "debug" };
    println!("wsflow up --watch, save to reload line ({profile} build, median of {n}):");
    println!(
        "  definition             {:>9.1} ms   (target < 200 ms)",
        median_ms(&definition_times)
    );
    println!(
        "  template (routes)      {:>9.1} ms   (target < 500 ms)",
        median_ms(&template_times)
    );
    println!(
        "  function, save to line {:>9.1} ms",
        median_ms(&function_times)
    );
    println!("    cargo build          {:>9.1} ms", median(&mut builds));
    println!(
        "    swap                 {:>9.1} ms   (target < 200 ms)",
        median(&mut swaps)
    );
    Ok(())
}

/// The number between `before` and `after` in `line`.
fn figure(line: &str, before: &str, after: &str) -> Option<f64> {
    let rest = &line[line.find(before)? + before.len()..];
    rest[..rest.find(after)?].parse().ok()
}

fn median_ms(times: &[Duration]) -> f64 {
    let mut ms: Vec<f64> = times.iter().map(|d| d.as_secs_f64() * 1000.0).collect();
    median(&mut ms)
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
}
