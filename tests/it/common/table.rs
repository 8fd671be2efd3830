//! Table-driven tests over HTTP: named requests and what each must get
//! (`case`), and `run`, which sends them to one server in order and names
//! its front end in every failure.

use super::Server;
use super::http::Expect;

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
