//! The stack under measurement: the release `wsflow up` child process, its
//! ready line, its resident memory, and a guard that stops it on every path
//! (also when the bench panics).
//!
//! The harness in `tests/support` does the same for the debug build; this one
//! differs in what a bench needs: the release binaries, the time from spawn to
//! the ready line, `/proc/<pid>/status`, and a console that goes to a file
//! (the stack's per-invoke log lines would otherwise cost the bench's own
//! terminal time).

use std::{
    collections::BTreeMap,
    ffi::OsString,
    fs::File,
    io::{BufRead, BufReader, Write},
    path::PathBuf,
    process::{Child, Command, Stdio},
    sync::mpsc,
    thread,
    time::{Duration, Instant},
};

/// How long a prebuilt stack may take to print its ready line.
const READY_TIMEOUT: Duration = Duration::from_secs(120);
/// How long a stopping stack may take after SIGTERM before it gets SIGKILL.
const STOP_TIMEOUT: Duration = Duration::from_secs(30);

/// Where the release binaries are.
pub struct Binaries {
    /// The workspace root (`template.yaml`).
    pub workspace: PathBuf,
    /// `target/release/wsflow`.
    pub wsflow: PathBuf,
    /// The directory holding the function binaries (`echo-route`, ...).
    pub functions_dir: PathBuf,
}

impl Binaries {
    /// Builds `wsflow` and every function binary in the release profile (a
    /// no-op when they are fresh) and locates them.
    ///
    /// With `STACK_BENCH_BINARIES=<dir>` set, nothing is built: `<dir>` holds
    /// `wsflow` and the function binaries (e.g. a copy of an earlier build, to
    /// measure two builds side by side under the same load).
    pub fn build() -> Result<Binaries, String> {
        let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        if let Some(dir) = std::env::var_os("STACK_BENCH_BINARIES") {
            let functions_dir = PathBuf::from(dir);
            eprintln!("bench: prebuilt binaries in {}", functions_dir.display());
            return Self::located(workspace, functions_dir.join("wsflow"), functions_dir);
        }
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
        eprintln!("bench: cargo build --release --workspace --bins");
        let status = Command::new(cargo)
            .current_dir(&workspace)
            .args(["build", "--release", "--workspace", "--bins"])
            .stdin(Stdio::null())
            .status()
            .map_err(|e| format!("cannot run cargo: {e}"))?;
        if !status.success() {
            return Err(format!("cargo build --release failed: {status}"));
        }
        // The bench is built in the release directory of the same target dir
        // (the `bench` profile inherits `release`), next to the binaries.
        let wsflow = PathBuf::from(env!("CARGO_BIN_EXE_wsflow"));
        let functions_dir = wsflow
            .parent()
            .ok_or("the wsflow binary has no directory")?
            .to_path_buf();
        Self::located(workspace, wsflow, functions_dir)
    }

    /// Checks that the binaries the bench runs are there.
    fn located(
        workspace: PathBuf,
        wsflow: PathBuf,
        functions_dir: PathBuf,
    ) -> Result<Binaries, String> {
        for bin in ["wsflow", "echo-route", "default-route", "process-task"] {
            if !functions_dir.join(bin).is_file() {
                return Err(format!("{bin} is missing in {}", functions_dir.display()));
            }
        }
        Ok(Binaries {
            workspace,
            wsflow,
            functions_dir,
        })
    }
}

/// A running `wsflow up`; stopped (SIGTERM, then SIGKILL) when dropped.
pub struct StackProcess {
    child: Child,
    /// `127.0.0.1:<port>`.
    pub addr: String,
    /// The stage from the ready line.
    pub stage: String,
    /// Time from spawning the process to reading its ready line.
    pub ready_after: Duration,
    /// The `ready in N ms` the stack printed itself.
    pub reported_ready_ms: Option<u64>,
    /// The stack's console (stdout and stderr).
    pub log_path: PathBuf,
    // Holds the data directory and the log for the stack's life.
    _dir: tempfile::TempDir,
}

