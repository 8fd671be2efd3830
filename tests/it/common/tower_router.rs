//! A router written by hand for a bare tower service, as a tower stack
//! without a framework has none, and the plumbing of its handlers. The router
//! matches the path, then the method (404, or 405 with `Allow`, before any
//! layer sees the request), and leaves the raw `{org_id}` segment of the
//! matched route in the request's extensions ([`PathOrg`]): the
//! `BearerLayer` has no path parameters, so a handler reading its
//! organization from the path decides its own policy with it.

use std::convert::Infallible;
use std::sync::Arc;

use bearer_policy::tower::{BearerLayer, ResponseBody};
use bearer_policy::{AuthInfo, Denied, Error};
use bytes::Bytes;
use http::header::{ALLOW, CONTENT_TYPE};
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Either, Full};
use hyper::body::Incoming;
use serde_json::Value;
use tower::util::BoxCloneSyncService;
use tower::{Layer, ServiceExt, service_fn};

use super::front_ends::TowerService;

/// The `{org_id}` segment of the matched route, as it stood in the path.
#[derive(Clone)]
pub struct PathOrg(pub String);

pub fn json_response(status: StatusCode, value: &impl serde::Serialize) -> Response<Full<Bytes>> {
    json_text_response(status, serde_json::to_string(value).unwrap())
}

fn json_text_response(status: StatusCode, json: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::from(json));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, "application/json".parse().unwrap());
    response
}

/// A handler's answer: its JSON, or its own denial as the layer would word it.
pub fn decided(outcome: Result<Value, Denied>) -> Response<Full<Bytes>> {
    match outcome {
        Ok(value) => json_response(StatusCode::OK, &value),
        Err(denied) => bearer_policy::error_response(&Error::Denied(denied), None),
    }
}

fn status(status: StatusCode) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::default());
    *response.status_mut() = status;
    response
}

/// What the layer left in the request: it never lets one through without.
pub fn auth_of(request: &Request<Incoming>) -> AuthInfo {
    request.extensions().get::<AuthInfo>().cloned().unwrap()
}

pub fn org_of(request: &Request<Incoming>) -> String {
    request.extensions().get::<PathOrg>().unwrap().0.clone()
}

/// The body as JSON, or the 400 a framework answers for a bad one.
pub async fn json_body(request: Request<Incoming>) -> Result<Value, Response<Full<Bytes>>> {
    let bytes = request.into_body().collect().await.unwrap().to_bytes();
    serde_json::from_slice(&bytes).map_err(|_| status(StatusCode::BAD_REQUEST))
}

/// `handler` behind `layer`, boxed so that every route has one type.
pub fn route<F, Fut>(layer: BearerLayer, handler: F) -> TowerService
where
    F: Fn(Request<Incoming>) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Response<Full<Bytes>>> + Send + 'static,
{
    let inner = service_fn(move |request| {
        let response = handler(request);
        async move { Ok::<_, Infallible>(response.await) }
    });
    BoxCloneSyncService::new(layer.layer(inner))
}

/// A route no layer protects, answering `document` as JSON.
pub fn public(document: &impl serde::Serialize) -> TowerService {
    let json = serde_json::to_string(document).unwrap();
    BoxCloneSyncService::new(service_fn(move |_: Request<Incoming>| {
        let response = json_text_response(StatusCode::OK, json.clone()).map(Either::Left);
        async move { Ok::<Response<ResponseBody<Full<Bytes>>>, Infallible>(response) }
    }))
}

/// The `{org_id}` segment of `path` when it matches `pattern`, or `Some("")`
/// for a pattern without one; `None` when it does not match.
fn matches(pattern: &str, path: &str) -> Option<String> {
    let (pattern, path): (Vec<&str>, Vec<&str>) =
        (pattern.split('/').collect(), path.split('/').collect());
    if pattern.len() != path.len() {
        return None;
    }
    let mut org = String::new();
    for (want, got) in pattern.iter().zip(&path) {
        match *want {
            "{org_id}" => org = (*got).to_owned(),
            literal if literal == *got => {}
            _ => return None,
        }
    }
    Some(org)
}

/// `routes` (method, path with an optional `{org_id}` segment, service)
/// behind one router.
pub fn router(routes: Vec<(Method, &'static str, TowerService)>) -> TowerService {
    let routes: Arc<[_]> = routes.into();
    // Path first, then method: an unknown path is 404, a known one with
    // another method 405 with the methods it has, before any token is read.
    BoxCloneSyncService::new(service_fn(move |mut request: Request<Incoming>| {
        let path = request.uri().path().to_owned();
        let mut allowed = Vec::new();
        let mut chosen = None;
        for (method, pattern, service) in routes.iter() {
            let Some(org) = matches(pattern, &path) else {
                continue;
            };
            allowed.push(method.as_str());
            if method == request.method() {
                chosen = Some((org, service.clone()));
            }
        }
        let outcome = match chosen {
            Some((org, service)) => {
                request.extensions_mut().insert(PathOrg(org));
                Ok(service.oneshot(request))
            }
            None if allowed.is_empty() => Err(status(StatusCode::NOT_FOUND)),
            None => {
                let mut refusal = status(StatusCode::METHOD_NOT_ALLOWED);
                let allow = allowed.join(", ").parse().unwrap();
                refusal.headers_mut().insert(ALLOW, allow);
                Err(refusal)
            }
        };
        async move {
            match outcome {
                Ok(answer) => answer.await,
                Err(refusal) => Ok(refusal.map(Either::Left)),
            }
        }
    }))
}
