//! Helpers shared by the email test files: fixture loading and message mutations for
//! property tests.
#![allow(dead_code)]

use proptest::prelude::*;

/// Every fixture message, in name order.
pub fn fixture_names() -> Vec<String> {
    let dir = format!("{}/tests/emails", env!("CARGO_MANIFEST_DIR"));
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|error| panic!("{dir}: {error}"))
        .filter_map(|entry| entry.ok())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".eml"))
        .collect();
    names.sort();
    names
}

/// The bytes of a fixture message.
pub fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/emails/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|error| panic!("{path}: {error}"))
}

#[derive(Debug, Clone)]
pub enum Mutation {
    Flip(usize, u8),
    Truncate(usize),
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
    Duplicate(usize, usize),
}

pub fn mutation() -> impl Strategy<Value = Mutation> {
    let snippets = prop::sample::select(vec![
        b"\r\n".to_vec(),
        b"\r\n\r\n".to_vec(),
        b"--".to_vec(),
        b"=?utf-8?B?".to_vec(),
        b"Content-Type: message/rfc822\r\n\r\n".to_vec(),
        b"Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n".to_vec(),
        b"Content-Transfer-Encoding: base64\r\n".to_vec(),
        b"<a href=\"".to_vec(),
        b"&#x".to_vec(),
        b"\xff\xfe\x00".to_vec(),
    ]);
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| Mutation::Flip(at, byte)),
        any::<usize>().prop_map(Mutation::Truncate),
        (
            any::<usize>(),
            prop_oneof![snippets, prop::collection::vec(any::<u8>(), 0..32)]
        )
            .prop_map(|(at, bytes)| Mutation::Insert(at, bytes)),
        (any::<usize>(), 0usize..64).prop_map(|(at, len)| Mutation::Delete(at, len)),
        (any::<usize>(), 0usize..256).prop_map(|(at, len)| Mutation::Duplicate(at, len)),
    ]
}

pub fn apply(mut data: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    for mutation in mutations {
        let len = data.len().max(1);
        match mutation {
            Mutation::Flip(at, byte) => {
                if let Some(target) = data.get_mut(at % len) {
                    *target ^= byte;
                }
            }
            Mutation::Truncate(at) => data.truncate(at % len),
            Mutation::Insert(at, bytes) => {
                let at = (at % len).min(data.len());
                data.splice(at..at, bytes.iter().copied());
            }
            Mutation::Delete(at, count) => {
                let at = (at % len).min(data.len());
                let end = (at + count).min(data.len());
                data.drain(at..end);
            }
            Mutation::Duplicate(at, count) => {
                let at = (at % len).min(data.len());
                let end = (at + count).min(data.len());
                let copy = data[at..end].to_vec();
                data.splice(end..end, copy);
            }
        }
    }
    data
}
