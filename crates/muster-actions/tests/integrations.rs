//! The built-in integrations against local mocks of each vendor's API, through the real
//! engine: each mock reproduces the vendor's documented request (method, path, auth header,
//! body) and answers (bodies, status codes, rate-limit headers), and each integration has at
//! least one error case.

mod common;

#[path = "integrations/support.rs"]
mod support;

#[path = "integrations/virustotal.rs"]
mod virustotal;
