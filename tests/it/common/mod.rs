//! Fixtures shared by the integration tests, one concern per file:
//! [`issuer`] (the API's audience, a test issuer, fast validator timings),
//! [`http`] (the bearer header, a response read whole, what it must be),
//! [`table`] (named requests and what each must get, run against a server),
//! [`front_ends`] (the one list of front ends, and a loopback server for
//! each), [`tower_router`] (a router for a bare tower service), [`jws`]
//! (hand-made tokens for attacks) and [`telemetry`] (what a metrics recorder
//! saw).

pub mod actix_body;
pub mod front_ends;
pub mod http;
pub mod issuer;
pub mod jws;
pub mod table;
pub mod telemetry;
pub mod tower_router;

pub use front_ends::{App, FrontEnd, Server};
pub use http::{Challenge, Expect, Response, bearer};
pub use issuer::{API, fast, start_issuer};
