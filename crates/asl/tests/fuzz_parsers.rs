//! No panic, no hang, on any input: property tests of every parser the
//! engine feeds with user text (definitions, JSONPath, intrinsic functions,
//! JSONata), each case run under a watchdog (`wsflow_fuzz_kit::bounded`).
//!
//! Definitions come from mutating the real ones (`statemachines/*.asl.json`
//! and every definition in `../shared/conformance`), from token soups and
//! from deep nesting; what parses is then *run* on random input with tasks
//! that answer or fail at random, a clock that jumps, and a budget of
//! history events (a definition may legitimately loop forever: the budget
//! ends it, a hang inside one step still fails the case).
//!
//! Case counts: `PROPTEST_CASES` (default per test below); e.g.
//! `PROPTEST_CASES=20000 cargo test -p wsflow-asl --test fuzz_parsers --release`.

use proptest::prelude::*;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use wsflow_asl::path::JsonPath;
use wsflow_asl::{
    BoxFuture, Clock, ExecutionContext, ExecutionStatus, HistoryEvent, HistorySink, Severity,
    StateMachine, TaskCall, TaskFailure, TaskInvoker,
};
use wsflow_fuzz_kit::{bounded, config, generate, preview};

// ---------------------------------------------------------------- corpus

/// Every definition the repository and the conformance cases hold.
fn corpus() -> &'static [Value] {
    static CORPUS: OnceLock<Vec<Value>> = OnceLock::new();
    CORPUS.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let mut files: Vec<PathBuf> = std::fs::read_dir(root.join("statemachines"))
            .expect("statemachines/")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
            let Ok(rd) = std::fs::read_dir(dir) else {
                return;
            };
            for e in rd.flatten() {
                let p = e.path();
                if p.is_dir() {
                    walk(&p, out);
                } else if p.extension().is_some_and(|x| x == "json") {
                    out.push(p);
                }
            }
        }
        walk(&root.join("../shared/conformance"), &mut files);
        files.sort();
        let defs: Vec<Value> = files
            .iter()
            .filter_map(|f| serde_json::from_str::<Value>(&std::fs::read_to_string(f).ok()?).ok())
            .map(|v| match v.get("definition") {
                Some(d) => d.clone(),
                None => v,
            })
            .filter(|d| d.get("States").is_some())
            .collect();
        assert!(
            defs.len() >= 2,
            "no definitions found (statemachines/ and ../shared/conformance)"
        );
        defs
    })
}

// ---------------------------------------------------------------- engine rig

/// Ends a run that has used up its event budget (not a failure: the
/// definition loops, which AWS allows).
struct Budget;

/// Silences the budget's own unwinding; every other panic prints as usual.
fn quiet_budget_panics() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if info.payload().downcast_ref::<Budget>().is_none() {
                previous(info);
            }
        }));
    });
}

const EVENT_BUDGET: u64 = 3_000;

/// Counts history events and unwinds with [`Budget`] past [`EVENT_BUDGET`].
#[derive(Default)]
struct CountingHistory(AtomicU64);

impl HistorySink for CountingHistory {
    fn record(&self, _event: HistoryEvent) {
        if self.0.fetch_add(1, Ordering::Relaxed) > EVENT_BUDGET {
            std::panic::panic_any(Budget);
        }
    }
}

/// Jumps to every deadline at once.
#[derive(Default)]
struct JumpClock(AtomicI64);

impl Clock for JumpClock {
    fn now_millis(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
    fn sleep_until<'a>(&'a self, deadline: i64) -> BoxFuture<'a, ()> {
        self.0.fetch_max(deadline, Ordering::SeqCst);
        Box::pin(async {})
    }
}

/// Answers each task call from a seed: its payload, a random document, or
/// a failure (retried and caught by the definitions that say so).
struct SeededTasks {
    seed: u64,
    calls: AtomicU64,
    reply: Value,
}

