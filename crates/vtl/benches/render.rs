//! Renders a typical `$connect` mapping template (DynamoDB PutItem) once per iteration.

use criterion::{Criterion, criterion_group, criterion_main};
use wsflow_vtl::{RenderContext, Template};

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

fn bench(c: &mut Criterion) {
    let t = Template::parse(CONNECT).expect("template parses");
    let context: serde_json::Map<String, serde_json::Value> = serde_json::from_str(
        r#"{"connectionId":"SOqGjdZioAMCEeg=","requestId":"SOqIDEacoAMFaHQ=",
            "requestTimeEpoch":1652722227357,"routeKey":"$connect","eventType":"CONNECT",
            "stage":"api","identity":{"sourceIp":"127.0.0.1"}}"#,
    )
    .expect("context JSON");
    let stage = serde_json::Map::new();
    let headers: Vec<(String, String)> = [
        ("Host", "127.0.0.1:3001"),
        (
            "Sec-WebSocket-Extensions",
            "permessage-deflate; client_max_window_bits",
        ),
        ("Sec-WebSocket-Key", "oWaeekvolZlFevfyQ7SRRw=="),
        ("Sec-WebSocket-Version", "13"),
        ("ws-uri", "/this/is/my/path"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let query = vec![("foo".to_string(), "bar".to_string())];
    let ctx = RenderContext {
        body: "",
        context: &context,
        stage_variables: &stage,
        headers: &headers,
        query: &query,
        path: &[],
    };
    c.bench_function("render $connect PutItem template", |b| {
        b.iter(|| t.render(std::hint::black_box(&ctx)).expect("renders"))
    });
    for (name, src) in [
        ("context reference", "$context.connectionId"),
        ("params map", "$input.params().get('header')"),
        (
            "escapeJavaScript",
            "$util.escapeJavaScript($input.params('ws-uri'))",
        ),
        (
            "replaceAll",
            "$input.params('ws-uri').replaceAll(\"\\\\'\",\"'\")",
        ),
    ] {
        let t = Template::parse(src).expect("template parses");
        c.bench_function(name, |b| {
            b.iter(|| t.render(std::hint::black_box(&ctx)).expect("renders"))
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
