//! Template → expected output table, the seed `$connect` templates, escaping, errors, limits.

use wsflow_vtl::{RenderContext, Template, VtlError};

struct Req {
    body: String,
    context: serde_json::Map<String, serde_json::Value>,
    stage: serde_json::Map<String, serde_json::Value>,
    headers: Vec<(String, String)>,
    query: Vec<(String, String)>,
    path: Vec<(String, String)>,
}

fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
    p.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn req() -> Req {
    Req {
        body: r#"{"action":"sync_sfn","data":{"n":1,"s":"x"},"items":[{"id":"a"},{"id":"b"}],"msg":"it's \"q\""}"#.into(),
        context: serde_json::from_str(
            r#"{"connectionId":"SOqGjdZioAMCEeg=","requestId":"req-1","requestTimeEpoch":1652722227357,
                "routeKey":"$connect","eventType":"CONNECT","stage":"api","apiId":"abc123",
                "identity":{"sourceIp":"127.0.0.1"}}"#,
        )
        .unwrap(),
        stage: serde_json::from_str(r#"{"table":"Sessions"}"#).unwrap(),
        headers: pairs(&[("ws-uri", "/a/b"), ("Sec-WebSocket-Version", "13"), ("Host", "localhost:3001")]),
        query: pairs(&[("foo", "bar")]),
        path: vec![],
    }
}

fn render_with(src: &str, r: &Req) -> Result<String, VtlError> {
    let t = Template::parse(src)?;
    t.render(&RenderContext {
        body: &r.body,
        context: &r.context,
        stage_variables: &r.stage,
        headers: &r.headers,
        query: &r.query,
        path: &r.path,
    })
}

fn render(src: &str) -> String {
    match render_with(src, &req()) {
        Ok(s) => s,
        Err(e) => panic!("{src:?}: {e}"),
    }
}