impl TaskInvoker for SeededTasks {
    fn invoke<'a>(&'a self, call: TaskCall) -> BoxFuture<'a, Result<Value, TaskFailure>> {
        let n = self.calls.fetch_add(1, Ordering::Relaxed);
        if n > EVENT_BUDGET {
            std::panic::panic_any(Budget);
        }
        let r = match (self.seed >> (n % 32)) % 4 {
            0 => Ok(call.payload),
            1 => Ok(self.reply.clone()),
            2 => Err(TaskFailure::new("States.TaskFailed", "random failure")),
            _ => Err(TaskFailure::new("Custom.Error", "")),
        };
        Box::pin(async move { r })
    }
}

/// What a bounded run ended with.
#[derive(Debug, PartialEq)]
enum Run {
    Done(ExecutionStatus, Option<Value>, Option<String>),
    OverBudget,
}

/// Runs `m` on `input` to the end or its event budget, and checks the
/// outcome is well-formed.
fn run(m: &StateMachine, input: Value, seed: u64, reply: Value) -> Run {
    quiet_budget_panics();
    let tasks = SeededTasks {
        seed,
        calls: AtomicU64::new(0),
        reply,
    };
    let clock = JumpClock::default();
    let history = CountingHistory::default();
    let ctx = ExecutionContext::local("fuzz", "run", 0);
    let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        futures_lite_block_on(wsflow_asl::run_execution(
            m,
            input,
            ctx,
            &tasks,
            &clock,
            Some(&history),
        ))
    }));
    match out {
        Ok(o) => {
            match o.status {
                ExecutionStatus::Succeeded => {
                    assert!(o.output.is_some(), "succeeded without output")
                }
                ExecutionStatus::TimedOut => {
                    assert!(o.error.is_some(), "timed out without an error name: {o:?}")
                }
                _ => {}
            }
            Run::Done(o.status, o.output, o.error)
        }
        Err(p) if p.downcast_ref::<Budget>().is_some() => Run::OverBudget,
        Err(p) => std::panic::resume_unwind(p),
    }
}

/// A minimal executor: the engine's futures only wait on the clock and the
/// tasks above, which are always ready.
fn futures_lite_block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime")
        .block_on(f)
}

/// Parses `text` the two ways the API does and checks they agree: a
/// definition parses exactly when validation reports no error, and a
/// rejected one says why.
fn parse_checked(text: &str) -> Option<StateMachine> {
    let parsed = StateMachine::parse(text);
    let diags = wsflow_asl::validate(text);
    let errors = diags
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    for d in &diags {
        assert!(
            !d.code.is_empty() && !d.message.is_empty(),
            "empty diagnostic {d:?}"
        );
    }
    match parsed {
        Ok(m) => {
            assert_eq!(errors, 0, "parsed, yet validate reports {diags:?}");
            Some(m)
        }
        Err(e) => {
            assert!(
                !e.diagnostics.is_empty(),
                "rejected without a diagnostic (validate says {diags:?})"
            );
            assert!(
                errors > 0 || text.trim().is_empty(),
                "rejected with {:?}, yet validate reports no error",
                e.diagnostics
            );
            None
        }
    }
}

/// Parses, and when the definition is valid runs it on `input`.
fn parse_and_run(text: String, input: Value, seed: u64) -> Option<Run> {
    let what = format!("definition {} on input {input}", preview(&text, 2000));
    bounded(&what, move || {
        parse_checked(&text).map(|m| run(&m, input, seed, json!({"a": [1, {"b": "c"}]})))
    })
}

/// A one-state machine around `state` (a Pass, usually).
fn one_state(state: Value) -> String {
    json!({"StartAt": "S", "States": {"S": state}}).to_string()
}

// ---------------------------------------------------------------- JSONPath

const FIELDS: &[&str] = &[
    "a", "b", "items", "0", "x y", "é", "😀", "a-b", "$", "length",
];

fn field() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => proptest::sample::select(FIELDS).prop_map(str::to_owned),
        1 => generate::name(),
    ]
}

fn quoted(name: &str, quote: char) -> String {
    let escaped = name
        .replace('\\', "\\\\")
        .replace(quote, &format!("\\{quote}"));
    format!("[{quote}{escaped}{quote}]")
}

fn literal() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<i32>().prop_map(|n| n.to_string()),
        Just("1.5e3".to_owned()),
        field().prop_map(|f| quoted(&f, '\'')[1..quoted(&f, '\'').len() - 1].to_owned()),
        Just("true".to_owned()),
        Just("null".to_owned()),
        Just("$.a".to_owned()),
        Just("/a.*b/".to_owned()),
    ]
}

