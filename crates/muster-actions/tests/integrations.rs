//! The built-in integrations against local mocks of each vendor's API, through the real
//! engine: each mock reproduces the vendor's documented request (method, path, auth header,
//! body) and answers (bodies, status codes, rate-limit headers), and each integration has at
//! least one error case.

mod common;

#[path = "integrations/support.rs"]
mod support;

#[path = "integrations/abuseipdb.rs"]
mod abuseipdb;
#[path = "integrations/feeds.rs"]
mod feeds;
#[path = "integrations/firewall.rs"]
mod firewall;
#[path = "integrations/greynoise.rs"]
mod greynoise;
#[path = "integrations/jira.rs"]
mod jira;
#[path = "integrations/nvd.rs"]
mod nvd;
#[path = "integrations/pagerduty.rs"]
mod pagerduty;
#[path = "integrations/slack.rs"]
mod slack;
#[path = "integrations/teams.rs"]
mod teams;
#[path = "integrations/urlscan.rs"]
mod urlscan;
#[path = "integrations/virustotal.rs"]
mod virustotal;
#[path = "integrations/vulncheck.rs"]
mod vulncheck;