impl StackProcess {
    /// Spawns the release stack on a free port with `--time-scale 0` and a
    /// fresh data directory, and waits for its ready line.
    pub fn start(bins: &Binaries) -> Result<StackProcess, String> {
        Self::start_with(bins, &[])
    }

    /// [`StackProcess::start`] with extra `wsflow up` flags (after those of
    /// `STACK_BENCH_UP_ARGS`, so these win).
    pub fn start_with(bins: &Binaries, extra: &[&str]) -> Result<StackProcess, String> {
        let dir = tempfile::tempdir().map_err(|e| format!("temp dir: {e}"))?;
        let log_path = dir.path().join("stack.log");
        let log = File::create(&log_path).map_err(|e| format!("log file: {e}"))?;
        let stderr = log.try_clone().map_err(|e| format!("log file: {e}"))?;
        let spawned_at = Instant::now();
        let mut child = Command::new(&bins.wsflow)
            .current_dir(&bins.workspace)
            .args(["up", "--port", "0", "--time-scale", "0"])
            .arg("--data-dir")
            .arg(dir.path().join("data"))
            .arg("--functions-dir")
            .arg(&bins.functions_dir)
            // Extra `wsflow up` flags to measure, e.g. `--function-concurrency 8`.
            .args(
                std::env::var("STACK_BENCH_UP_ARGS")
                    .unwrap_or_default()
                    .split_whitespace(),
            )
            .args(extra)
            // The CLI's default log level, as a user gets it.
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(stderr))
            .spawn()
            .map_err(|e| format!("spawn {}: {e}", bins.wsflow.display()))?;
        let stdout = child.stdout.take();
        let mut stack = StackProcess {
            child,
            addr: String::new(),
            stage: String::new(),
            ready_after: Duration::ZERO,
            reported_ready_ms: None,
            log_path,
            _dir: dir,
        };
        let stdout = stdout.ok_or("the stack's stdout was not piped")?;
        let (tx, rx) = mpsc::channel::<(Instant, String)>();
        // Reads the ready line, then keeps draining stdout into the log so the
        // stack never blocks on a full pipe; ends when the stack exits.
        thread::spawn(move || {
            let mut log = log;
            let mut told = false;
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if !told && line.contains("ready") && line.contains("ws://") {
                    told = tx.send((Instant::now(), line.clone())).is_ok();
                }
                let _ = writeln!(log, "{line}");
            }
        });
        let (at, line) = rx.recv_timeout(READY_TIMEOUT).map_err(|_| {
            format!(
                "the stack printed no ready line within {READY_TIMEOUT:?}; its log: {}",
                stack.log_tail(20)
            )
        })?;
        stack.ready_after = at.duration_since(spawned_at);
        let url = line
            .split_whitespace()
            .find(|w| w.starts_with("ws://"))
            .ok_or_else(|| format!("no URL in the ready line {line:?}"))?;
        let rest = url.trim_start_matches("ws://");
        let (addr, stage) = rest.split_once('/').unwrap_or((rest, ""));
        stack.addr = addr.to_owned();
        stack.stage = stage.trim_end_matches('/').to_owned();
        // "wsflow ready in <N> ms: ws://..."
        stack.reported_ready_ms = line
            .split_once("ready in ")
            .and_then(|(_, tail)| tail.split_whitespace().next())
            .and_then(|n| n.parse().ok());
        Ok(stack)
    }

    /// `ws://127.0.0.1:<port>/<stage>`.
    pub fn ws_url(&self) -> String {
        format!("ws://{}/{}", self.addr, self.stage)
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `VmRSS` of the stack process (not its function processes), in KiB.
    pub fn rss_kb(&self) -> Result<u64, String> {
        let path = format!("/proc/{}/status", self.pid());
        let status = std::fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| format!("no VmRSS in {path}"))
    }

    /// CPU time used so far by the stack, by its function processes (its
    /// children, per pid) and by this bench process.
    pub fn cpu(&self) -> Cpu {
        let stack = self.pid();
        let mut functions = BTreeMap::new();
        if let Ok(entries) = std::fs::read_dir("/proc") {
            for entry in entries.flatten() {
                let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse().ok()) else {
                    continue;
                };
                if let Some((ppid, ticks)) = stat(pid)
                    && ppid == stack
                {
                    functions.insert(pid, ticks);
                }
            }
        }
        Cpu {
            stack: stat(stack).map_or(0, |(_, t)| t),
            functions,
            bench: stat(std::process::id()).map_or(0, |(_, t)| t),
        }
    }

    /// Number of lines in the stack's console log so far.
    pub fn log_lines(&self) -> usize {
        std::fs::read(&self.log_path)
            .map(|b| b.iter().filter(|&&c| c == b'\n').count())
            .unwrap_or(0)
    }

    /// The last `n` lines of the stack's console log.
    pub fn log_tail(&self, n: usize) -> String {
        let text = std::fs::read_to_string(&self.log_path).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(n)..].join("\n")
    }

    /// SIGTERM (the stack's clean shutdown), then SIGKILL after
    /// [`STOP_TIMEOUT`]; returns how long the stop took.
    pub fn stop(&mut self) -> Duration {
        let began = Instant::now();
        if let Ok(Some(_)) = self.child.try_wait() {
            return Duration::ZERO;
        }
        let pid = self.pid().to_string();
        // std has no way to send SIGTERM without `unsafe`/libc: use kill(1).
        let _ = Command::new("kill")
            .args(["-TERM", &pid])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        while began.elapsed() < STOP_TIMEOUT {
            if let Ok(Some(_)) = self.child.try_wait() {
                return began.elapsed();
            }
            thread::sleep(Duration::from_millis(20));
        }
        eprintln!("bench: the stack ignored SIGTERM for {STOP_TIMEOUT:?}; killing it");
        let _ = self.child.kill();
        let _ = self.child.wait();
        began.elapsed()
    }
}

