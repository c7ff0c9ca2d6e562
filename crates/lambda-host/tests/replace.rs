//! [`LambdaHost::replace_executable`] against the real fixture binary: new
//! invocations run the new executable, an invocation in flight finishes on
//! the old process, and the old processes are stopped (idle ones at once,
//! the busy one once it has answered).

use std::{
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use serde_json::{Value, json};
use wsflow_lambda_host::{FunctionSpec, HostError, HostOptions, LambdaHost, LogSink};

const FIXTURE: &str = env!("CARGO_BIN_EXE_wsflow-fixture-fn");

fn pid_alive(pid: u32) -> bool {
    // A reaped process has no /proc entry; a zombie would still have one.
    Path::new(&format!("/proc/{pid}")).exists()
}

async fn wait_dead(pid: u32) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while pid_alive(pid) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(!pid_alive(pid), "retired process {pid} still running");
}

/// `(pid, working directory)` of the process that served an `env` call: the
/// host starts each process in its executable's directory.
async fn served_by(host: &LambdaHost) -> (u32, PathBuf) {
    let out = host
        .invoke("Fn", json!({"action": "env", "names": []}))
        .await
        .unwrap();
    (
        u32::try_from(out["pid"].as_u64().unwrap()).unwrap(),
        PathBuf::from(out["cwd"].as_str().unwrap()),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replaced_executable_serves_new_invocations_and_old_processes_retire() {
    let options = HostOptions {
        log_sink: LogSink::Capture(std::sync::Arc::new(|_| {})),
        ..HostOptions::default()
    };
    let host = LambdaHost::start(vec![FunctionSpec::new("Fn", FIXTURE)], options)
        .await
        .unwrap();
    let old_dir = std::fs::canonicalize(Path::new(FIXTURE).parent().unwrap()).unwrap();

    // One process busy with a slow invocation, one idle and warm.
    let slow = {
        let host = host.clone();
        tokio::spawn(async move {
            host.invoke("Fn", json!({"action": "sleep", "ms": 1500}))
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (idle_pid, dir) = served_by(&host).await;
    assert_eq!(std::fs::canonicalize(dir).unwrap(), old_dir);
    let pids = host.process_ids("Fn");
    assert_eq!(pids.len(), 2, "{pids:?}");
    let busy_pid = *pids.iter().find(|p| **p != idle_pid).unwrap();

    // The new executable: a copy in another directory.
    let new_dir = std::env::temp_dir().join(format!("wsflow-replace-{}", std::process::id()));
    std::fs::create_dir_all(&new_dir).unwrap();
    let new_exe = new_dir.join("bootstrap");
    std::fs::copy(FIXTURE, &new_exe).unwrap();
    host.replace_executable("Fn", &new_exe).unwrap();

    // The idle process is stopped at once; the busy one still answers.
    wait_dead(idle_pid).await;
    assert!(
        pid_alive(busy_pid),
        "the busy process was killed mid-invocation"
    );
    let (new_pid, dir) = served_by(&host).await;
    assert_eq!(
        std::fs::canonicalize(dir).unwrap(),
        std::fs::canonicalize(&new_dir).unwrap()
    );
    assert!(new_pid != idle_pid && new_pid != busy_pid);
    let slept: Value = slow.await.unwrap().unwrap();
    assert_eq!(slept["slept"], 1500);
    assert_eq!(slept["pid"].as_u64(), Some(u64::from(busy_pid)));
    // Back from its invocation, the old process is retired, not reused.
    wait_dead(busy_pid).await;
    assert_eq!(served_by(&host).await.0, new_pid);
    assert_eq!(host.process_ids("Fn"), vec![new_pid]);

    // Refusals: an unknown function, a missing file.
    assert!(matches!(
        host.replace_executable("Nope", &new_exe),
        Err(HostError::UnknownFunction(_))
    ));
    assert!(matches!(
        host.replace_executable("Fn", new_dir.join("missing")),
        Err(HostError::ExecutableNotFound { .. })
    ));
    host.shutdown().await;
    std::fs::remove_dir_all(&new_dir).unwrap();
}

/// The `FIXTURE_GREETING` variable as the serving process sees it, and its pid.
async fn greeting(host: &LambdaHost, function: &str) -> (Value, u32) {
    let out = host
        .invoke(
            function,
            json!({"action": "env", "names": ["FIXTURE_GREETING"]}),
        )
        .await
        .unwrap();
    (
        out["env"]["FIXTURE_GREETING"].clone(),
        u32::try_from(out["pid"].as_u64().unwrap()).unwrap(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn functions_are_added_updated_and_removed_while_serving() {
    let options = HostOptions {
        log_sink: LogSink::Capture(std::sync::Arc::new(|_| {})),
        ..HostOptions::default()
    };
    let host = LambdaHost::start(vec![FunctionSpec::new("Fn", FIXTURE)], options)
        .await
        .unwrap();

    // Added: invocable at once, under its ARN too.
    let mut added = FunctionSpec::new("Added", FIXTURE);
    added
        .environment
        .insert("FIXTURE_GREETING".into(), "hi".into());
    host.add_function(added.clone()).unwrap();
    assert_eq!(host.function_names(), ["Added", "Fn"]);
    let (hi, old_pid) = greeting(&host, "Added").await;
    assert_eq!(hi, "hi");
    assert!(matches!(
        host.add_function(added.clone()),
        Err(HostError::DuplicateFunction(_))
    ));

    // Updated: the next invocation runs a new process with the new
    // environment and timeout; the idle old one stops.
    let mut updated = added.clone();
    updated
        .environment
        .insert("FIXTURE_GREETING".into(), "hello".into());
    updated.timeout = Duration::from_secs(1);
    host.update_function(updated).unwrap();
    wait_dead(old_pid).await;
    let (hello, new_pid) = greeting(&host, "Added").await;
    assert_eq!(hello, "hello");
    assert_ne!(new_pid, old_pid);
    assert_eq!(
        host.function_spec("Added").unwrap().timeout,
        Duration::from_secs(1)
    );
    // The new timeout applies: a 1.5 s invocation is cut at 1 s.
    let err = host
        .invoke("Added", json!({"action": "sleep", "ms": 1500}))
        .await
        .unwrap_err();
    assert!(format!("{err:?}").contains("Task timed out"), "{err:?}");

    // Removed while an invocation runs: it finishes on its process, which
    // then stops, and the function is gone.
    let (_, pid) = greeting(&host, "Fn").await;
    let slow = {
        let host = host.clone();
        tokio::spawn(async move {
            host.invoke("Fn", json!({"action": "sleep", "ms": 800}))
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    host.remove_function("Fn").unwrap();
    assert!(pid_alive(pid), "the busy process was killed mid-invocation");
    let slept = slow.await.unwrap().unwrap();
    assert_eq!(slept["slept"], 800);
    assert_eq!(slept["pid"].as_u64(), Some(u64::from(pid)));
    wait_dead(pid).await;
    let gone = host.invoke("Fn", json!({})).await.unwrap_err();
    assert!(
        format!("{gone:?}").contains("ResourceNotFoundException"),
        "{gone:?}"
    );
    assert_eq!(host.function_names(), ["Added"]);
    assert!(matches!(
        host.remove_function("Fn"),
        Err(HostError::UnknownFunction(_))
    ));
    assert!(matches!(
        host.update_function(FunctionSpec::new("Nope", FIXTURE)),
        Err(HostError::UnknownFunction(_))
    ));
    host.shutdown().await;
}
