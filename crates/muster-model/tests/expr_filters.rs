//! Filters and functions that do not depend on `muster_intel` (those are in
//! `expr_intel.rs`). Each documented example in docs/expressions.md has a check here.

use std::sync::Arc;

use muster_model::expr::{Expressions, RenderError, Scope};
use muster_model::{ContextNode, EventId};
use serde_json::{Value, json};

fn scope_chain() -> Arc<ContextNode> {
    ContextNode::new(
        EventId::new(),
        "alert",
        Arc::new(json!({
            "body": {
                "text": "Login from 203.0.113.7 at 2024-05-01T12:00:00Z",
                "epoch": 1714564800,
                "epoch_ms": 1714564800123_i64,
                "tags": ["b", "a", "b", "c"],
                "nested": [[1, 2], [3, [4, 5]]],
                "users": [{"name": "ann", "admin": true}, {"name": "bob", "admin": false}],
                "headers": {"From": "x@example.com", "To": "y@example.com"},
                "json": "{\"a\": [1, 2], \"b\": null}",
                "b64": "aGVsbG8gd29ybGQ=",
                "url": "https://user@evil.example:8443/login/reset?next=%2Fhome&id=7&id=8#frag"
            }
        })),
        None,
    )
}

fn eval(expression: &str) -> Result<Value, RenderError> {
    let chain = scope_chain();
    let compiled = Expressions::new()
        .compile(&json!(expression))
        .unwrap_or_else(|problems| panic!("{expression}: {problems:?}"));
    compiled.render(&Scope::new(Some(&chain)))
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
fn hashes() {
    check(
        "{{ 'abc' | sha256 }}",
        json!("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
    );
    check(
        "{{ 'abc' | sha1 }}",
        json!("a9993e364706816aba3e25717850c26c9cd0d89d"),
    );
    check(
        "{{ 'abc' | md5 }}",
        json!("900150983cd24fb0d6963f7d28e17f72"),
    );
    check("{{ 42 | md5 }}", json!("a1d0c6e83f027327d8461063f4ac58a6"));
}

#[test]
fn base64() {
    check("{{ 'hello world' | b64encode }}", json!("aGVsbG8gd29ybGQ="));
    check("{{ alert.body.b64 | b64decode }}", json!("hello world"));
    check("{{ 'aGVsbG8gd29ybGQ' | b64decode }}", json!("hello world"));
    check("{{ 'Pz8_' | b64decode }}", json!("???"));
    // PowerShell -EncodedCommand is UTF-16LE.
    check(
        "{{ 'dwBoAG8AYQBtAGkA' | b64decode(encoding='utf-16le') }}",
        json!("whoami"),
    );
    fails(
        "{{ 'not base64!' | b64decode }}",
        "b64decode: not valid base64",
    );
    fails(
        "{{ 'aGk=' | b64decode(encoding='latin9') }}",
        "unknown encoding",
    );
}

#[test]
fn json() {
    check(
        "{{ alert.body.json | from_json }}",
        json!({"a": [1, 2], "b": null}),
    );
    check("{{ (alert.body.json | from_json).a[1] }}", json!(2));
    check(
        "{{ {'b': 1, 'a': [true, none]} | to_json }}",
        json!(r#"{"b":1,"a":[true,null]}"#),
    );
    check("{{ [1] | to_json(pretty=true) }}", json!("[\n  1\n]"));
    check("{{ {'a': 1} | tojson }}", json!(r#"{"a": 1}"#));
    fails("{{ '{bad' | from_json }}", "from_json: not valid JSON");
}

#[test]
fn regexes() {
    check(
        "{{ alert.body.text | regex_match('\\\\d+\\\\.\\\\d+') }}",
        json!(true),
    );
    check(
        "{{ alert.body.text | regex_match('^\\\\d') }}",
        json!(false),
    );
    check(
        "{{ 'ABC' | regex_match('abc', ignorecase=true) }}",
        json!(true),
    );
    check("{{ 'ABC' is regex_match('^A') }}", json!(true));
    check(
        "{{ alert.body.text | regex_search('(\\\\d+\\\\.\\\\d+\\\\.\\\\d+\\\\.\\\\d+)') }}",
        json!("203.0.113.7"),
    );
    check("{{ 'abc' | regex_search('z') }}", Value::Null);
    check(
        "{{ 'a1b22c333' | regex_findall('\\\\d+') }}",
        json!(["1", "22", "333"]),
    );
    check(
        "{{ 'k=v; x=y' | regex_findall('(\\\\w)=(\\\\w)') }}",
        json!([["k", "v"], ["x", "y"]]),
    );
    check(
        "{{ 'k=v; x=y' | regex_findall('(\\\\w)=') }}",
        json!(["k", "x"]),
    );
    check("{{ 'a-b-c' | regex_replace('-', '.') }}", json!("a.b.c"));
    check(
        "{{ 'a-b-c' | regex_replace('-', '.', count=1) }}",
        json!("a.b-c"),
    );
    check(
        "{{ 'john.doe' | regex_replace('(\\\\w+)\\\\.(\\\\w+)', '$2, $1') }}",
        json!("doe, john"),
    );
    fails(
        "{{ 'x' | regex_match('(') }}",
        "regex_match: invalid pattern",
    );
    fails(
        "{{ 'x' | regex_match('a' * 5000) }}",
        "longer than 4096 bytes",
    );
    fails(
        "{{ 'x' | regex_match('a', flags=1) }}",
        "unknown keyword argument",
    );
}

#[test]
fn datetimes() {
    check("{{ alert.body.epoch | dt }}", json!("2024-05-01T12:00:00Z"));
    check(
        "{{ alert.body.epoch_ms | dt }}",
        json!("2024-05-01T12:00:00.123Z"),
    );
    check("{{ '1714564800' | dt }}", json!("2024-05-01T12:00:00Z"));
    check(
        "{{ dt('2024-05-01T14:00:00+02:00') }}",
        json!("2024-05-01T12:00:00Z"),
    );
    check(
        "{{ dt('2024-05-01 12:00:00') }}",
        json!("2024-05-01T12:00:00Z"),
    );
    check("{{ dt('2024-05-01') }}", json!("2024-05-01T00:00:00Z"));
    check(
        "{{ dt('Wed, 01 May 2024 14:00:00 +0200') }}",
        json!("2024-05-01T12:00:00Z"),
    );
    check(
        "{{ dt('01/05/2024 12:00', '%d/%m/%Y %H:%M') }}",
        json!("2024-05-01T12:00:00Z"),
    );
    check(
        "{{ alert.body.epoch | dt | strftime('%Y-%m-%d %H:%M') }}",
        json!("2024-05-01 12:00"),
    );
    check(
        "{{ alert.body.epoch | strftime('%H:%M %Z', tz='Europe/Paris') }}",
        json!("14:00 CEST"),
    );
    check(
        "{{ dt(alert.body.epoch).strftime('%d.%m.%Y') }}",
        json!("01.05.2024"),
    );
    check(
        "{{ alert.body.epoch | dt_add(hours=1, minutes=30) }}",
        json!("2024-05-01T13:30:00Z"),
    );
    check(
        "{{ alert.body.epoch | dt_add(-86400) }}",
        json!("2024-04-30T12:00:00Z"),
    );
    check(
        "{{ dt(alert.body.epoch).add(days=1).iso }}",
        json!("2024-05-02T12:00:00Z"),
    );
    check("{{ (alert.body.epoch | dt).year }}", json!(2024));
    check(
        "{{ (alert.body.epoch | dt).epoch + 60 }}",
        json!(1714564860),
    );
    check("{{ (alert.body.epoch | dt).weekday }}", json!(2));
    check("{{ dt('2024-05-02') > dt('2024-05-01') }}", json!(true));
    check(
        "{{ dt(1714564800) == dt('2024-05-01T12:00:00Z') }}",
        json!(true),
    );
    check("{{ now() > dt('2024-01-01') }}", json!(true));
    check("{{ dt('now') is datetime }}", json!(true));
    check("{{ 'on ' ~ dt(0) }}", json!("on 1970-01-01T00:00:00Z"));
    fails("{{ 'yesterday' | dt }}", "dt: cannot read `yesterday`");
    fails(
        "{{ dt('2024-13-01', '%Y-%m-%d') }}",
        "does not match the format",
    );
    fails("{{ now() | strftime('%Q') }}", "strftime: invalid format");
    fails(
        "{{ now() | strftime('%H', tz='Mars/Base') }}",
        "unknown time zone",
    );
    fails("{{ now().explode() }}", "no method `explode`");
}

#[test]
fn conversions_and_strings() {
    check("{{ '12' | int }}", json!(12));
    check("{{ '0x1f' | int(base=16) }}", json!(31));
    check("{{ 'n/a' | int(default=0) }}", json!(0));
    check("{{ '1.5' | float }}", json!(1.5));
    check("{{ 12 | string }}", json!("12"));
    check("{{ 'MiXeD' | lower }}", json!("mixed"));
    check("{{ 'MiXeD' | upper }}", json!("MIXED"));
    check("{{ '  padded  ' | trim }}", json!("padded"));
    check("{{ 'a,b,c' | split(',') }}", json!(["a", "b", "c"]));
    check("{{ ['a', 'b'] | join(', ') }}", json!("a, b"));
    check("{{ 'abc' | length }}", json!(3));
    check("{{ 'https://x' | startswith('https://') }}", json!(true));
    check(
        "{{ 'https://x' is startswith(['ftp:', 'https:']) }}",
        json!(true),
    );
    check("{{ 'report.pdf.exe' | endswith('.exe') }}", json!(true));
    check(
        "{{ 'report.pdf' is endswith(['.exe', '.scr']) }}",
        json!(false),
    );
    check("{{ 'a b' | urlencode }}", json!("a%20b"));
    check("{{ 'a%20b%2Fc+d' | url_decode }}", json!("a b/c+d"));
    check("{{ 'a+b%zz' | url_decode(plus=true) }}", json!("a b%zz"));
    fails(
        "{{ 'twelve' | int }}",
        "int: cannot read `twelve` as a whole number",
    );
    fails("{{ 'x' | float }}", "float: cannot read `x` as a number");
}

#[test]
fn collections() {
    check("{{ alert.body.headers | keys }}", json!(["From", "To"]));
    check(
        "{{ alert.body.headers | values }}",
        json!(["x@example.com", "y@example.com"]),
    );
    check(
        "{{ alert.body.headers | items }}",
        json!([["From", "x@example.com"], ["To", "y@example.com"]]),
    );
    check("{{ alert.body.tags | unique }}", json!(["b", "a", "c"]));
    check("{{ alert.body.tags | sort }}", json!(["a", "b", "b", "c"]));
    check("{{ alert.body.tags | first }}", json!("b"));
    check("{{ alert.body.tags | last }}", json!("c"));
    check("{{ alert.body.nested | flatten }}", json!([1, 2, 3, 4, 5]));
    check(
        "{{ alert.body.nested | flatten(levels=1) }}",
        json!([1, 2, 3, [4, 5]]),
    );
    check("{{ [3, 1, 2] | min }}", json!(1));
    check("{{ [3, 1, 2] | max }}", json!(3));
    check("{{ [3, 1, 2] | sum }}", json!(6));
    check(
        "{{ alert.body.users | map(attribute='name') | list }}",
        json!(["ann", "bob"]),
    );
    check(
        "{{ alert.body.users | selectattr('admin') | map(attribute='name') | list }}",
        json!(["ann"]),
    );
    check("{{ [1, 2, 3, 4] | select('even') | list }}", json!([2, 4]));
    check("{{ [1, 2, 3, 4] | reject('even') | list }}", json!([1, 3]));
    check("{{ alert.body.tags | contains('c') }}", json!(true));
    check(
        "{{ alert.body.text | contains('203.0.113.7') }}",
        json!(true),
    );
    check("{{ alert.body.headers is contains('From') }}", json!(true));
    check("{{ alert.body.headers | contains('Cc') }}", json!(false));
    check("{{ 'a' in alert.body.tags }}", json!(true));
    check("{{ range(3) | list }}", json!([0, 1, 2]));
    fails("{{ alert.body.tags | keys }}", "keys: expected a map");
    fails("{{ 'x' | flatten }}", "flatten: expected a list");
}

#[test]
fn urls() {
    check(
        "{{ alert.body.url | url_parse }}",
        json!({
            "fragment": "frag",
            "host": "evil.example",
            "path": "/login/reset",
            "port": 8443,
            "query": {"next": "/home", "id": "7"},
            "query_string": "next=%2Fhome&id=7&id=8",
            "scheme": "https",
            "username": "user"
        }),
    );
    check("{{ ('http://example.com/' | url_parse).port }}", json!(80));
    fails(
        "{{ 'not a url' | url_parse }}",
        "url_parse: `not a url` is not a URL",
    );
}

#[test]
fn uuid_and_now_are_fresh() {
    let value = eval("{{ [uuid(), uuid()] }}").unwrap();
    let ids: Vec<_> = value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids[0].len(), 36);
    assert_ne!(ids[0], ids[1]);
    let now = eval("{{ now() }}").unwrap();
    assert!(now.as_str().unwrap().ends_with('Z'), "{now}");
}

/// The examples of docs/expressions.md that need no event data, exactly as written there
/// (intel-backed ones are in `expr_intel.rs`).
#[test]
fn documented_examples() {
    let examples = [
        (
            r#"{{ "abc" | sha256 }}"#,
            json!("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ),
        (
            r#"{{ "abc" | sha1 }}"#,
            json!("a9993e364706816aba3e25717850c26c9cd0d89d"),
        ),
        (
            r#"{{ "abc" | md5 }}"#,
            json!("900150983cd24fb0d6963f7d28e17f72"),
        ),
        (
            r#"{{ "hello world" | b64encode }}"#,
            json!("aGVsbG8gd29ybGQ="),
        ),
        (
            r#"{{ "aGVsbG8gd29ybGQ=" | b64decode }}"#,
            json!("hello world"),
        ),
        (r#"{{ '{"a": [1, 2]}' | from_json }}"#, json!({"a": [1, 2]})),
        (
            r#"{{ {"b": 1, "a": [true, none]} | to_json }}"#,
            json!(r#"{"b":1,"a":[true,null]}"#),
        ),
        (r#"{{ {"a": 1} | tojson }}"#, json!(r#"{"a": 1}"#)),
        (
            r#"{{ "Login from 203.0.113.7" | regex_match('\\d+\\.\\d+') }}"#,
            json!(true),
        ),
        (
            r#"{{ "user=jdoe;" | regex_search('user=(\\w+)') }}"#,
            json!("jdoe"),
        ),
        (
            r#"{{ "a1b22c333" | regex_findall('\\d+') }}"#,
            json!(["1", "22", "333"]),
        ),
        (
            r#"{{ "john.doe" | regex_replace('(\\w+)\\.(\\w+)', '$2, $1') }}"#,
            json!("doe, john"),
        ),
        (r#"{{ 1714564800 | dt }}"#, json!("2024-05-01T12:00:00Z")),
        (
            r#"{{ 1714564800 | strftime("%H:%M %Z", tz="Europe/Paris") }}"#,
            json!("14:00 CEST"),
        ),
        (
            r#"{{ 1714564800 | dt_add(hours=1, minutes=30) }}"#,
            json!("2024-05-01T13:30:00Z"),
        ),
        (r#"{{ now() is datetime }}"#, json!(true)),
        (r#"{{ (1714564800 | dt).epoch + 3600 }}"#, json!(1714568400)),
        (
            r#"{{ dt(1714564800).add(days=7).strftime("%Y-%m-%d") }}"#,
            json!("2024-05-08"),
        ),
        (
            r#"{{ dt("01/05/2024 12:00", "%d/%m/%Y %H:%M") }}"#,
            json!("2024-05-01T12:00:00Z"),
        ),
        (
            r#"{{ dt("Wed, 01 May 2024 14:00:00 +0200") }}"#,
            json!("2024-05-01T12:00:00Z"),
        ),
        (r#"{{ "12" | int }}"#, json!(12)),
        (r#"{{ "1.5" | float }}"#, json!(1.5)),
        (r#"{{ 12 | string }}"#, json!("12")),
        (r#"{{ "MiXeD" | lower }}"#, json!("mixed")),
        (r#"{{ "  padded  " | trim }}"#, json!("padded")),
        (r#"{{ "a,b,c" | split(",") }}"#, json!(["a", "b", "c"])),
        (r#"{{ ["a", "b"] | join(", ") }}"#, json!("a, b")),
        (r#"{{ "abc" | length }}"#, json!(3)),
        (
            r#"{{ {"From": 1, "To": 2} | keys }}"#,
            json!(["From", "To"]),
        ),
        (r#"{{ {"From": 1, "To": 2} | values }}"#, json!([1, 2])),
        (r#"{{ {"From": 1} | items }}"#, json!([["From", 1]])),
        (r#"{{ ["b", "a", "b"] | unique }}"#, json!(["b", "a"])),
        (r#"{{ [[1, 2], [3, [4]]] | flatten }}"#, json!([1, 2, 3, 4])),
        (
            r#"{{ [[1, 2], [3, [4]]] | flatten(levels=1) }}"#,
            json!([1, 2, 3, [4]]),
        ),
        (r#"{{ ["b", "a"] | sort }}"#, json!(["a", "b"])),
        (r#"{{ ["b", "a"] | first }}"#, json!("b")),
        (r#"{{ [3, 1, 2] | sum }}"#, json!(6)),
        (
            r#"{{ [1, 2, 3, 4] | select("even") | list }}"#,
            json!([2, 4]),
        ),
        (
            r#"{{ "report.pdf.exe" | endswith([".exe", ".scr"]) }}"#,
            json!(true),
        ),
        (r#"{{ range(3) | list }}"#, json!([0, 1, 2])),
        (r#"{{ "a%20b%2Fc" | url_decode }}"#, json!("a b/c")),
        (r#"{{ "a b" | urlencode }}"#, json!("a%20b")),
        (
            r#"{{ "https://user@evil.example:8443/p?id=7#f" | url_parse }}"#,
            json!({"scheme": "https", "host": "evil.example", "port": 8443, "path": "/p",
                   "query": {"id": "7"}, "query_string": "id=7", "fragment": "f", "username": "user"}),
        ),
        (
            r#"{{ {"a": 1, "b": "x y"} | urlencode }}"#,
            json!("a=1&b=x%20y"),
        ),
    ];
    for (expression, expected) in examples {
        check(expression, expected);
    }
}
