//! The one list of front ends ([`FrontEnd::ALL`]) and a loopback server for
//! each. A suite that runs across front ends loops over the list and builds
//! its app for each with an exhaustive `match`; [`Server::start`] serves that
//! [`App`] the way its framework serves (warp's and axum's own `serve`, hyper
//! for a bare tower service), and every response it reads names the front end.
//!
//! A new front end is one line in [`FrontEnd::ALL`], one [`App`] variant with
//! its arm in [`Server::start`], and one arm (its app) in each suite.

use std::convert::Infallible;
use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;

use bearer_policy::tower::ResponseBody;
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tower::util::BoxCloneSyncService;
use warp::Filter as _;

use super::http::Response;

/// A web framework, or tower's layer without one, serving a suite's routes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrontEnd {
    Warp,
    Axum,
    Tower,
    Actix,
}

impl FrontEnd {
    /// Every front end: each suite that runs across front ends runs against
    /// each of these.
    pub const ALL: [FrontEnd; 4] = [
        FrontEnd::Warp,
        FrontEnd::Axum,
        FrontEnd::Tower,
        FrontEnd::Actix,
    ];
}

impl fmt::Display for FrontEnd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FrontEnd::Warp => "warp",
            FrontEnd::Axum => "axum",
            FrontEnd::Tower => "tower",
            FrontEnd::Actix => "actix",
        })
    }
}

/// A tower service as hyper serves it: the `BearerLayer`'s response body
/// over a `Full` inner body.
pub type TowerService = BoxCloneSyncService<
    http::Request<Incoming>,
    http::Response<ResponseBody<Full<Bytes>>>,
    Infallible,
>;

/// An actix app's routes and data, as every worker of its `HttpServer`
/// configures its own `App` with them.
pub type ActixRoutes = Arc<dyn Fn(&mut actix_web::web::ServiceConfig) + Send + Sync>;

/// A suite's routes on one front end, ready to serve.
pub enum App {
    Warp(warp::filters::BoxedFilter<(warp::reply::Response,)>),
    Axum(axum::Router),
    Tower(TowerService),
    Actix(ActixRoutes),
}

impl App {
    /// A warp filter, its replies made responses so that any filter fits.
    pub fn warp<F, R>(filter: F) -> App
    where
        F: warp::Filter<Extract = (R,)> + Clone + Send + Sync + 'static,
        F::Error: Into<warp::Rejection>,
        R: warp::Reply + Send + 'static,
    {
        App::Warp(filter.map(warp::Reply::into_response).boxed())
    }

    /// An actix app configured by `routes` (routes, services and app data).
    pub fn actix(
        routes: impl Fn(&mut actix_web::web::ServiceConfig) + Send + Sync + 'static,
    ) -> App {
        App::Actix(Arc::new(routes))
    }

    pub fn front_end(&self) -> FrontEnd {
        match self {
            App::Warp(_) => FrontEnd::Warp,
            App::Axum(_) => FrontEnd::Axum,
            App::Tower(_) => FrontEnd::Tower,
            App::Actix(_) => FrontEnd::Actix,
        }
    }
}

/// A running server on 127.0.0.1; shuts down gracefully when dropped.
pub struct Server {
    pub front_end: FrontEnd,
    pub addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

impl Server {
    pub async fn start(app: App) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let front_end = app.front_end();
        let (shutdown, signal) = oneshot::channel::<()>();
        let signal = async move {
            let _ = signal.await;
        };
        match app {
            App::Warp(filter) => {
                let server = warp::serve(filter).incoming(listener).graceful(signal);
                tokio::spawn(server.run());
            }
            App::Axum(router) => {
                let server = axum::serve(listener, router).with_graceful_shutdown(signal);
                tokio::spawn(async move { server.await.unwrap() });
            }
            App::Tower(service) => {
                tokio::spawn(serve_with_hyper(listener, service, signal));
            }
            App::Actix(routes) => serve_with_actix(listener.into_std().unwrap(), routes, signal),
        }
        Server {
            front_end,
            addr,
            shutdown: Some(shutdown),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn get(&self, path: &str) -> reqwest::RequestBuilder {
        client().get(self.url(path))
    }

    pub fn post(&self, path: &str) -> reqwest::RequestBuilder {
        client().post(self.url(path))
    }

    /// Sends `request` and reads the response whole, labelled with this
    /// server's front end so that every failure names it.
    pub async fn send(&self, request: reqwest::RequestBuilder) -> Response {
        Response::read(self.front_end, request.send().await.unwrap()).await
    }
}

/// A client that never goes through a proxy: every test server is on loopback.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

/// Serves `service` with hyper's HTTP/1 connections until `signal`: what a
/// tower stack without a framework runs on.
async fn serve_with_hyper(
    listener: TcpListener,
    service: TowerService,
    signal: impl Future<Output = ()>,
) {
    tokio::pin!(signal);
    loop {
        tokio::select! {
            () = &mut signal => return,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { return };
                let connection = hyper::server::conn::http1::Builder::new().serve_connection(
                    hyper_util::rt::TokioIo::new(stream),
                    hyper_util::service::TowerToHyperService::new(service.clone()),
                );
                tokio::spawn(connection);
            }
        }
    }
}

/// Serves `routes` with actix-web's own `HttpServer` (one worker) on a
/// thread running an actix system, until `signal`.
fn serve_with_actix(
    listener: std::net::TcpListener,
    routes: ActixRoutes,
    signal: impl Future<Output = ()> + Send + 'static,
) {
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let server = actix_web::HttpServer::new(move || {
                let routes = Arc::clone(&routes);
                actix_web::App::new().configure(move |config| routes(config))
            })
            .workers(1)
            .disable_signals()
            .listen(listener)
            .unwrap()
            .run();
            let handle = server.handle();
            actix_web::rt::spawn(async move {
                signal.await;
                handle.stop(true).await;
            });
            server.await.unwrap();
        });
    });
}
