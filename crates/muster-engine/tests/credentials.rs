//! The credential service on a real SQLite store: the master key check, sealing at rest,
//! rotation and what listing shows.

use std::sync::Arc;

use muster_engine::credentials::NewCredential;
use muster_engine::{CredentialError, Credentials, MasterKey, Secret};
use muster_store::{SqliteOptions, SqliteStore, Store};
use serde_json::json;

fn open(dir: &std::path::Path) -> Arc<dyn Store> {
    Arc::new(SqliteStore::open(dir, SqliteOptions::default()).unwrap())
}

fn text(value: &str) -> Secret {
    Secret::from_json(json!({"type": "text", "value": value})).unwrap()
}

fn new(name: &str, value: &str, domains: &[&str]) -> NewCredential {
    NewCredential {
        name: name.into(),
        secret: text(value),
        allowed_domains: domains.iter().map(|d| d.to_string()).collect(),
        description: None,
    }
}

#[tokio::test]
async fn a_different_or_missing_key_is_refused_after_the_first_one() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let key = MasterKey::generate();
    Credentials::new(store.clone(), Some(key.clone()))
        .verify_key()
        .await
        .unwrap();
    Credentials::new(store.clone(), Some(key))
        .verify_key()
        .await
        .unwrap();
    let wrong = Credentials::new(store.clone(), Some(MasterKey::generate()))
        .verify_key()
        .await
        .unwrap_err();
    assert!(wrong.to_string().contains("does not match"), "{wrong}");
    let missing = Credentials::new(store, None)
        .verify_key()
        .await
        .unwrap_err();
    assert!(matches!(missing, CredentialError::NoKey), "{missing}");
}

#[tokio::test]
async fn values_are_sealed_at_rest_and_never_listed() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let credentials = Credentials::new(store.clone(), Some(MasterKey::generate()));
    credentials.verify_key().await.unwrap();
    let info = credentials
        .set(new(
            "virustotal",
            "plaintext-api-key-123",
            &["*.virustotal.com"],
        ))
        .await
        .unwrap();
    assert_eq!(info.kind, "text");
    let listed = serde_json::to_string(&credentials.list().await.unwrap()).unwrap();
    assert!(listed.contains("*.virustotal.com"));
    assert!(!listed.contains("plaintext-api-key-123"));
    let record = store.credential("virustotal").await.unwrap().unwrap();
    assert!(
        !record
            .sealed
            .windows(b"plaintext".len())
            .any(|w| w == b"plaintext")
    );
    let unsealed = credentials.unseal("virustotal").await.unwrap();
    assert_eq!(unsealed.value_of(None).unwrap(), "plaintext-api-key-123");
    assert!(unsealed.check_host("www.virustotal.com").is_ok());
    let refused = unsealed.check_host("evil.example").unwrap_err().to_string();
    assert!(
        refused.contains("`virustotal` may not be sent to `evil.example`"),
        "{refused}"
    );
}

#[tokio::test]
async fn rotation_replaces_the_value_and_keeps_the_domains() {
    let dir = tempfile::tempdir().unwrap();
    let credentials = Credentials::new(open(dir.path()), Some(MasterKey::generate()));
    credentials
        .set(new("api", "first-value", &["api.example.com"]))
        .await
        .unwrap();
    let rotated = credentials
        .rotate("api", text("second-value"))
        .await
        .unwrap();
    assert_eq!(rotated.allowed_domains, vec!["api.example.com".to_string()]);
    assert!(rotated.rotated_at.is_some());
    let unsealed = credentials.unseal("api").await.unwrap();
    assert_eq!(unsealed.value_of(None).unwrap(), "second-value");
    let missing = credentials.rotate("nope", text("x")).await.unwrap_err();
    assert!(matches!(missing, CredentialError::NotFound(_)));
}

#[tokio::test]
async fn bad_names_and_domains_are_rejected_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let credentials = Credentials::new(open(dir.path()), Some(MasterKey::generate()));
    for (credential, expected) in [
        (
            new("has space", "value", &["a.example"]),
            "not a valid credential name",
        ),
        (new("ok", "value", &[]), "at least one allowed domain"),
        (
            new("ok", "value", &["https://a.example"]),
            "is not a host name",
        ),
    ] {
        let err = credentials.set(credential).await.unwrap_err().to_string();
        assert!(err.contains(expected), "{err}");
    }
    assert!(credentials.list().await.unwrap().is_empty());
}

#[tokio::test]
async fn rekeying_reseals_everything_or_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let old = MasterKey::generate();
    let credentials = Credentials::new(store.clone(), Some(old.clone()));
    credentials.verify_key().await.unwrap();
    for name in ["a", "b"] {
        credentials
            .set(new(name, &format!("value-of-{name}"), &["api.example.com"]))
            .await
            .unwrap();
    }
    let new_key = MasterKey::generate();
    assert_eq!(credentials.rekey(&new_key).await.unwrap(), 2);
    let rekeyed = Credentials::new(store.clone(), Some(new_key.clone()));
    rekeyed.verify_key().await.unwrap();
    assert_eq!(
        rekeyed.unseal("b").await.unwrap().value_of(None).unwrap(),
        "value-of-b"
    );
    assert!(
        Credentials::new(store.clone(), Some(old))
            .verify_key()
            .await
            .is_err()
    );

    // A credential that does not open stops the rotation before anything is written.
    let mut broken = store.credential("a").await.unwrap().unwrap();
    broken.sealed = vec![1, 2, 3];
    store.put_credential(broken).await.unwrap();
    let err = rekeyed.rekey(&MasterKey::generate()).await.unwrap_err();
    assert!(
        matches!(err, CredentialError::Sealed(ref name) if name == "a"),
        "{err}"
    );
    rekeyed.verify_key().await.unwrap();
    assert_eq!(
        rekeyed.unseal("b").await.unwrap().value_of(None).unwrap(),
        "value-of-b"
    );
}
