//! Two replicas sharing one real Redis (`redis-server`, spawned on a free
//! loopback port with persistence off, so the test leaves nothing behind):
//! a proof accepted by one is refused by the other, and Redis down is 503.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bearer_policy::RedisReplayStore;
use bearer_policy::testing::{DpopKey, dpop_proof};
use reqwest::header::AUTHORIZATION;

use super::{PUBLIC, apps, dpop, token_from_endpoint};
use crate::common::{Expect, FrontEnd, Server, fast, start_issuer};

/// A `redis-server` child on 127.0.0.1, killed when dropped.
pub struct RedisServer {
    child: Child,
    pub port: u16,
}

impl RedisServer {
    pub fn start() -> RedisServer {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server (apt-get install redis-server; .ci/run installs it)");
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "redis-server did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        RedisServer { child, port }
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn two_replicas_sharing_one_redis_refuse_a_proof_replayed_to_the_other() {
    let redis = RedisServer::start();
    let issuer = start_issuer().await;
    let key = DpopKey::generate();
    let token = token_from_endpoint(&issuer, Some(&key), "orders:read").await;
    let replica = |front_end| {
        let issuer = &issuer;
        let url = redis.url();
        async move {
            let store = RedisReplayStore::new(&url).await.unwrap();
            let v = fast(issuer)
                .dpop_public_url(PUBLIC)
                .dpop_replay_store(Arc::new(store))
                .build()
                .unwrap();
            Server::start(apps::app(front_end, v)).await
        }
    };
    let (one, two) = (replica(FrontEnd::Warp).await, replica(FrontEnd::Axum).await);
    let proof = dpop_proof(&key, "GET", &format!("{PUBLIC}/orders"), &token, None);
    let send = |server: &Server, proof: &str| {
        server
            .get("/orders")
            .header(AUTHORIZATION, dpop(&token))
            .header("DPoP", proof)
    };
    Expect::ok().check("replica one", &one.send(send(&one, &proof)).await);
    Expect::status(401).code("dpop_proof_replayed").check(
        "replica two, the same proof",
        &two.send(send(&two, &proof)).await,
    );
    let fresh = dpop_proof(&key, "GET", &format!("{PUBLIC}/orders"), &token, None);
    Expect::ok().check(
        "replica two, a fresh proof",
        &two.send(send(&two, &fresh)).await,
    );

    drop(redis);
    let after = dpop_proof(&key, "GET", &format!("{PUBLIC}/orders"), &token, None);
    let response = one.send(send(&one, &after)).await;
    Expect::status(503)
        .code("dpop_replay_unavailable")
        .no_challenge()
        .check("Redis down", &response);
}
