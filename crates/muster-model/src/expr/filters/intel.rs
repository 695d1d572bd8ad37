//! Security filters backed by `muster_intel`: defanging, indicator extraction, IP and domain
//! classification.

use std::net::IpAddr;

use minijinja::value::{Kwargs, ValueKind};
use minijinja::{Environment, Error, State, Value};
use muster_intel::{defang, domain, ioc, net};

use super::{fail, text};

pub(crate) fn register(env: &mut Environment<'static>) {
    env.add_filter("defang", defang_filter);
    env.add_filter("refang", refang_filter);
    env.add_filter("iocs", iocs);
    env.add_filter("is_private_ip", is_private_ip_filter);
    env.add_test("is_private_ip", is_private_ip_test);
    env.add_test("private_ip", is_private_ip_test);
    env.add_filter("is_ip", is_ip);
    env.add_test("ip", is_ip);
    env.add_filter("ip_in_cidr", ip_in_cidr_filter);
    env.add_test("ip_in_cidr", ip_in_cidr_test);
    env.add_filter("domain_of", domain_of);
    env.add_filter("registered_domain", registered_domain);
}

fn defang_filter(state: &State, value: &Value) -> Result<String, Error> {
    Ok(defang::defang(&text(state, value)?))
}

fn refang_filter(state: &State, value: &Value) -> Result<String, Error> {
    Ok(defang::refang(&text(state, value)?))
}

/// `{"ipv4": [...], "url": [...], ...}`: indicators grouped by type, refanged, in order of
/// appearance. Lists and maps are searched as their JSON text.
fn iocs(state: &State, value: &Value, kwargs: Kwargs) -> Result<Value, Error> {
    kwargs.assert_all_used()?;
    let text = text(state, value)?;
    state.consume_fuel(text.len() as u64 / 16)?;
    let grouped = ioc::extract_grouped(&text, &ioc::ExtractOptions::default());
    Ok(Value::from(minijinja::value::Serde(&grouped)))
}

fn is_private_ip_filter(state: &State, value: &Value) -> Result<bool, Error> {
    let ip = text(state, value)?;
    net::is_private_ip(ip.trim())
        .ok_or_else(|| fail("is_private_ip", format!("`{ip}` is not an IP address")))
}

/// As a test, values that are not IP addresses are simply not private.
fn is_private_ip_test(value: &Value) -> bool {
    value
        .as_str()
        .and_then(|ip| net::is_private_ip(ip.trim()))
        .unwrap_or(false)
}

fn is_ip(value: &Value) -> bool {
    value
        .as_str()
        .is_some_and(|ip| ip.trim().parse::<IpAddr>().is_ok())
}

/// Whether the IP lies in the CIDR block, or in any of a list of blocks.
fn ip_in_cidr_filter(state: &State, value: &Value, cidrs: &Value) -> Result<bool, Error> {
    let ip = text(state, value)?;
    let ip = ip.trim();
    if cidrs.kind() == ValueKind::Seq {
        for cidr in cidrs.try_iter()? {
            let cidr = text(state, &cidr)?;
            if net::ip_in_cidr(ip, cidr.trim()).map_err(|err| fail("ip_in_cidr", err))? {
                return Ok(true);
            }
        }
        return Ok(false);
    }
    let cidr = text(state, cidrs)?;
    net::ip_in_cidr(ip, cidr.trim()).map_err(|err| fail("ip_in_cidr", err))
}

fn ip_in_cidr_test(state: &State, value: &Value, cidrs: &Value) -> Result<bool, Error> {
    ip_in_cidr_filter(state, value, cidrs)
}

fn domain_of(state: &State, value: &Value) -> Result<Value, Error> {
    Ok(Value::from(domain::domain_of(text(state, value)?.trim())))
}

fn registered_domain(state: &State, value: &Value) -> Result<Value, Error> {
    let host = text(state, value)?;
    let host = host.trim();
    // Accept URLs and email addresses as well as bare host names.
    let host = domain::domain_of(host).unwrap_or_else(|| host.to_ascii_lowercase());
    Ok(Value::from(domain::registered_domain(&host)))
}
