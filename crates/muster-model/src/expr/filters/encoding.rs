//! Hashes, base64 and JSON.

use base64::Engine;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::{DecodePaddingMode, general_purpose};
use md5::Md5;
use minijinja::value::Kwargs;
use minijinja::{Environment, Error, State, Value};
use sha1::Sha1;
use sha2::{Digest, Sha256};

use super::{fail, text};
use crate::expr::convert::to_json;

pub(crate) fn register(env: &mut Environment<'static>) {
    env.add_filter("sha256", |state: &State, value: &Value| {
        hash::<Sha256>(state, value)
    });
    env.add_filter("sha1", |state: &State, value: &Value| {
        hash::<Sha1>(state, value)
    });
    env.add_filter("md5", |state: &State, value: &Value| {
        hash::<Md5>(state, value)
    });
    env.add_filter("b64encode", b64encode);
    env.add_filter("b64decode", b64decode);
    env.add_filter("from_json", from_json);
    env.add_filter("to_json", to_json_filter);
}

/// The lower-case hex digest of the value's UTF-8 bytes (or of the bytes themselves).
fn hash<D: Digest>(state: &State, value: &Value) -> Result<String, Error> {
    let digest = match value.as_bytes().filter(|_| value.as_str().is_none()) {
        Some(bytes) => D::digest(bytes),
        None => D::digest(text(state, value)?.as_bytes()),
    };
    Ok(hex::encode(digest))
}

fn b64encode(state: &State, value: &Value) -> Result<String, Error> {
    Ok(
        match value.as_bytes().filter(|_| value.as_str().is_none()) {
            Some(bytes) => general_purpose::STANDARD.encode(bytes),
            None => general_purpose::STANDARD.encode(text(state, value)?.as_bytes()),
        },
    )
}

/// Accepts the standard and the URL-safe alphabet, with or without padding.
fn b64decode(state: &State, value: &Value, kwargs: Kwargs) -> Result<String, Error> {
    let encoding: Option<String> = kwargs.get("encoding")?;
    kwargs.assert_all_used()?;
    let input = text(state, value)?;
    let input: String = input.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let lenient =
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
    let bytes = GeneralPurpose::new(&base64::alphabet::STANDARD, lenient)
        .decode(&input)
        .or_else(|_| GeneralPurpose::new(&base64::alphabet::URL_SAFE, lenient).decode(&input))
        .map_err(|err| fail("b64decode", format!("not valid base64: {err}")))?;
    match encoding.as_deref().map(str::to_ascii_lowercase).as_deref() {
        None | Some("utf-8" | "utf8") => Ok(String::from_utf8_lossy(&bytes).into_owned()),
        Some("utf-16le" | "utf-16" | "utf16") => {
            let units: Vec<u16> = bytes
                .chunks(2)
                .map(|pair| u16::from_le_bytes([pair[0], pair.get(1).copied().unwrap_or(0)]))
                .collect();
            Ok(String::from_utf16_lossy(&units))
        }
        Some(other) => Err(fail(
            "b64decode",
            format!("unknown encoding `{other}` (use utf-8 or utf-16le)"),
        )),
    }
}

fn from_json(state: &State, value: &Value) -> Result<Value, Error> {
    let input = text(state, value)?;
    let parsed: serde_json::Value = serde_json::from_str(&input)
        .map_err(|err| fail("from_json", format!("not valid JSON: {err}")))?;
    Ok(Value::from(minijinja::value::Serde(&parsed)))
}

fn to_json_filter(state: &State, value: &Value, kwargs: Kwargs) -> Result<String, Error> {
    let pretty: Option<bool> = kwargs.get("pretty")?;
    kwargs.assert_all_used()?;
    if value.is_undefined() {
        // Let the engine name the missing expression.
        text(state, value)?;
    }
    let json = to_json(value).map_err(|err| fail("to_json", err))?;
    let rendered = if pretty.unwrap_or(false) {
        serde_json::to_string_pretty(&json)
    } else {
        serde_json::to_string(&json)
    };
    rendered.map_err(|err| fail("to_json", err))
}
