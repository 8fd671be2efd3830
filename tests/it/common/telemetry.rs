//! What a metrics recorder saw, and one authorization to make it see
//! something: shared by the metrics tests and the telemetry privacy binary.

use std::collections::BTreeMap;

use bearer_policy::{RequestHead, Requirements, Validator};
use http::header::AUTHORIZATION;
use http::{HeaderMap, HeaderValue, Method, Uri};
use metrics_util::debugging::{DebugValue, Snapshotter};

/// One metric series: its labels and its change since the last read.
#[derive(Debug)]
pub struct Series {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub value: DebugValue,
}

/// The series changed since the last call (a snapshot resets counters).
pub fn read(snapshotter: &Snapshotter) -> Vec<Series> {
    snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .map(|(key, _, _, value)| Series {
            name: key.key().name().to_owned(),
            labels: key
                .key()
                .labels()
                .map(|l| (l.key().to_owned(), l.value().to_owned()))
                .collect(),
            value,
        })
        .collect()
}

/// One authorization through the framework-neutral path, as every front end makes it,
/// for `GET /orgs/acme/data` (path organization `acme`).
pub async fn authorize(
    requirements: &Requirements,
    validator: &Validator,
    authorization: Option<&str>,
) -> Result<(), u16> {
    let (method, uri) = (Method::GET, Uri::from_static("/orgs/acme/data"));
    let mut headers = HeaderMap::new();
    if let Some(value) = authorization {
        headers.insert(AUTHORIZATION, HeaderValue::from_str(value).unwrap());
    }
    let head = RequestHead::new(&method, &uri, &headers).with_path_params(Some("acme").into());
    requirements
        .authorize(validator, &head)
        .await
        .map(drop)
        .map_err(|rejected| rejected.error().status().as_u16())
}