fn filter() -> impl Strategy<Value = String> {
    let cmp = (
        field(),
        proptest::sample::select(&["==", "!=", "<", "<=", ">", ">=", "=~", " in ", ""][..]),
        literal(),
    )
        .prop_map(|(f, op, lit)| format!("@.{f} {op} {lit}"));
    let leaf = prop_oneof![cmp, field().prop_map(|f| format!("@.{f}"))];
    leaf.prop_recursive(3, 8, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} && {b}")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} || {b}")),
            inner.clone().prop_map(|a| format!("!({a})")),
            inner.prop_map(|a| format!("({a})")),
        ]
    })
}

/// One path segment, valid or nearly so.
fn segment() -> impl Strategy<Value = String> {
    let int = || -5i64..20;
    let opt = move || proptest::option::of(int());
    let show = |o: Option<i64>| o.map(|n| n.to_string()).unwrap_or_default();
    prop_oneof![
        4 => field().prop_map(|f| format!(".{f}")),
        2 => field().prop_map(|f| quoted(&f, '\'')),
        1 => field().prop_map(|f| quoted(&f, '"')),
        2 => int().prop_map(|i| format!("[{i}]")),
        1 => Just("[*]".to_owned()),
        1 => Just(".*".to_owned()),
        1 => field().prop_map(|f| format!("..{f}")),
        1 => Just("..*".to_owned()),
        1 => (field(), field()).prop_map(|(a, b)| format!("['{a}','{b}']")),
        1 => (int(), int()).prop_map(|(a, b)| format!("[{a},{b}]")),
        1 => (opt(), opt(), opt()).prop_map(move |(a, b, c)| match c {
            Some(c) => format!("[{}:{}:{c}]", show(a), show(b)),
            None => format!("[{}:{}]", show(a), show(b)),
        }),
        1 => filter().prop_map(|f| format!("[?({f})]")),
        1 => Just(".length()".to_owned()),
    ]
}

fn path_text() -> impl Strategy<Value = String> {
    let root = prop_oneof![
        6 => Just("$".to_owned()),
        1 => Just("$$".to_owned()),
        1 => Just("$$.Execution".to_owned()),
        1 => "[a-z][a-zA-Z0-9_]{0,5}".prop_map(|v| format!("${v}")),
    ];
    let grammar = (root, proptest::collection::vec(segment(), 0..6))
        .prop_map(|(r, segs)| format!("{r}{}", segs.concat()));
    prop_oneof![
        6 => grammar,
        // Broken ones: the same vocabulary in any order.
        2 => generate::soup(
            &["$", "$$", ".", "..", "[", "]", "'", "\"", "\\", "*", "?(", ")", "@", ",", ":",
              "-", "0", "1", "99999999999999999999", "a", "length()", "==", "&&", "!", " "],
            16,
        ),
        1 => generate::text(24),
    ]
}

/// A path of fields, indices and wildcards only, from the input root, whose
/// names need no escaping (`bracket_form` is meant for error texts and does
/// not escape).
fn plain_path() -> impl Strategy<Value = (String, Vec<Value>)> {
    let seg = prop_oneof![
        "[a-z][a-z0-9_]{0,4}".prop_map(|f| (format!(".{f}"), json!(f))),
        (0i64..4).prop_map(|i| (format!("[{i}]"), json!(i))),
    ];
    proptest::collection::vec(seg, 1..5).prop_map(|segs| {
        let text = format!("${}", segs.iter().map(|s| s.0.as_str()).collect::<String>());
        (text, segs.into_iter().map(|s| s.1).collect())
    })
}

