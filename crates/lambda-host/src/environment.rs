//! The environment a function process starts with: what Lambda sets for an
//! OS-only runtime (`provided.al2023`), then the host's extra variables, then
//! the template's `Environment`.
//!
//! Lambda starts the runtime with a clean environment, so the host's own
//! variables are not inherited (except those listed in
//! [`crate::HostOptions::pass_through_env`]). `AWS_EXECUTION_ENV` is not set:
//! Lambda defines it only for managed runtimes, not for the `provided`
//! family. The credentials are dummies so AWS SDKs inside the function sign
//! requests to the local stack without looking further.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::{FunctionSpec, HostOptions};

/// The reserved variables, in the order Lambda documents them.
pub(crate) fn lambda_environment(
    spec: &FunctionSpec,
    options: &HostOptions,
    runtime_api: &str,
    log_stream: &str,
) -> Vec<(String, String)> {
    let task_root = spec.task_root().display().to_string();
    let mut env: Vec<(String, String)> = vec![
        ("_HANDLER".into(), spec.handler.clone()),
        ("AWS_REGION".into(), options.region.clone()),
        ("AWS_DEFAULT_REGION".into(), options.region.clone()),
        ("AWS_LAMBDA_FUNCTION_NAME".into(), spec.name.clone()),
        (
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE".into(),
            spec.memory_mb.to_string(),
        ),
        ("AWS_LAMBDA_FUNCTION_VERSION".into(), "$LATEST".into()),
        ("AWS_LAMBDA_INITIALIZATION_TYPE".into(), "on-demand".into()),
        (
            "AWS_LAMBDA_LOG_GROUP_NAME".into(),
            format!("/aws/lambda/{}", spec.name),
        ),
        ("AWS_LAMBDA_LOG_STREAM_NAME".into(), log_stream.into()),
        ("AWS_LAMBDA_RUNTIME_API".into(), runtime_api.into()),
        ("AWS_ACCESS_KEY_ID".into(), "ASIAWSFLOWLOCAL00000".into()),
        (
            "AWS_SECRET_ACCESS_KEY".into(),
            "wsflow-local-secret-access-key-not-secret".into(),
        ),
        (
            "AWS_SESSION_TOKEN".into(),
            "wsflow-local-session-token".into(),
        ),
        ("LAMBDA_TASK_ROOT".into(), task_root.clone()),
        ("LAMBDA_RUNTIME_DIR".into(), task_root),
        ("TZ".into(), ":UTC".into()),
        ("LANG".into(), "en_US.UTF-8".into()),
        (
            "PATH".into(),
            "/usr/local/bin:/usr/bin/:/bin:/opt/bin".into(),
        ),
        (
            "LD_LIBRARY_PATH".into(),
            "/lib64:/usr/lib64:/opt/lib".into(),
        ),
    ];
    for name in &options.pass_through_env {
        if let Ok(value) = std::env::var(name) {
            env.push((name.clone(), value));
        }
    }
    env.extend(
        options
            .extra_environment
            .iter()
            .chain(&spec.environment)
            .map(|(k, v)| (k.clone(), v.clone())),
    );
    env
}

/// A log stream name like Lambda's: `2026/11/22/[$LATEST]<32 hex digits>`.
pub(crate) fn log_stream_name() -> String {
    let days = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() / 86_400)
        .unwrap_or(0) as i64;
    let (y, m, d) = civil_from_days(days);
    let id = crate::request_id::new_request_id().replace('-', "");
    format!("{y:04}/{m:02}/{d:02}/[$LATEST]{id}")
}

/// Howard Hinnant's days-to-civil-date algorithm (proleptic Gregorian).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20_414), (2025, 11, 22));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
    }

    #[test]
    fn template_environment_wins_over_extras() {
        let mut spec = FunctionSpec::new("Echo", "/opt/fn/bootstrap");
        spec.environment.insert("TABLE".into(), "t1".into());
        spec.environment
            .insert("SHARED".into(), "from-template".into());
        let mut options = HostOptions::default();
        options.pass_through_env.clear();
        options
            .extra_environment
            .insert("SHARED".into(), "from-host".into());
        let env = lambda_environment(&spec, &options, "127.0.0.1:9001", "s");
        let last = |k: &str| {
            env.iter()
                .rev()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(last("SHARED"), Some("from-template"));
        assert_eq!(last("TABLE"), Some("t1"));
        assert_eq!(last("AWS_LAMBDA_RUNTIME_API"), Some("127.0.0.1:9001"));
        assert_eq!(last("LAMBDA_TASK_ROOT"), Some("/opt/fn"));
        assert_eq!(last("AWS_EXECUTION_ENV"), None);
        assert!(log_stream_name().contains("/[$LATEST]"));
    }
}
