//! The HTTP side of a test: the bearer header, a response read whole
//! whichever client or service produced it (`Response`), and what it must be
//! (`Expect`, `Challenge`), every failure naming who answered.

use std::fmt;

use http::HeaderMap;
use http::header::{HeaderName, WWW_AUTHENTICATE};
use http_body_util::BodyExt;
use serde_json::Value;

/// The `Authorization` value that presents `token`.
pub fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

/// Whether `text` is an RFC 7235 token68, as `validate` requires before it
/// decodes anything: one or more of `A-Z a-z 0-9 - . _ ~ + /`, then `=`s.
pub fn is_token68(text: &str) -> bool {
    let body = text.trim_end_matches('=');
    !body.is_empty()
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b))
}

/// A response, read whole.
pub struct Response {
    /// Who answered (a front end, an example): shown by `Debug`, hence in
    /// every failure message.
    pub label: String,
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

/// The body as text, so that a failing case shows what the server said.
impl fmt::Debug for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Response")
            .field("label", &self.label)
            .field("status", &self.status)
            .field("headers", &self.headers)
            .field("body", &String::from_utf8_lossy(&self.body))
            .finish()
    }
}

impl Response {
    /// What a server sent to `reqwest`.
    pub async fn read(label: impl fmt::Display, response: reqwest::Response) -> Response {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.bytes().await.unwrap().to_vec();
        Response {
            label: label.to_string(),
            status,
            headers,
            body,
        }
    }

    /// What a server sent to `reqwest`'s blocking client.
    pub fn read_blocking(
        label: impl fmt::Display,
        response: reqwest::blocking::Response,
    ) -> Response {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.bytes().unwrap().to_vec();
        Response {
            label: label.to_string(),
            status,
            headers,
            body,
        }
    }

    /// What a service answered directly, without a server in between.
    pub async fn read_http<B>(label: impl fmt::Display, response: http::Response<B>) -> Response
    where
        B: http_body::Body,
        B::Error: fmt::Debug,
    {
        let (parts, body) = response.into_parts();
        let body = body.collect().await.unwrap().to_bytes().to_vec();
        Response {
            label: label.to_string(),
            status: parts.status.as_u16(),
            headers: parts.headers,
            body,
        }
    }

    pub fn text(&self) -> &str {
        std::str::from_utf8(&self.body)
            .unwrap_or_else(|e| panic!("body is not UTF-8 ({e}): {self:?}"))
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {self:?}"))
    }

    pub fn header(&self, name: HeaderName) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }

    pub fn challenge(&self) -> &str {
        self.header(WWW_AUTHENTICATE)
            .unwrap_or_else(|| panic!("no WWW-Authenticate header: {self:?}"))
    }

    /// The `code` of the JSON error body.
    pub fn code(&self) -> String {
        match self.json()["code"].as_str() {
            Some(code) => code.to_owned(),
            None => panic!("no code in the body: {self:?}"),
        }
    }

    /// The `error` message of the JSON error body.
    pub fn error_message(&self) -> String {
        match self.json()["error"].as_str() {
            Some(message) => message.to_owned(),
            None => panic!("no error message in the body: {self:?}"),
        }
    }
}

/// What a `WWW-Authenticate` challenge must be, in table-driven cases.
#[derive(Debug)]
pub enum Challenge {
    /// Not checked.
    Any,
    /// No challenge at all.
    Absent,
    Exactly(String),
    /// A challenge starting with this (`Bearer error="…"`).
    StartsWith(&'static str),
}

impl Challenge {
    /// Asserts `actual` is as expected; failures name `case`.
    pub fn check(&self, case: &str, actual: Option<&str>) {
        match self {
            Challenge::Any => {}
            Challenge::Absent => assert_eq!(actual, None, "{case}: a challenge"),
            Challenge::Exactly(expected) => {
                assert_eq!(actual, Some(expected.as_str()), "{case}: the challenge")
            }
            Challenge::StartsWith(prefix) => assert!(
                actual.is_some_and(|c| c.starts_with(prefix)),
                "{case}: expected a challenge starting with {prefix}, got {actual:?}"
            ),
        }
    }
}

pub const INVALID_REQUEST: &str = "Bearer error=\"invalid_request\"";
pub const INVALID_TOKEN: &str = "Bearer error=\"invalid_token\"";
pub const INSUFFICIENT_SCOPE: &str = "Bearer error=\"insufficient_scope\"";

/// What a response must be.
#[derive(Debug)]
pub struct Expect {
    pub status: u16,
    pub challenge: Challenge,
    /// The `code` of the JSON error body.
    pub code: Option<&'static str>,
    /// The start of the `error` message of the JSON error body.
    pub message: Option<&'static str>,
    /// Values the JSON body must hold, by JSON pointer (`""`: the whole body).
    pub json: Vec<(&'static str, Value)>,
}

impl Expect {
    /// `status`, nothing else checked.
    pub fn status(status: u16) -> Self {
        Expect {
            status,
            challenge: Challenge::Any,
            code: None,
            message: None,
            json: Vec::new(),
        }
    }

    /// 200 without a challenge.
    pub fn ok() -> Self {
        Self::status(200).no_challenge()
    }

    /// 400 with the `invalid_request` challenge: the header is malformed.
    pub fn invalid_request(code: &'static str) -> Self {
        Self::status(400)
            .challenge_starting(INVALID_REQUEST)
            .code(code)
    }

    /// 401 with the `invalid_token` challenge and an "Invalid token…" message;
    /// `code` says why, when the case pins it.
    pub fn invalid_token(code: Option<&'static str>) -> Self {
        Expect {
            code,
            message: Some("Invalid token"),
            ..Self::status(401).challenge_starting(INVALID_TOKEN)
        }
    }

    /// 403 with the `insufficient_scope` challenge: the policy refused.
    pub fn denied(code: &'static str) -> Self {
        Self::status(403)
            .challenge_starting(INSUFFICIENT_SCOPE)
            .code(code)
    }

    pub fn code(self, code: &'static str) -> Self {
        Expect {
            code: Some(code),
            ..self
        }
    }

    pub fn challenge(self, exactly: impl Into<String>) -> Self {
        Expect {
            challenge: Challenge::Exactly(exactly.into()),
            ..self
        }
    }

    pub fn challenge_starting(self, prefix: &'static str) -> Self {
        Expect {
            challenge: Challenge::StartsWith(prefix),
            ..self
        }
    }

    pub fn no_challenge(self) -> Self {
        Expect {
            challenge: Challenge::Absent,
            ..self
        }
    }

    pub fn json(mut self, pointer: &'static str, value: Value) -> Self {
        self.json.push((pointer, value));
        self
    }

    /// Asserts `response` is as expected; failures name `case`.
    pub fn check(&self, case: &str, response: &Response) {
        assert_eq!(response.status, self.status, "{case}: {response:?}");
        self.challenge.check(
            &format!("{case}: {response:?}"),
            response.header(WWW_AUTHENTICATE),
        );
        if let Some(message) = self.message {
            assert!(
                response.error_message().starts_with(message),
                "{case}: {response:?}"
            );
        }
        if let Some(code) = self.code {
            assert_eq!(response.code(), code, "{case}: {response:?}");
        }
        for (pointer, value) in &self.json {
            assert_eq!(
                response.json().pointer(pointer),
                Some(value),
                "{case}: JSON at {pointer:?}: {response:?}"
            );
        }
    }
}