/// A document the plain paths above can reach.
fn reachable_doc() -> impl Strategy<Value = Value> {
    let leaf = generate::json(1);
    leaf.prop_recursive(4, 40, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::vec(("[a-z][a-z0-9_]{0,1}", inner), 0..4)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

// ---------------------------------------------------------------- intrinsics

const FUNCS: &[&str] = &[
    "States.Format",
    "States.StringToJson",
    "States.JsonToString",
    "States.Array",
    "States.ArrayPartition",
    "States.ArrayContains",
    "States.ArrayRange",
    "States.ArrayGetItem",
    "States.ArrayLength",
    "States.ArrayUnique",
    "States.Base64Encode",
    "States.Base64Decode",
    "States.Hash",
    "States.JsonMerge",
    "States.MathRandom",
    "States.MathAdd",
    "States.StringSplit",
    "States.UUID",
    "States.Nope",
    "states.format",
];

fn intrinsic_arg_leaf() -> impl Strategy<Value = String> {
    prop_oneof![
        // String literals with the escapes intrinsics know (\' \{ \} \\).
        generate::text(10)
            .prop_map(|t| format!("'{}'", t.replace('\\', "\\\\").replace('\'', "\\'"))),
        Just("'{} and {}'".to_owned()),
        Just("'\\{\\}'".to_owned()),
        Just("'MD5'".to_owned()),
        Just("'SHA-256'".to_owned()),
        any::<i64>().prop_map(|n| n.to_string()),
        Just("-1.5".to_owned()),
        Just("1e400".to_owned()),
        Just("1000000000".to_owned()),
        Just("true".to_owned()),
        Just("null".to_owned()),
        Just("$".to_owned()),
        Just("$.a".to_owned()),
        Just("$.s".to_owned()),
        Just("$.n".to_owned()),
        Just("$.arr".to_owned()),
        Just("$$.Execution.Id".to_owned()),
        path_text(),
    ]
}

fn intrinsic() -> impl Strategy<Value = String> {
    let call = |args: BoxedStrategy<Vec<String>>| {
        (
            proptest::sample::select(FUNCS),
            args,
            proptest::sample::select(&[", ", ",", " , "][..]),
        )
            .prop_map(|(f, args, sep)| format!("{f}({})", args.join(sep)))
    };
    let leaf = call(proptest::collection::vec(intrinsic_arg_leaf(), 0..4).boxed());
    let grammar = leaf.prop_recursive(4, 16, 4, move |inner| {
        call(proptest::collection::vec(prop_oneof![intrinsic_arg_leaf(), inner], 0..4).boxed())
    });
    prop_oneof![
        8 => grammar,
        2 => generate::soup(
            &["States.Format", "States.Array", "States.MathAdd", "(", ")", ",", "'", "\\'",
              "\\", "{}", "$.a", "1", " ", "States."],
            16,
        ),
    ]
}

/// The input the intrinsic and path cases run on.
fn intrinsic_input() -> impl Strategy<Value = Value> {
    (generate::json(3), generate::text(30), any::<i64>()).prop_map(|(a, s, n)| {
        json!({"a": a, "s": s, "n": n, "arr": [1, "x", {"k": [null, true]}, 1], "json": "{\"k\":[1,2]}"})
    })
}

// ---------------------------------------------------------------- JSONata

const JSONATA_FUNCS: &[&str] = &[
    "$string",
    "$number",
    "$sum",
    "$count",
    "$max",
    "$min",
    "$average",
    "$abs",
    "$floor",
    "$ceil",
    "$round",
    "$power",
    "$sqrt",
    "$random",
    "$substring",
    "$substringBefore",
    "$uppercase",
    "$lowercase",
    "$length",
    "$trim",
    "$pad",
    "$contains",
    "$split",
    "$join",
    "$match",
    "$replace",
    "$keys",
    "$lookup",
    "$merge",
    "$each",
    "$append",
    "$reverse",
    "$sort",
    "$distinct",
    "$zip",
    "$map",
    "$filter",
    "$reduce",
    "$exists",
    "$boolean",
    "$not",
    "$type",
    "$formatNumber",
    "$formatBase",
    "$fromMillis",
    "$toMillis",
    "$now",
    "$millis",
    "$base64encode",
    "$base64decode",
    "$encodeUrl",
    "$decodeUrl",
    "$partition",
    "$range",
    "$hash",
    "$uuid",
    "$parse",
    "$shuffle",
    "$single",
    "$spread",
    "$sift",
    "$assert",
    "$error",
];

fn jsonata_expr() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        any::<i32>().prop_map(|n| n.to_string()),
        Just("1e308 * 10".to_owned()),
        Just("-0.5".to_owned()),
        generate::text(8).prop_map(|t| serde_json::to_string(&t).unwrap()),
        Just("'single'".to_owned()),
        Just("true".to_owned()),
        Just("null".to_owned()),
        Just("$states.input".to_owned()),
        Just("$states.input.a".to_owned()),
        Just("$states.input.arr[0]".to_owned()),
        Just("$states.context.Execution.Id".to_owned()),
        Just("$x".to_owned()),
        Just("$".to_owned()),
        Just("a.b.c".to_owned()),
        Just("**".to_owned()),
        Just("/[a-z]+/i".to_owned()),
        Just("function($v){ $v * 2 }".to_owned()),
    ];
    leaf.prop_recursive(5, 40, 4, |e| {
        let bin = proptest::sample::select(
            &[
                "+", "-", "*", "/", "%", "&", "=", "!=", "<", "<=", ">", ">=", " and ", " or ",
                " in ", "..", "~>",
            ][..],
        );
        prop_oneof![
            3 => (e.clone(), bin, e.clone()).prop_map(|(a, op, b)| format!("({a} {op} {b})")),
            3 => (proptest::sample::select(JSONATA_FUNCS), proptest::collection::vec(e.clone(), 0..4))
                .prop_map(|(f, args)| format!("{f}({})", args.join(", "))),
            1 => proptest::collection::vec(e.clone(), 0..4).prop_map(|v| format!("[{}]", v.join(", "))),
            1 => proptest::collection::vec((e.clone(), e.clone()), 0..3).prop_map(|kv| format!(
                "{{{}}}",
                kv.iter().map(|(k, v)| format!("{k}: {v}")).collect::<Vec<_>>().join(", ")
            )),
            1 => (e.clone(), e.clone(), e.clone()).prop_map(|(c, a, b)| format!("({c} ? {a} : {b})")),
            1 => (e.clone(), e.clone()).prop_map(|(a, b)| format!("($x := {a}; {b})")),
            1 => (e.clone(), e.clone()).prop_map(|(a, b)| format!("{a}[{b}]")),
            1 => (e.clone(), e.clone()).prop_map(|(a, b)| format!("{a}.{b}")),
            1 => e.clone().prop_map(|a| format!("$sort({a}, function($l, $r){{ $l > $r }})")),
            1 => e.clone().prop_map(|a| format!("function($n){{ {a} }}")),
            1 => e.prop_map(|a| format!("-{a}")),
        ]
    })
}

