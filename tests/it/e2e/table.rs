//! The table machinery of the end-to-end tests: a response read whole,
//! what it must be (`Expect`), named cases, and `run`, which sends them to
//! one server and names its front end in every failure.

use reqwest::header::{HeaderMap, WWW_AUTHENTICATE};
use serde_json::Value;

use super::{FrontEnd, Server};
use crate::common::Challenge;

/// A response, read whole.
pub struct Response {
    /// Who answered: shown by `Debug`, hence in every failure message.
    pub front_end: FrontEnd,
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

/// The body as text, so that a failing case shows what the server said.
impl std::fmt::Debug for Response {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Response")
            .field("front_end", &self.front_end)
            .field("status", &self.status)
            .field("headers", &self.headers)
            .field("body", &String::from_utf8_lossy(&self.body))
            .finish()
    }
}

impl Response {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "body is not JSON ({e}): {:?}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub fn header(&self, name: reqwest::header::HeaderName) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }

    pub fn challenge(&self) -> &str {
        self.header(WWW_AUTHENTICATE)
            .unwrap_or_else(|| panic!("no WWW-Authenticate header: {self:?}"))
    }

    pub fn code(&self) -> String {
        self.json()["code"].as_str().unwrap().to_owned()
    }

    pub fn error_message(&self) -> String {
        self.json()["error"].as_str().unwrap().to_owned()
    }
}

const INVALID_REQUEST: &str = "Bearer error=\"invalid_request\"";
const INVALID_TOKEN: &str = "Bearer error=\"invalid_token\"";
const INSUFFICIENT_SCOPE: &str = "Bearer error=\"insufficient_scope\"";

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

    pub fn ok() -> Self {
        Self::status(200)
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

/// A named request and what it must get.
pub struct Case {
    pub name: String,
    pub request: reqwest::RequestBuilder,
    pub expect: Expect,
}

pub fn case(name: impl Into<String>, request: reqwest::RequestBuilder, expect: Expect) -> Case {
    Case {
        name: name.into(),
        request,
        expect,
    }
}

/// Sends the cases to `server` one after the other, in order, checking each
/// response; a failure names the front end and the case.
pub async fn run(server: &Server, cases: Vec<Case>) {
    for Case {
        name,
        request,
        expect,
    } in cases
    {
        let response = server.send(request).await;
        expect.check(&format!("{}: {name}", server.front_end), &response);
    }
}
