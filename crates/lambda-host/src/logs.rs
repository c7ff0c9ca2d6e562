//! Function logs: each process's stdout and stderr, line by line, plus
//! Lambda's platform lines (`START`, `END`, `REPORT`, timeouts, crashes),
//! delivered to a [`LogSink`] tagged with the function's name.

use std::{fmt, io::Write, sync::Arc, time::Duration};

use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};

/// Which stream a log line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogStream {
    /// The process's standard output.
    Stdout,
    /// The process's standard error.
    Stderr,
    /// A line written by the host itself, as Lambda's platform does.
    Platform,
}

/// One log line of a function.
#[derive(Debug, Clone, Copy)]
pub struct LogLine<'a> {
    /// The function's name.
    pub function: &'a str,
    /// Where the line came from.
    pub stream: LogStream,
    /// The line, without its line break.
    pub line: &'a str,
}

/// Where function logs go.
#[derive(Clone, Default)]
pub enum LogSink {
    /// Straight to the console (stderr), one write per line, prefixed with
    /// `[FunctionName] ` when [`crate::HostOptions::log_prefix`] is set.
    #[default]
    Console,
    /// As `tracing` events (target `lambda`, field `function`).
    Tracing,
    /// To a callback (tests, embedding).
    Capture(Arc<dyn Fn(&LogLine<'_>) + Send + Sync>),
    /// Nowhere (benchmarks).
    Discard,
}

impl fmt::Debug for LogSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Console => "Console",
            Self::Tracing => "Tracing",
            Self::Capture(_) => "Capture",
            Self::Discard => "Discard",
        })
    }
}

/// A sink bound to one function.
#[derive(Debug, Clone)]
pub(crate) struct FunctionLog {
    pub(crate) function: Arc<str>,
    pub(crate) sink: LogSink,
    pub(crate) prefix: bool,
    pub(crate) platform: bool,
}

impl FunctionLog {
    /// Whether lines are kept at all (skips formatting when not).
    pub(crate) fn enabled(&self) -> bool {
        !matches!(self.sink, LogSink::Discard)
    }

    /// Whether platform lines are wanted.
    pub(crate) fn platform_enabled(&self) -> bool {
        self.platform && self.enabled()
    }

    pub(crate) fn emit(&self, stream: LogStream, line: &str) {
        self.emit_lines(stream, &[line]);
    }

    /// Emits `lines` in order; on the console as one write (one system call
    /// for e.g. `END` + `REPORT`, and no other line can come between them).
    pub(crate) fn emit_lines(&self, stream: LogStream, lines: &[&str]) {
        match &self.sink {
            LogSink::Console => {
                let mut text = String::with_capacity(lines.iter().map(|l| l.len() + 40).sum());
                for line in lines {
                    if self.prefix {
                        text.push('[');
                        text.push_str(&self.function);
                        text.push_str("] ");
                    }
                    text.push_str(line);
                    text.push('\n');
                }
                // One write per call so lines of concurrent processes do not
                // interleave; a closed stderr is not the function's problem.
                let _ = std::io::stderr().lock().write_all(text.as_bytes());
            }
            _ => {
                for line in lines {
                    self.emit_one(stream, line);
                }
            }
        }
    }

    fn emit_one(&self, stream: LogStream, line: &str) {
        match &self.sink {
            LogSink::Console => self.emit_lines(stream, &[line]),
            LogSink::Tracing => {
                tracing::info!(target: "lambda", function = %self.function, "{line}")
            }
            LogSink::Capture(f) => f(&LogLine {
                function: &self.function,
                stream,
                line,
            }),
            LogSink::Discard => {}
        }
    }

    pub(crate) fn platform(&self, line: &str) {
        if self.platform_enabled() {
            self.emit(LogStream::Platform, line);
        }
    }

    /// `START RequestId: … Version: $LATEST`.
    pub(crate) fn start(&self, request_id: &str) {
        if self.platform_enabled() {
            self.platform(&format!("START RequestId: {request_id} Version: $LATEST"));
        }
    }

    /// `END RequestId: …` and `REPORT RequestId: … Duration: …`.
    pub(crate) fn end(&self, report: &Report<'_>) {
        if !self.platform_enabled() {
            return;
        }
        let end = format!("END RequestId: {}", report.request_id);
        let ms = report.duration.as_secs_f64() * 1000.0;
        let mut line = format!(
            "REPORT RequestId: {}\tDuration: {ms:.2} ms\tBilled Duration: {} ms\tMemory Size: {} MB\tMax Memory Used: {} MB",
            report.request_id,
            ms.ceil() as u64,
            report.memory_mb,
            report.max_memory_mb.unwrap_or(0),
        );
        if let Some(init) = report.init_duration {
            line.push_str(&format!(
                "\tInit Duration: {:.2} ms",
                init.as_secs_f64() * 1000.0
            ));
        }
        self.emit_lines(LogStream::Platform, &[&end, &line]);
    }
}

/// The figures of a `REPORT` line.
pub(crate) struct Report<'a> {
    pub(crate) request_id: &'a str,
    pub(crate) duration: Duration,
    pub(crate) memory_mb: u32,
    pub(crate) max_memory_mb: Option<u64>,
    pub(crate) init_duration: Option<Duration>,
}

/// The peak resident memory of a process in MB (`VmHWM` of
/// `/proc/<pid>/status`), what Lambda reports as "Max Memory Used".
pub(crate) fn max_memory_mb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line
        .trim_start_matches("VmHWM:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb.div_ceil(1024))
}

/// Forwards every line of `pipe` to `log` until end of file.
pub(crate) async fn pump(pipe: impl AsyncRead + Unpin, log: FunctionLog, stream: LogStream) {
    let mut reader = BufReader::new(pipe);
    let mut buf = Vec::with_capacity(256);
    loop {
        buf.clear();
        match reader.read_until(b'\n', &mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {
                if log.enabled() {
                    let text = String::from_utf8_lossy(&buf);
                    log.emit(stream, text.trim_end_matches(['\n', '\r']));
                }
            }
        }
    }
}