fn jsonata_text() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => jsonata_expr(),
        2 => generate::soup(
            &["$states", ".input", "(", ")", "[", "]", "{", "}", ":", ",", ";", ":=", "$f",
              "function", "$x", "?", "+", "..", "'", "\"", "1", "/", "~>", "%}", "{%", " "],
            20,
        ),
        // Unbounded recursion: must end in JSONata's depth limit. (A tail
        // call runs to the 10 s time limit instead: see the regression test.)
        1 => Just("($f := function($n){ $n > 0 ? $n + $f($n - 1) : 0 }; $f(100000))".to_owned()),
        1 => Just("$count([1..100000])".to_owned()),
        1 => (1usize..3000).prop_map(|d| generate::nest("(", "1", ")", d)),
        1 => (1usize..3000).prop_map(|d| generate::nest("[", "1", "]", d)),
        1 => (1usize..3000).prop_map(|d| generate::nest("-", "1", "", d)),
        1 => (1usize..3000).prop_map(|d| vec!["1"; d].join("+")),
        1 => (1usize..300).prop_map(|d| format!("{}1", "true ? 1 : ".repeat(d))),
    ]
}

// ---------------------------------------------------------------- properties

proptest! {
    #![proptest_config(config(600))]

    /// Real definitions with fields deleted, renamed, duplicated, given
    /// other types or replaced by random JSON: parsed, validated and, when
    /// valid, run.
    #[test]
    fn mutated_definitions(
        pick in any::<prop::sample::Index>(),
        muts in generate::mutations(2),
        input in generate::json(3),
        seed in any::<u64>(),
    ) {
        let mut def = pick.get(corpus()).clone();
        generate::mutate(&mut def, &muts);
        parse_and_run(def.to_string(), input, seed);
    }
}