#[test]
fn table_of_templates() {
    let cases: &[(&str, &str)] = &[
        ("plain text", "plain text"),
        ("$context.connectionId", "SOqGjdZioAMCEeg="),
        ("${context.connectionId}x", "SOqGjdZioAMCEeg=x"),
        ("$context.identity.sourceIp", "127.0.0.1"),
        ("$context.requestTimeEpoch", "1652722227357"),
        ("$stageVariables.table", "Sessions"),
        (
            "$input.body",
            r#"{"action":"sync_sfn","data":{"n":1,"s":"x"},"items":[{"id":"a"},{"id":"b"}],"msg":"it's \"q\""}"#,
        ),
        ("$input.json('$.data')", r#"{"n":1,"s":"x"}"#),
        ("$input.json('$.items[1].id')", r#""b""#),
        ("$input.json('$.items[*].id')", r#"["a","b"]"#),
        ("$input.json(\"$['action']\")", r#""sync_sfn""#),
        (
            "$input.json('$')",
            r#"{"action":"sync_sfn","data":{"n":1,"s":"x"},"items":[{"id":"a"},{"id":"b"}],"msg":"it's \"q\""}"#,
        ),
        ("[$input.json('$.missing')]", "[]"),
        ("$input.path('$.items').size()", "2"),
        ("$input.path('$.data').s", "x"),
        ("$input.path('$.items')[0].id", "a"),
        ("$input.path('$.data')", "{n=1, s=x}"),
        (
            "#foreach($i in $input.path('$.items'))$i.id#if($foreach.hasNext),#end#end",
            "a,b",
        ),
        ("$input.params().get('querystring')", "{foo=bar}"),
        ("$input.params().querystring", "{foo=bar}"),
        ("$input.params().header.Host", "localhost:3001"),
        ("$input.params('ws-uri')", "/a/b"),
        ("$input.params('foo')", "bar"),
        ("$input.params('HOST')", "localhost:3001"),
        ("[$input.params('nope')]", "[]"),
        (
            "$input.params()",
            "{path={}, querystring={foo=bar}, header={Host=localhost:3001, Sec-WebSocket-Version=13, ws-uri=/a/b}}",
        ),
        ("$method.request.querystring.foo", "bar"),
        ("$undefined", "$undefined"),
        ("$!undefined", ""),
        ("$context.nope.deeper", "$context.nope.deeper"),
        ("$!{context.nope}|", "|"),
        ("\\$context.stage", "$context.stage"),
        ("\\#set", "#set"),
        ("a ## comment\nb", "a b"),
        ("a#* block\ncomment *#b", "ab"),
        ("a #notadirective b", "a #notadirective b"),
        ("$5 and $ and 50%", "$5 and $ and 50%"),
        ("#set($x = 5)$x", "5"),
        (
            "#set($x = $context.requestTimeEpoch / 1000 + 86400)$x",
            "1652808627",
        ),
        ("#set($x = 7 % 3 * 2 - 1)$x", "1"),
        ("#set($x = -7 / 2)$x", "-3"),
        ("#set($x = 1 / 0)$x", "$x"),
        ("#set($x = 2.5 * 2)$x", "5.0"),
        (
            "#set($x = 9223372036854775807 + 1)$x",
            "9.223372036854776E18",
        ),
        (
            "#set($l = [1, \"two\", true])$l $l.size() $l.get(1) $l[2]",
            "[1, two, true] 3 two true",
        ),
        (
            "#set($m = {\"a\": 1, \"b\": [2, 3]})$m $m.b $m.get('a')",
            "{a=1, b=[2, 3]} [2, 3] 1",
        ),
        (
            "#set($m = {})#set($d = $m.put('k', 'v'))$m $m.size() $m.containsKey('k') $m.isEmpty()",
            "{k=v} 1 true false",
        ),
        (
            "#set($m = {'a': {'b': 1}})#set($m.a.c = 2)$m",
            "{a={b=1, c=2}}",
        ),
        ("#set($m = {'a': []})$m.a.add(5)$m", "true{a=[5]}"),
        (
            "#set($m = {'x':1,'y':2})#foreach($k in $m.keySet())$k=$m.get($k);#end",
            "x=1;y=2;",
        ),
        (
            "#set($m = {'x':1,'y':2})#foreach($e in $m.entrySet())$e.key:$e.value #end",
            "x:1 y:2 ",
        ),
        (
            "#set($m = {'x':1,'y':2})$m.values() $m.remove('x') $m",
            "[1, 2] 1 {y=2}",
        ),
        (
            "#set($l = [])$l.isEmpty() $l.add('a') $l.contains('a') $l",
            "true true true [a]",
        ),
        ("#if(true)yes#end", "yes"),
        ("#if(false)yes#else no#end", " no"),
        ("#if($nope)a#elseif(1 == 1)b#else c#end", "b"),
        (
            "#if(1 < 2 && 2 <= 2 && 3 > 2 && 3 >= 3 && 1 != 2)ok#end",
            "ok",
        ),
        (
            "#if(1 lt 2 and 2 le 2 and 3 gt 2 and 3 ge 3 and 1 ne 2 and 1 eq 1)ok#end",
            "ok",
        ),
        ("#if(!false && not false)ok#end", "ok"),
        ("#if(false || true)a#end#if(false or false)b#end", "a"),
        ("#if($context.routeKey == '$connect')c#end", "c"),
        ("#if($context.requestTimeEpoch > 1000)big#end", "big"),
        ("#if(\"1\" == 1)loose#end", "loose"),
        ("#foreach($i in [1..3])$i#end", "123"),
        ("#foreach($i in [3..1])$i#end", "321"),
        ("#foreach($i in [1..5])#if($i == 3)#break#end$i#end", "12"),
        (
            "#foreach($i in ['a','b'])$foreach.index$foreach.count$velocityCount$i #end",
            "011a 122b ",
        ),
        (
            "#foreach($i in [1,2])#foreach($j in ['x','y'])$i$j#end;#end",
            "1x1y;2x2y;",
        ),
        ("a#stop b", "a"),
        (
            "#foreach($i in [1,2,3])$i#if($i == 2)#stop#end#end after",
            "12",
        ),
        ("#{if}(true)x#{else}y#{end}", "x"),
        (
            "#set($s = \"Hello World\")$s.toLowerCase() $s.toUpperCase() $s.length() $s.substring(6) $s.substring(0, 5)",
            "hello world HELLO WORLD 11 World Hello",
        ),
        (
            "#set($s = 'a-b-c')$s.replace('-', '+') $s.replaceAll('-(.)', '[$1]') $s.split('-') $s.indexOf('b')",
            "a+b+c a[b][c] [a, b, c] 2",
        ),
        (
            "#set($s = ' x ')[$s.trim()] $s.contains('x') $s.startsWith(' ') $s.endsWith('y') $s.isEmpty() $s.equals(' x ')",
            "[x] true true false false true",
        ),
        ("#set($s = 'a,b,,')$s.split(',').size()", "2"),
        ("#set($n = \"n=$context.stage\")$n", "n=api"),
        ("#set($n = 'n=$context.stage')$n", "n=$context.stage"),
        (
            "$util.escapeJavaScript($input.path('$.msg'))",
            "it\\'s \\\"q\\\"",
        ),
        ("$util.escapeJavaScript('a\\b /')", "a\\\\b \\/"),
        ("$util.urlEncode('a b&c=d/é')", "a+b%26c%3Dd%2F%C3%A9"),
        ("$util.urlDecode('a+b%26c%3Dd%2F%C3%A9')", "a b&c=d/é"),
        ("$util.base64Encode('hello')", "aGVsbG8="),
        ("$util.base64Decode('aGVsbG8=')", "hello"),
        (
            "#set($o = $util.parseJson('{\"z\":1,\"a\":[true,null]}'))$o.z $o.a $o",
            "1 [true, null] {z=1, a=[true, null]}",
        ),
        (
            "#set($sfn_input=$util.escapeJavaScript($input.json(\"$.data\")).replaceAll(\"\\\\'\",\"'\"))$sfn_input",
            "{\\\"n\\\":1,\\\"s\\\":\\\"x\\\"}",
        ),
        ("  #set($a = 1)\n$a", "1"),
        ("{\n  #if(true)\n  x\n  #end\n}", "{\n  x\n}"),
    ];
    let mut failures = Vec::new();
    for (src, want) in cases {
        match render_with(src, &req()) {
            Ok(got) if got == *want => {}
            other => failures.push(format!("{src:?}\n   want {want:?}\n   got  {other:?}")),
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The `$connect` template of the seeds, with TTL in seconds: renders valid DynamoDB JSON.
const CONNECT: &str = r#"#set($ttl = $context.requestTimeEpoch / 1000 + 86400)
{
    "TableName": "wsflow-Connections",
    "Item": {
        "connectionid": {"S": "$context.connectionId"},
        "path": {"S": "$util.escapeJavaScript($input.params('ws-uri')).replaceAll("\\'","'")"},
        "headers": {"S": "$util.escapeJavaScript($input.params().get('header')).replaceAll("\\'","'")"},
        "querystring": {"S": "$util.escapeJavaScript($input.params().get('querystring')).replaceAll("\\'","'")"},
        "ttl": {"N": "$ttl"}
    }
}"#;

#[test]
fn seed_connect_template_renders_put_item() {
    let out = render(CONNECT);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert_eq!(v["TableName"], "wsflow-Connections");
    assert_eq!(v["Item"]["connectionid"]["S"], "SOqGjdZioAMCEeg=");
    assert_eq!(v["Item"]["path"]["S"], "/a/b");
    assert_eq!(v["Item"]["querystring"]["S"], "{foo=bar}");
    assert_eq!(
        v["Item"]["headers"]["S"],
        "{Host=localhost:3001, Sec-WebSocket-Version=13, ws-uri=/a/b}"
    );
    assert_eq!(v["Item"]["ttl"]["N"], "1652808627");
    assert!(!out.starts_with('\n'), "the #set line is gobbled: {out:?}");
}

#[test]
fn malicious_header_values_still_give_valid_json() {
    let mut r = req();
    let evil = "x\", \"injected\": {\"S\": \"1\"}, \"y\": \"\\ ' \n\t\u{1} é 😀 </script>";
    r.headers.push(("x-evil".into(), evil.into()));
    r.query.push(("q".into(), "\\\"'".into()));
    let out = render_with(CONNECT, &r).unwrap();
    let v: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    let headers = v["Item"]["headers"]["S"].as_str().unwrap();
    assert!(headers.ends_with(&format!("x-evil={evil}}}")), "{headers}");
    assert!(v["Item"].get("injected").is_none());
    assert_eq!(v["Item"]["querystring"]["S"], "{foo=bar, q=\\\"'}");
}

#[test]
fn seed_sfn_templates_render_valid_start_execution_input() {
    let sync = r#"#set($sfn_input=$util.escapeJavaScript($input.json("$.data")).replaceAll("\\'","'"))
{
  "input": "$sfn_input",
  "stateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:Sync"
}"#;
    let mut r = req();
    r.body = r#"{"action":"sync_sfn","data":"it's \"123\""}"#.into();
    let out = render_with(sync, &r).unwrap();
    let v: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert_eq!(v["input"], r#""it's \"123\"""#);
    let async_t = r#"#set($sfn_input=$util.escapeJavaScript($input.json("$.data")).replaceAll("\\'","'"))
{ "input": "{\"data\":$sfn_input, \"ConnectionID\":\"$context.connectionId\"}", "stateMachineArn": "x" }"#;
    let out = render_with(async_t, &r).unwrap();
    let v: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    let input: serde_json::Value = serde_json::from_str(v["input"].as_str().unwrap()).unwrap();
    assert_eq!(input["data"], "it's \"123\"");
    assert_eq!(input["ConnectionID"], "SOqGjdZioAMCEeg=");
}

#[test]
fn escape_javascript_matches_commons_lang() {
    let out = render("$util.escapeJavaScript('\u{8}\u{c}\u{1f}\u{7f}é€😀')");
    assert_eq!(out, "\\b\\f\\u001F\\u007F\\u00E9\\u20AC\\uD83D\\uDE00");
}

#[test]
fn parse_errors_carry_line_and_column() {
    for (src, line, column) in [
        ("ok\n#if(true)x", 2, 1),
        ("#end", 1, 1),
        ("a\n  #set($x = )", 2, 13),
        ("#foreach($x [1])#end", 1, 13),
        ("x #* never closed", 1, 3),
        ("$x.f('unterminated)", 1, 6),
        ("#else", 1, 1),
    ] {
        match Template::parse(src) {
            Err(VtlError::Parse {
                line: l, column: c, ..
            }) => {
                assert_eq!((l, c), (line, column), "{src:?}")
            }
            other => panic!("{src:?}: expected a parse error, got {other:?}"),
        }
    }
}

#[test]
fn limits_turn_runaway_templates_into_errors() {
    let r = req();
    for src in [
        "#foreach($i in [1..100000000])x#end",
        "#foreach($i in [1..1000])#foreach($j in [1..1000])#foreach($k in [1..10])#end#end#end",
        "#set($m = {})#foreach($i in [1..500])#set($m = {'a': $m})#end",
        "#set($s = 'xxxxxxxxxxxxxxxx')#foreach($i in [1..40])#set($s = \"$s$s\")#end$s",
        "#set($l = [1])#foreach($i in [1..64])#set($l = [$l, $l])#end$l",
        "$input.json('$[')",
    ] {
        assert!(
            matches!(render_with(src, &r), Err(VtlError::Render { .. })),
            "{src:?} should fail to render"
        );
    }
    let deep = "(".repeat(10_000);
    assert!(Template::parse(&format!("#set($x = {deep}1)")).is_err());
    let nested_ifs = "#if(true)".repeat(10_000);
    assert!(Template::parse(&nested_ifs).is_err());
}

#[test]
fn no_panic_on_garbage_prefixes() {
    let srcs = [
        CONNECT,
        "#set($a = {'x': [1, 2, \"$b ${c}\"]}) $a.x[2] #if($a.x.size() > 1)#end",
    ];
    for src in srcs {
        for end in 0..=src.len() {
            if let Some(prefix) = src.get(..end)
                && let Ok(t) = Template::parse(prefix)
            {
                let r = req();
                let _ = t.render(&RenderContext {
                    body: &r.body,
                    context: &r.context,
                    stage_variables: &r.stage,
                    headers: &r.headers,
                    query: &r.query,
                    path: &r.path,
                });
            }
        }
    }
}

#[test]
fn large_template_renders_in_linear_time() {
    let line = "\"k$foreach\": \"$context.connectionId $input.params('foo')\",\n";
    let src = line.repeat(300 * 1024 / line.len());
    let t = Template::parse(&src).unwrap();
    let r = req();
    let start = std::time::Instant::now();
    let out = t
        .render(&RenderContext {
            body: &r.body,
            context: &r.context,
            stage_variables: &r.stage,
            headers: &r.headers,
            query: &r.query,
            path: &r.path,
        })
        .unwrap();
    assert!(out.contains("\"k$foreach\": \"SOqGjdZioAMCEeg= bar\""));
    assert!(start.elapsed() < std::time::Duration::from_secs(2));
}

#[test]
fn template_is_send_sync_and_reusable() {
    fn assert_send_sync<T: Send + Sync + Clone>() {}
    assert_send_sync::<Template>();
    let t = Template::parse("$input.json('$.data.n')").unwrap();
    let t2 = t.clone();
    let h = std::thread::spawn(move || {
        let r = req();
        render_with("x", &r).unwrap();
        t2.render(&RenderContext {
            body: &r.body,
            context: &r.context,
            stage_variables: &r.stage,
            headers: &r.headers,
            query: &r.query,
            path: &r.path,
        })
        .unwrap()
    });
    assert_eq!(h.join().unwrap(), "1");
}

#[test]
fn no_panic_on_random_input() {
    // Deterministic pseudo-random templates built from syntax pieces and multi-byte text.
    let pieces = [
        "$",
        "#",
        "!",
        "{",
        "}",
        "(",
        ")",
        "[",
        "]",
        ".",
        ",",
        "'",
        "\"",
        "\\",
        " ",
        "\n",
        "=",
        "#set(",
        "#if(",
        "#elseif(",
        "#else",
        "#end",
        "#foreach(",
        " in ",
        "#break",
        "#stop",
        "##",
        "#*",
        "*#",
        "$x",
        "$!y",
        "${z}",
        ".size()",
        ".get(0)",
        "[0]",
        "..",
        "1",
        "-2",
        "&&",
        "||",
        "or",
        "and",
        "not",
        "==",
        "<",
        "+",
        "/",
        "%",
        "€",
        "😀",
        "é",
        "$input",
        ".json('$.data')",
        ".path('$')",
        "$util.escapeJavaScript(",
        "$context.identity",
        "o",
        "n",
        "#if(o€",
        "$foreach.hasNext",
        ".replaceAll('(a', 'b')",
        ".substring(5)",
        "{'a':",
        ":",
        "true",
    ];
    let r = req();
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    for _ in 0..3000 {
        let mut src = String::new();
        let n = (seed >> 59) as usize + 1;
        for _ in 0..n {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            src.push_str(pieces[(seed >> 33) as usize % pieces.len()]);
        }
        if let Ok(t) = Template::parse(&src) {
            let _ = t.render(&RenderContext {
                body: &r.body,
                context: &r.context,
                stage_variables: &r.stage,
                headers: &r.headers,
                query: &r.query,
                path: &r.path,
            });
        }
    }
}

#[test]
fn all_params_passthrough_template_gives_valid_json() {
    // The widely used "pass every parameter through" template.
    let src = r#"#set($allParams = $input.params())
{
"body" : $input.json('$'),
"params" : {
#foreach($type in $allParams.keySet())
    #set($params = $allParams.get($type))
"$type" : {
    #foreach($paramName in $params.keySet())
    "$paramName" : "$util.escapeJavaScript($params.get($paramName)).replaceAll("\\'","'")"
        #if($foreach.hasNext),#end
    #end
}
    #if($foreach.hasNext),#end
#end
},
"context" : {"sourceIp" : "$context.identity.sourceIp", "count": $context.requestTimeEpoch}
}"#;
    let mut r = req();
    r.headers.push(("X-Quote".into(), "a\"b'c\\d".into()));
    r.path.push(("id".into(), "42".into()));
    let out = render_with(src, &r).unwrap();
    let v: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert_eq!(v["params"]["header"]["X-Quote"], "a\"b'c\\d");
    assert_eq!(v["params"]["path"]["id"], "42");
    assert_eq!(v["params"]["querystring"]["foo"], "bar");
    assert_eq!(v["body"]["data"]["n"], 1);
    assert_eq!(v["context"]["sourceIp"], "127.0.0.1");
}

#[test]
fn seed_004_original_connect_template() {
    // As written in the seed application (YAML-folded onto few lines; TTL there is in ms).
    let src = "#set($ttl = $context.requestTimeEpoch + 86400) { \n    \"TableName\": \"Sessions\",\n    \"Item\": {\n  \"connectionid\": {\n            \"S\": \"$context.connectionId\"\n            },\n    \"path\": {\n            \"S\": \"$input.params('ws-uri')\"\n            },\n  \"headers\": {\n            \"S\": \"$input.params().get('header')\"\n            },\n  \"querystring\": {\n            \"S\": \"$input.params().get('querystring')\"\n            },\n  \"payload\": {\n            \"S\": \"$input.body\"\n            },\n  \"ttl\": {\n            \"N\": \"$ttl\"\n            }\n    }\n}\n";
    let mut r = req();
    r.body = String::new();
    let out = render_with(src, &r).unwrap();
    let v: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert_eq!(v["Item"]["ttl"]["N"], "1652722313757");
    assert_eq!(v["Item"]["path"]["S"], "/a/b");
    assert_eq!(v["Item"]["payload"]["S"], "");
}

/// A message nested deeper than a parsed value may be (`[[[…]]]`, any depth
/// up to what 128 KB holds) is still read by path: the sync_sfn template of
/// the app renders its `data`, and nothing recurses once per level.
#[test]
fn bodies_nested_however_deep_are_read_by_path() {
    let sync_sfn = r#"#set($data = $input.json('$.data'))
#if("$!data" == "")#set($data = "null")#end
{"input": "{\"data\": $util.escapeJavaScript($data).replaceAll("\\'", "'")}", "action": "$input.path('$.action')"}"#;
    for depth in [500, 60_000] {
        let deep = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        let mut r = req();
        r.body = format!(
            r#"{{"action": "sync_sfn", "data": {}, "tail": {{"s": "x\"y", "n": null}}}}"#,
            deep.replace("[]", "[1, \"a\"]")
        );
        let want_data = deep.replace("[]", "[1,\"a\"]");
        let out = render_with(sync_sfn, &r).unwrap_or_else(|e| panic!("depth {depth}: {e}"));
        let escaped = want_data.replace('"', "\\\"");
        assert_eq!(
            out.trim(),
            format!(r#"{{"input": "{{\"data\": {escaped}}}", "action": "sync_sfn"}}"#),
            "depth {depth}"
        );

        let one = |src: &str| render_with(src, &r);
        assert_eq!(one("$input.json('$.tail.s')").unwrap(), r#""x\"y""#);
        assert_eq!(one("$input.path('$.tail.s')").unwrap(), r#"x"y"#);
        assert_eq!(one("$input.json('$.tail.n')").unwrap(), "null");
        assert_eq!(
            one("$input.json('$.tail')").unwrap(),
            r#"{"s":"x\"y","n":null}"#
        );
        assert_eq!(one("$input.path('$.tail').s").unwrap(), r#"x"y"#);
        assert_eq!(one("[$input.json('$.missing')]").unwrap(), "[]");
        assert_eq!(one("$input.body").unwrap(), r.body);
        // What needs the whole document is refused with a clear error.
        for path in ["$.data[*]", "$.*", "$.data[-1]"] {
            let e = one(&format!("$input.json('{path}')")).unwrap_err();
            assert!(e.to_string().contains("nested too deeply"), "{path}: {e}");
        }
        let e = one("$input.path('$.data')").unwrap_err();
        assert!(e.to_string().contains("nested too deeply"), "{e}");
    }
}
