//! Liveness and readiness probes answer without credentials.

use crate::helpers::spawn_app;

#[tokio::test]
async fn liveness_and_readiness_answer_200_without_credentials() {
    let app = spawn_app().await;
    for path in ["/healthz", "/readyz"] {
        let reply = app.get_unauthenticated(&format!("http://{}{path}", app.address)).await;
        assert_eq!(reply.status.as_u16(), 200, "{path}: {}", reply.body);
    }
}
