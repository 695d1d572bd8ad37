//! URLs: `url_parse` splits a URL into its parts, `url_decode` undoes percent-encoding
//! (`urlencode` is minijinja's built-in).

use std::collections::BTreeMap;

use minijinja::value::Kwargs;
use minijinja::{Environment, Error, State, Value};

use super::{fail, text};

pub(crate) fn register(env: &mut Environment<'static>) {
    env.add_filter("url_parse", url_parse);
    env.add_filter("url_decode", url_decode);
}

/// `{scheme, host, port, path, query, query_string, fragment, username}`; `query` maps each
/// parameter to its first value; `port` is the explicit port or the scheme's default.
fn url_parse(state: &State, value: &Value) -> Result<Value, Error> {
    let input = text(state, value)?;
    let url = url::Url::parse(input.trim())
        .map_err(|err| fail("url_parse", format!("`{input}` is not a URL: {err}")))?;
    let mut query = serde_json::Map::new();
    for (key, item) in url.query_pairs() {
        query
            .entry(key.into_owned())
            .or_insert_with(|| serde_json::Value::String(item.into_owned()));
    }
    let mut parts = BTreeMap::new();
    parts.insert("scheme", serde_json::Value::from(url.scheme()));
    parts.insert("host", serde_json::Value::from(url.host_str()));
    parts.insert("port", serde_json::Value::from(url.port_or_known_default()));
    parts.insert("path", serde_json::Value::from(url.path()));
    parts.insert("query", serde_json::Value::Object(query));
    parts.insert("query_string", serde_json::Value::from(url.query()));
    parts.insert("fragment", serde_json::Value::from(url.fragment()));
    parts.insert("username", serde_json::Value::from(url.username()));
    Ok(Value::from(minijinja::value::Serde(&parts)))
}

/// Decodes `%XX` sequences (and `+` as a space with `plus=true`); invalid sequences are kept
/// as written and invalid UTF-8 becomes U+FFFD.
fn url_decode(state: &State, value: &Value, kwargs: Kwargs) -> Result<String, Error> {
    let plus: Option<bool> = kwargs.get("plus")?;
    kwargs.assert_all_used()?;
    let plus = plus.unwrap_or(false);
    let input = text(state, value)?;
    let bytes = input.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while let Some(&byte) = bytes.get(at) {
        match byte {
            b'%' => match (
                bytes.get(at + 1).and_then(hex),
                bytes.get(at + 2).and_then(hex),
            ) {
                (Some(high), Some(low)) => {
                    out.push(high << 4 | low);
                    at += 3;
                    continue;
                }
                _ => out.push(byte),
            },
            b'+' if plus => out.push(b' '),
            _ => out.push(byte),
        }
        at += 1;
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

fn hex(byte: &u8) -> Option<u8> {
    (*byte as char).to_digit(16).map(|digit| digit as u8)
}
