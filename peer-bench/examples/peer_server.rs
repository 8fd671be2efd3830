//! The peer over HTTP, for the load comparison (`examples/load.rs` at the
//! repository root): axum 0.7 with jwt-authorizer guarding
//! `GET /api/protected` and `GET /api/ping` (issuer, audience and the
//! `api:read` scope, as our example servers check), and an open `GET /health`;
//! all three answer the same body.
//!
//! ```text
//! POLICY_ISSUER=http://127.0.0.1:…/oidc POLICY_AUDIENCE=https://api.example.com PORT=3002 \
//!     cargo run --release --example peer_server
//! ```

use std::net::{Ipv4Addr, SocketAddr};
use std::process::ExitCode;

use axum::Router;
use axum::routing::get;
use jwt_authorizer::{IntoLayer as _, JwtAuthorizer, JwtClaims, Validation};

/// What the peer deserialises: the scope, to check it as our policy does.
#[derive(Debug, Clone, serde::Deserialize)]
struct Claims {
    scope: Option<String>,
}

async fn protected(JwtClaims(_claims): JwtClaims<Claims>) -> axum::Json<&'static str> {
    axum::Json("ok")
}

#[tokio::main]
async fn main() -> ExitCode {
    let (Ok(issuer), Ok(audience)) = (
        std::env::var("POLICY_ISSUER"),
        std::env::var("POLICY_AUDIENCE"),
    ) else {
        eprintln!("error: POLICY_ISSUER and POLICY_AUDIENCE must be set");
        return ExitCode::from(2);
    };
    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(3002);
    let authorizer = JwtAuthorizer::<Claims>::from_oidc(&issuer)
        .validation(Validation::new().iss(&[issuer.as_str()]).aud(&[audience.as_str()]))
        .check(|claims: &Claims| {
            claims
                .scope
                .as_deref()
                .is_some_and(|s| s.split(' ').any(|s| s == "api:read"))
        })
        .build()
        .await;
    let authorizer = match authorizer {
        Ok(authorizer) => authorizer,
        Err(e) => {
            eprintln!("error: jwt-authorizer: {e}");
            return ExitCode::from(2);
        }
    };
    let app = Router::new()
        .route("/api/protected", get(protected))
        // The root examples' authenticated twin of `/health`: here the same handler.
        .route("/api/ping", get(protected))
        .layer(authorizer.into_layer())
        .route("/health", get(|| async { axum::Json("ok") }));
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let listener = match tokio::net::TcpListener::bind(addr).await {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("error: cannot listen on {addr}: {e}");
            return ExitCode::from(1);
        }
    };
    println!("listening on http://{addr}");
    if let Err(e) = axum::serve(listener, app).await {
        eprintln!("error: {e}");
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}
