//! Filters backed by `muster_intel` (defang, refang, iocs, IP and domain helpers). Kept apart
//! from the other filter tests because they exercise the intel crate's implementations.

use muster_model::expr::{Expressions, RenderError, Scope};
use serde_json::{Value, json};

fn eval(expression: &str) -> Result<Value, RenderError> {
    let compiled = Expressions::new()
        .compile(&json!(expression))
        .unwrap_or_else(|problems| panic!("{expression}: {problems:?}"));
    compiled.render(&Scope::new(None))
}

#[track_caller]
fn check(expression: &str, expected: Value) {
    match eval(expression) {
        Ok(value) => assert_eq!(value, expected, "{expression}"),
        Err(err) => panic!("{expression}: {err}"),
    }
}

#[track_caller]
fn fails(expression: &str, needle: &str) {
    match eval(expression) {
        Ok(value) => panic!("{expression} should fail, got {value}"),
        Err(err) => assert!(err.message.contains(needle), "{expression}: {err}"),
    }
}

#[test]
fn defang_and_refang() {
    check(
        r#"{{ "http://evil.example/x" | defang }}"#,
        json!("hxxp[://]evil[.]example/x"),
    );
    check(
        "{{ 'http://evil.example/x' | defang | refang }}",
        json!("http://evil.example/x"),
    );
    check(
        "{{ 'hxxps[://]evil[.]example' | refang }}",
        json!("https://evil.example"),
    );
    check(
        "{{ 'user[@]evil[.]example' | refang }}",
        json!("user@evil.example"),
    );
}

#[test]
fn iocs_are_grouped_by_type() {
    let found = eval("{{ 'see 203.0.113.7 and hxxp://evil[.]example/x' | iocs }}").unwrap();
    assert_eq!(found["ipv4"], json!(["203.0.113.7"]), "{found}");
    assert_eq!(found["url"], json!(["http://evil.example/x"]), "{found}");
    check(
        "{{ ('mail from 198.51.100.1' | iocs).ipv4 | first }}",
        json!("198.51.100.1"),
    );
    // Lists and maps are searched as their JSON text.
    let found = eval("{{ {'src': '192.0.2.1', 'dst': ['192.0.2.2']} | iocs }}").unwrap();
    assert_eq!(found["ipv4"], json!(["192.0.2.1", "192.0.2.2"]), "{found}");
    check("{{ 'nothing here' | iocs }}", json!({}));
}

#[test]
fn private_ips() {
    check("{{ '10.1.2.3' | is_private_ip }}", json!(true));
    check("{{ '192.168.0.1' | is_private_ip }}", json!(true));
    check("{{ '8.8.8.8' | is_private_ip }}", json!(false));
    check("{{ '127.0.0.1' is private_ip }}", json!(true));
    check("{{ '8.8.8.8' is is_private_ip }}", json!(false));
    check("{{ 'example.com' is private_ip }}", json!(false));
    check(
        "{{ ['10.0.0.1', '8.8.8.8', 'x'] | reject('private_ip') | list }}",
        json!(["8.8.8.8", "x"]),
    );
    check("{{ not '8.8.8.8' | is_private_ip }}", json!(true));
    fails(
        "{{ 'example.com' | is_private_ip }}",
        "is_private_ip: `example.com` is not an IP address",
    );
}

#[test]
fn cidr_membership() {
    check("{{ '10.1.2.3' | ip_in_cidr('10.0.0.0/8') }}", json!(true));
    check("{{ '11.1.2.3' | ip_in_cidr('10.0.0.0/8') }}", json!(false));
    check(
        "{{ '2001:db8::1' | ip_in_cidr('2001:db8::/32') }}",
        json!(true),
    );
    check(
        "{{ '192.0.2.9' | ip_in_cidr(['10.0.0.0/8', '192.0.2.0/24']) }}",
        json!(true),
    );
    check(
        "{{ '192.0.2.9' is ip_in_cidr('192.0.2.0/25') }}",
        json!(true),
    );
    fails("{{ '10.1.2.3' | ip_in_cidr('10.0.0.0/33') }}", "ip_in_cidr");
    fails("{{ 'nope' | ip_in_cidr('10.0.0.0/8') }}", "ip_in_cidr");
}

#[test]
fn domains() {
    check(
        "{{ 'https://Mail.Evil.co.uk/login' | domain_of }}",
        json!("mail.evil.co.uk"),
    );
    check(
        "{{ 'someone@Example.ORG' | domain_of }}",
        json!("example.org"),
    );
    check(
        "{{ 'mail.evil.co.uk' | registered_domain }}",
        json!("evil.co.uk"),
    );
    check(
        "{{ 'https://a.b.example.com/x' | registered_domain }}",
        json!("example.com"),
    );
    check("{{ 'localhost' | registered_domain }}", Value::Null);
}

#[test]
fn ip_test_needs_no_intel_state() {
    check("{{ '203.0.113.7' is ip }}", json!(true));
    check("{{ '::1' | is_ip }}", json!(true));
    check("{{ 'evil.example' is ip }}", json!(false));
}