/// CPU time in clock ticks (user + system), see [`StackProcess::cpu`].
pub struct Cpu {
    stack: u64,
    functions: BTreeMap<u32, u64>,
    bench: u64,
}

/// CPU seconds used between two [`Cpu`] snapshots.
pub struct CpuUse {
    /// By the stack process.
    pub stack: f64,
    /// By the function processes (those alive at the second snapshot).
    pub functions: f64,
    /// By the bench (the WebSocket clients).
    pub bench: f64,
}

impl Cpu {
    /// What was used from `self` to `later`.
    pub fn until(&self, later: &Cpu) -> CpuUse {
        let tick = 1.0 / clock_ticks_per_second();
        let functions: u64 = later
            .functions
            .iter()
            .map(|(pid, t)| t.saturating_sub(self.functions.get(pid).copied().unwrap_or(0)))
            .sum();
        CpuUse {
            stack: later.stack.saturating_sub(self.stack) as f64 * tick,
            functions: functions as f64 * tick,
            bench: later.bench.saturating_sub(self.bench) as f64 * tick,
        }
    }
}

/// Parent pid and utime + stime (clock ticks) from `/proc/<pid>/stat`.
fn stat(pid: u32) -> Option<(u32, u64)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses.
    let (_, rest) = text.rsplit_once(')')?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ppid = fields.get(1)?.parse().ok()?;
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((ppid, utime + stime))
}

/// `CLK_TCK` (std has no sysconf without libc: ask getconf(1); Linux uses 100).
fn clock_ticks_per_second() -> f64 {
    static TICKS: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| s.trim().parse().ok())
            .filter(|&t: &f64| t > 0.0)
            .unwrap_or(100.0)
    })
}

impl Drop for StackProcess {
    fn drop(&mut self) {
        self.stop();
    }
}