proptest! {
    #![proptest_config(config(160))]

    /// Unchanged real definitions, run on random input: every one parses
    /// (they are AWS-accepted) and ends or reaches its budget.
    #[test]
    fn real_definitions_on_random_input(
        pick in any::<prop::sample::Index>(),
        input in generate::json(3),
        seed in any::<u64>(),
    ) {
        let def = pick.get(corpus()).to_string();
        let text = def.clone();
        let what = format!("definition {}", preview(&def, 2000));
        let parsed = bounded(&what, move || StateMachine::parse(&text).is_ok());
        prop_assume!(parsed, "a conformance definition AWS rejects");
        parse_and_run(def, input, seed);
    }
}

proptest! {
    #![proptest_config(config(800))]

    /// Definition text that is not JSON, barely JSON, or JSON of the wrong
    /// shape, including nesting far past serde_json's recursion limit.
    #[test]
    fn definition_text(
        text in prop_oneof![
            generate::soup(
                &["{", "}", "[", "]", ":", ",", "\"StartAt\"", "\"States\"", "\"Type\"",
                  "\"Pass\"", "\"Task\"", "\"Map\"", "\"Choice\"", "\"Next\"", "\"End\"", "true",
                  "\"A\"", "\"$.a\"", "1", "null", "\"QueryLanguage\"", "\"JSONata\"", " "],
                40,
            ),
            generate::deep_json_text(),
            generate::text(64),
        ],
    ) {
        let what = format!("definition {}", preview(&text, 300));
        bounded(&what, move || parse_checked(&text).is_some());
    }
}

proptest! {
    #![proptest_config(config(2000))]

    /// JSONPath: any text either compiles or is refused with a message; a
    /// compiled path used as a Pass state's `InputPath` runs on random input.
    #[test]
    fn json_path(text in path_text(), input in intrinsic_input()) {
        let what = format!("path {text:?}");
        let t = text.clone();
        let compiled = bounded(&what, move || match JsonPath::parse(&t) {
            Ok(p) => {
                let _ = (p.is_definite(), p.is_reference_path(), p.bracket_form());
                true
            }
            Err(e) => {
                assert!(!e.0.is_empty(), "empty error for {t:?}");
                false
            }
        });
        if compiled {
            let def = one_state(json!({"Type": "Pass", "InputPath": text, "End": true}));
            parse_and_run(def, input, 0);
        }
    }

    /// A plain path written with dots selects what its bracket form selects.
    #[test]
    fn json_path_bracket_form_round_trip((dots, _) in plain_path(), doc in reachable_doc()) {
        let what = format!("path {dots:?}");
        let d = dots.clone();
        let brackets = bounded(&what, move || {
            let p = JsonPath::parse(&d).expect("a plain path compiles");
            let b = p.bracket_form();
            let q = JsonPath::parse(&b).expect("its bracket form compiles");
            assert_eq!(p.segments, q.segments, "{d} vs {b}");
            assert_eq!(p.is_definite(), q.is_definite());
            b
        });
        let a = parse_and_run(one_state(json!({"Type": "Pass", "InputPath": dots, "End": true})), doc.clone(), 0);
        let b = parse_and_run(one_state(json!({"Type": "Pass", "InputPath": brackets, "End": true})), doc, 0);
        match (a, b) {
            (Some(Run::Done(sa, oa, _)), Some(Run::Done(sb, ob, _))) => {
                prop_assert_eq!(sa, sb);
                prop_assert_eq!(oa, ob);
            }
            other => prop_assert!(false, "both forms must run: {:?}", other),
        }
    }

    /// Intrinsic functions nested with random arguments: compiled, then
    /// evaluated in a Pass state's Parameters and in a JSONPath `Assign`.
    #[test]
    fn intrinsic_functions(text in intrinsic(), input in intrinsic_input()) {
        let what = format!("intrinsic {text:?}");
        let t = text.clone();
        bounded(&what, move || {
            if let Err(e) = wsflow_asl::intrinsics::parse(&t) {
                assert!(!e.is_empty(), "empty error for {t:?}");
            }
        });
        let def = one_state(json!({"Type": "Pass", "Parameters": {"r.$": text.clone()}, "End": true}));
        parse_and_run(def, input.clone(), 0);
        let def = one_state(json!({"Type": "Pass", "Assign": {"v.$": text}, "End": true}));
        parse_and_run(def, input, 0);
    }

}

