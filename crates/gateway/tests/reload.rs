//! [`Gateway::reload`]: new routes for the next message of an open
//! connection; a config that does not compile, or that changes the stage, is
//! refused and the current routes keep serving.

mod common;

use common::{TestLambda, api, connect, lambda_route, next_text, send, serve, service_route};
use serde_json::json;
use wsflow_gateway::{Backends, GatewayError};

#[tokio::test]
async fn reloaded_routes_serve_the_open_connection() {
    let lambda = TestLambda::new(|function, _| Ok(json!({"body": function})));
    let s = serve(
        api(vec![lambda_route("which", "FnA", true)]),
        lambda.clone(),
        vec![],
    )
    .await;
    let backends = Backends {
        lambda: lambda.clone(),
        services: vec![],
    };
    let mut ws = connect(s.addr, "/api").await;
    send(&mut ws, r#"{"action":"which"}"#).await;
    assert_eq!(next_text(&mut ws).await, "FnA");

    s.gateway
        .reload(api(vec![lambda_route("which", "FnB", true)]), &backends)
        .unwrap();
    send(&mut ws, r#"{"action":"which"}"#).await;
    assert_eq!(next_text(&mut ws).await, "FnB");
    assert_eq!(s.gateway.connection_count(), 1);
    assert_eq!(s.gateway.config().routes.len(), 1);

    // Refused: an integration with no backend, a new stage. FnB still answers.
    let unknown = service_route("which", "nope", Some("X"), None, "{}", true);
    assert!(s.gateway.reload(api(vec![unknown]), &backends).is_err());
    let mut staged = api(vec![lambda_route("which", "FnA", true)]);
    staged.stage = "other".into();
    assert!(matches!(
        s.gateway.reload(staged, &backends),
        Err(GatewayError::Reload(_))
    ));
    send(&mut ws, r#"{"action":"which"}"#).await;
    assert_eq!(next_text(&mut ws).await, "FnB");
}
