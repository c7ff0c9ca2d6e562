//! `wsflow up --watch` on functions and routes, with one WebSocket client kept
//! open throughout: an edited function source is rebuilt by cargo and its
//! reply changes; a broken edit prints cargo's error and the old binary keeps
//! answering; a template edit pointing a route at another function changes
//! the reply on the same connection; a template the stack cannot serve is
//! refused and the last good routes keep serving.
//!
//! The app is `tests/fixtures/reload-app` copied to a temporary directory:
//! its own cargo workspace with one std-only function crate, so the rebuilds
//! are real (small) cargo builds.

mod support;

use std::path::Path;
use std::time::Duration;

use support::{Client, Stack, StackOptions, connect, recv, send};

/// A copy of the fixture app; the binary gets a name of its own, so a
/// `--functions-dir` shared by the tests never holds a prebuilt copy of it.
fn app_copy(bin: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let fixture = support::workspace().join("tests/fixtures/reload-app");
    std::fs::create_dir(dir.path().join("src")).unwrap();
    for f in ["template.yaml", "Cargo.toml", "src/main.rs"] {
        let text = std::fs::read_to_string(fixture.join(f)).unwrap();
        std::fs::write(dir.path().join(f), text.replace("reload-fn", bin)).unwrap();
    }
    dir
}

/// Rewrites `file`, replacing `from` (which must occur) with `to`.
fn edit(file: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(file).unwrap();
    assert!(text.contains(from), "{from:?} not in {}", file.display());
    std::fs::write(file, text.replace(from, to)).unwrap();
}

/// The lines the stack prints up to the first containing `what`.
fn lines_until(stack: &Stack, what: &str, secs: u64) -> Vec<String> {
    let deadline = std::time::Instant::now() + Duration::from_secs(secs);
    let mut seen = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match stack.log.recv_timeout(left) {
            Ok(line) => {
                let done = line.contains(what);
                seen.push(line);
                if done {
                    return seen;
                }
            }
            Err(_) => panic!("no log line with {what:?} within {secs} s; saw {seen:#?}"),
        }
    }
}

/// Sends `{"action": action}` and returns the reply.
async fn ask(ws: &mut Client, action: &str) -> String {
    send(ws, &format!(r#"{{"action":"{action}"}}"#)).await;
    recv(ws, 30).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn function_and_template_edits_reload_with_the_connection_open() {
    let bin = format!("reload-fn-{}", std::process::id());
    let app = app_copy(&bin);
    let template = app.path().join("template.yaml");
    let main_rs = app.path().join("src/main.rs");
    let stack = Stack::start_with(StackOptions {
        template: template.to_str().unwrap(),
        time_scale: 0.0,
        extra: vec!["--watch".into()],
    });
    lines_until(&stack, "watching the sources of 1 function binary", 60);
    let mut ws = connect(&stack.ws_url()).await;
    assert_eq!(ask(&mut ws, "hello").await, "v1 from wsflow-FnA");
    assert_eq!(ask(&mut ws, "which").await, "v1 from wsflow-FnA");

    // An edited source: rebuilt, swapped in, both functions of the binary.
    edit(
        &main_rs,
        r#"const REPLY: &str = "v1";"#,
        r#"const REPLY: &str = "v2";"#,
    );
    let line = lines_until(&stack, "reloaded function", 300).pop().unwrap();
    assert!(
        line.contains("FnA") && line.contains("FnB") && line.contains("built in"),
        "{line}"
    );
    assert_eq!(ask(&mut ws, "hello").await, "v2 from wsflow-FnA");

    // A broken edit: cargo's error is printed, the previous binary answers.
    edit(
        &main_rs,
        r#"const REPLY: &str = "v2";"#,
        r#"const REPLY: &str = 3;"#,
    );
    let lines = lines_until(&stack, "rebuild of function", 300);
    let failed = lines.last().unwrap();
    assert!(
        failed.contains("failed") && failed.contains("previous binary keeps serving"),
        "{failed}"
    );
    assert!(
        lines.iter().any(|l| l.contains("error[E0308]")),
        "cargo's error was not printed: {lines:#?}"
    );
    assert_eq!(ask(&mut ws, "hello").await, "v2 from wsflow-FnA");
    edit(
        &main_rs,
        r#"const REPLY: &str = 3;"#,
        r#"const REPLY: &str = "v3";"#,
    );
    lines_until(&stack, "reloaded function", 300);
    assert_eq!(ask(&mut ws, "hello").await, "v3 from wsflow-FnA");

    // A template edit: the `which` route's integration now calls FnB.
    edit(
        &template,
        "${FnA.Arn}/invocations\" # which-target",
        "${FnB.Arn}/invocations\" # which-target",
    );
    let line = lines_until(&stack, "wsflow: reloaded template.yaml", 30)
        .pop()
        .unwrap();
    assert!(line.contains("routes and integrations reloaded"), "{line}");
    assert_eq!(ask(&mut ws, "which").await, "v3 from wsflow-FnB");
    assert_eq!(ask(&mut ws, "hello").await, "v3 from wsflow-FnA");

    // A template the stack cannot serve: the error, and the last good routes.
    edit(
        &template,
        "${FnB.Arn}/invocations\" # which-target",
        "${Missing.Arn}/invocations\" # which-target",
    );
    let line = lines_until(&stack, "reload of template.yaml failed", 30)
        .pop()
        .unwrap();
    assert!(
        line.contains("Missing") && line.contains("last good version keeps serving"),
        "{line}"
    );
    assert_eq!(ask(&mut ws, "which").await, "v3 from wsflow-FnB");
}