proptest! {
    #![proptest_config(config(600))]

    /// JSONata expressions from a small grammar (and broken ones, deep ones,
    /// runaway recursion): compiled, then evaluated as a JSONata Pass
    /// state's Output and inside an Arguments-like template.
    #[test]
    fn jsonata(text in jsonata_text(), input in intrinsic_input()) {
        let what = format!("JSONata {}", preview(&text, 400));
        let t = text.clone();
        bounded(&what, move || {
            if let Err(e) = wsflow_asl::jsonata::JExpr::compile(&t) {
                assert!(!e.is_empty(), "empty error for {t:?}");
            }
        });
        let def = json!({"QueryLanguage": "JSONata", "StartAt": "S", "States": {"S": {
            "Type": "Pass",
            "Assign": {"x": "{% $states.input.n %}"},
            "Next": "T"}, "T": {"Type": "Pass",
            "Output": {"lit": "a", "v": format!("{{% {text} %}}"), "l": [format!("{{%{text}%}}")]},
            "End": true}}});
        parse_and_run(def.to_string(), input, 0);
    }
}

// ---------------------------------------------------------------- regressions

/// Found by `jsonata`: jsonata-rs parses and evaluates recursively, so
/// `((((…1…))))` 150 deep, `1+1+…` with 1,000 terms or 60 nested
/// conditionals overflowed a 2 MiB thread's stack while the definition was
/// parsed, aborting the whole process. They are refused with a message now.
#[test]
fn deep_jsonata_is_refused_at_load() {
    let deep = [
        generate::nest("(", "1", ")", 5_000),
        generate::nest("[", "1", "]", 5_000),
        generate::nest("-", "1", "", 5_000),
        vec!["1"; 5_000].join("+"),
        format!("{}1", "true ? 1 : ".repeat(1_000)),
    ];
    for expr in deep {
        let what = format!("JSONata {}", preview(&expr, 40));
        let e = expr.clone();
        let err = bounded(&what, move || wsflow_asl::jsonata::JExpr::compile(&e).err());
        let err = err.unwrap_or_else(|| panic!("{what} compiled"));
        assert!(err.contains("nests more than"), "{err}");
        let def = json!({"QueryLanguage": "JSONata", "StartAt": "S", "States": {"S": {
            "Type": "Pass", "Output": format!("{{% {expr} %}}"), "End": true}}});
        assert_eq!(parse_and_run(def.to_string(), json!({}), 0), None, "{what}");
    }
    // Moderate nesting still works.
    let def = json!({"QueryLanguage": "JSONata", "StartAt": "S", "States": {"S": {
        "Type": "Pass", "Output": format!("{{% {} %}}", generate::nest("(", "1 + 2", ")", 20)), "End": true}}});
    assert_eq!(
        parse_and_run(def.to_string(), json!({}), 0),
        Some(Run::Done(ExecutionStatus::Succeeded, Some(json!(3)), None))
    );
}

/// Found by `jsonata`: a recursive function 100,000 calls deep overflowed
/// a 2 MiB worker's stack before jsonata-rs's depth limit (500) stopped it.
/// Evaluations now run on a helper thread with a 16 MiB stack, where that
/// limit fails the state with JSONata's `U1001` first, in debug builds too.
#[test]
fn runaway_jsonata_recursion_fails_the_state() {
    let def = json!({"QueryLanguage": "JSONata", "StartAt": "S", "States": {"S": {
        "Type": "Pass",
        "Output": "{% ($f := function($n){ $n > 0 ? $n + $f($n - 1) : 0 }; $f(100000)) %}",
        "End": true}}});
    match parse_and_run(def.to_string(), json!({}), 0) {
        Some(Run::Done(ExecutionStatus::Failed, None, Some(e))) => {
            assert_eq!(e, "States.QueryEvaluationError")
        }
        other => panic!("{other:?}"),
    }
}
