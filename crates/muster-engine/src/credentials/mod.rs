//! Credentials: named secrets sealed under the master key, usable only toward their allowed
//! domains, and redacted from everything the engine records.
//!
//! Layout: `vault` (the master key, sealing), `secret` (the types and their fields),
//! `domains` (allowed-domain patterns), `redact` (hiding secrets in recorded text). Playbooks
//! reach a credential through `{{ credentials.NAME }}`, which renders a reference
//! (`muster_model::expr::CredentialRef`); the code that sends a request turns references into
//! values with [`Credentials::unseal`] after checking the destination.

mod domains;
mod redact;
mod secret;
mod vault;

use std::sync::Arc;

use muster_model::expr::{replace_references, valid_name};
use muster_store::{CredentialRecord, Millis, Store, StoreError, now_millis};
use serde::Serialize;

pub use domains::{allowed as domain_allowed, check_pattern as check_domain_pattern};
pub use redact::Redactor;
pub use secret::Secret;
pub use vault::MasterKey;

use crate::action::ActionError;

/// The store setting that proves which master key sealed this store's credentials (see
/// [`is_key_check`]).
pub const KEY_CHECK: &str = "master_key_check";
const KEY_CHECK_TEXT: &[u8] = b"muster master key check";

/// Why a credential could not be written or used. Messages never contain secret values.
#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    #[error("credential `{0}` does not exist")]
    NotFound(String),
    #[error(
        "credential `{credential}` may not be sent to `{host}` (its allowed domains: {allowed})"
    )]
    NotAllowed {
        credential: String,
        host: String,
        allowed: String,
    },
    #[error("credential `{credential}` ({kind}) has no field `{field}`{}", fields_hint(.fields))]
    NoField {
        credential: String,
        kind: &'static str,
        field: String,
        fields: &'static [&'static str],
    },
    #[error(
        "credential `{credential}` is a `{kind}` credential: its token is made per request; \
         use it as `auth: credentials.{credential}` of `http_request`"
    )]
    TokenOnly {
        credential: String,
        kind: &'static str,
    },
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    MasterKey(String),
    #[error(
        "credentials need a master key: set MUSTER_MASTER_KEY or let `muster serve` create \
         <data-dir>/master-key"
    )]
    NoKey,
    #[error(
        "credential `{0}` cannot be opened with this master key (it was sealed with another one)"
    )]
    Sealed(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn fields_hint(fields: &[&str]) -> String {
    if fields.is_empty() {
        String::new()
    } else {
        format!("; its fields are {}", fields.join(", "))
    }
}

impl From<CredentialError> for ActionError {
    fn from(err: CredentialError) -> Self {
        match err {
            CredentialError::Store(e) => {
                ActionError::transient(format!("reading credentials: {e}"))
            }
            other => ActionError::permanent(other.to_string()),
        }
    }
}

/// A credential to write.
#[derive(Debug, Clone)]
pub struct NewCredential {
    pub name: String,
    pub secret: Secret,
    pub allowed_domains: Vec<String>,
    pub description: Option<String>,
}

/// What may be shown about a credential: everything but its value.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CredentialInfo {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub allowed_domains: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub created_at: Millis,
    pub updated_at: Millis,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rotated_at: Option<Millis>,
}

impl From<CredentialRecord> for CredentialInfo {
    fn from(record: CredentialRecord) -> Self {
        Self {
            name: record.name,
            kind: record.kind,
            allowed_domains: record.allowed_domains,
            description: record.description,
            created_at: record.created_at,
            updated_at: record.updated_at,
            rotated_at: record.rotated_at,
        }
    }
}

/// A credential opened for use.
#[derive(Debug)]
pub struct Unsealed {
    pub name: String,
    pub secret: Secret,
    pub allowed_domains: Vec<String>,
}

impl Unsealed {
    /// Fails unless the credential may be sent to `host`.
    pub fn check_host(&self, host: &str) -> Result<(), CredentialError> {
        if domains::allowed(host, &self.allowed_domains) {
            Ok(())
        } else {
            Err(CredentialError::NotAllowed {
                credential: self.name.clone(),
                host: host.to_string(),
                allowed: self.allowed_domains.join(", "),
            })
        }
    }

    /// The static value a reference (`credentials.NAME` or `credentials.NAME.FIELD`) stands for.
    pub fn value_of(&self, field: Option<&str>) -> Result<&str, CredentialError> {
        match field {
            None => self
                .secret
                .main_value()
                .ok_or_else(|| CredentialError::TokenOnly {
                    credential: self.name.clone(),
                    kind: self.secret.kind(),
                }),
            Some(field) => self
                .secret
                .field(field)
                .ok_or_else(|| CredentialError::NoField {
                    credential: self.name.clone(),
                    kind: self.secret.kind(),
                    field: field.to_string(),
                    fields: self.secret.field_names(),
                }),
        }
    }
}

/// The engine's credential service. Cheap to clone.
#[derive(Clone)]
pub struct Credentials {
    store: Arc<dyn Store>,
    key: Option<MasterKey>,
    redactor: Redactor,
}

impl Credentials {
    pub fn new(store: Arc<dyn Store>, key: Option<MasterKey>) -> Self {
        Self {
            store,
            key,
            redactor: Redactor::default(),
        }
    }

    /// What hides secrets this process has handled.
    pub fn redactor(&self) -> &Redactor {
        &self.redactor
    }

    /// Checks that the master key is the one this store's credentials were sealed with,
    /// recording it on first use. A wrong key is an error, never a silent re-key.
    pub async fn verify_key(&self) -> Result<(), CredentialError> {
        let Some(key) = &self.key else {
            return match self.store.setting(KEY_CHECK).await? {
                Some(_) => Err(CredentialError::NoKey),
                None => Ok(()),
            };
        };
        let stored = self
            .store
            .init_setting(KEY_CHECK, key.seal(KEY_CHECK, KEY_CHECK_TEXT))
            .await?;
        if is_key_check(key, &stored) {
            Ok(())
        } else {
            Err(CredentialError::MasterKey(
                "the master key does not match the one this data directory's credentials were \
                 sealed with; set MUSTER_MASTER_KEY (or restore <data-dir>/master-key) to that key"
                    .into(),
            ))
        }
    }

    fn key(&self) -> Result<&MasterKey, CredentialError> {
        self.key.as_ref().ok_or(CredentialError::NoKey)
    }

    /// Creates or replaces a credential.
    pub async fn set(&self, new: NewCredential) -> Result<CredentialInfo, CredentialError> {
        check_name(&new.name)?;
        if new.allowed_domains.is_empty() {
            return Err(CredentialError::Invalid(format!(
                "credential `{}` needs at least one allowed domain (e.g. `api.example.com` or \
                 `*.example.com`)",
                new.name
            )));
        }
        for pattern in &new.allowed_domains {
            domains::check_pattern(pattern).map_err(CredentialError::Invalid)?;
        }
        let now = now_millis();
        let previous = self.store.credential(&new.name).await?;
        let record = CredentialRecord {
            name: new.name.clone(),
            kind: new.secret.kind().to_string(),
            sealed: self.seal(&new.name, &new.secret)?,
            allowed_domains: new.allowed_domains,
            description: new.description,
            created_at: previous.as_ref().map_or(now, |p| p.created_at),
            updated_at: now,
            rotated_at: previous.and_then(|p| p.rotated_at),
        };
        self.store.put_credential(record).await?;
        self.info(&new.name).await
    }

    /// Replaces a credential's value, keeping its allowed domains and description.
    pub async fn rotate(
        &self,
        name: &str,
        secret: Secret,
    ) -> Result<CredentialInfo, CredentialError> {
        let mut record = self
            .store
            .credential(name)
            .await?
            .ok_or_else(|| CredentialError::NotFound(name.to_string()))?;
        let now = now_millis();
        record.kind = secret.kind().to_string();
        record.sealed = self.seal(name, &secret)?;
        record.updated_at = now;
        record.rotated_at = Some(now);
        self.store.put_credential(record).await?;
        self.info(name).await
    }

    fn seal(&self, name: &str, secret: &Secret) -> Result<Vec<u8>, CredentialError> {
        let plaintext = serde_json::to_vec(secret)
            .map_err(|e| CredentialError::Invalid(format!("credential `{name}`: {e}")))?;
        Ok(self.key()?.seal(name, &plaintext))
    }

    async fn info(&self, name: &str) -> Result<CredentialInfo, CredentialError> {
        self.get(name)
            .await?
            .ok_or_else(|| CredentialError::NotFound(name.to_string()))
    }

    pub async fn get(&self, name: &str) -> Result<Option<CredentialInfo>, CredentialError> {
        Ok(self.store.credential(name).await?.map(CredentialInfo::from))
    }

    pub async fn list(&self) -> Result<Vec<CredentialInfo>, CredentialError> {
        Ok(self
            .store
            .credentials()
            .await?
            .into_iter()
            .map(CredentialInfo::from)
            .collect())
    }

    pub async fn delete(&self, name: &str) -> Result<bool, CredentialError> {
        Ok(self.store.delete_credential(name).await?)
    }

    /// Opens a credential for use; its secret strings are learnt by the redactor first.
    pub async fn unseal(&self, name: &str) -> Result<Unsealed, CredentialError> {
        let record = self
            .store
            .credential(name)
            .await?
            .ok_or_else(|| CredentialError::NotFound(name.to_string()))?;
        let plaintext = self
            .key()?
            .open(name, &record.sealed)
            .ok_or_else(|| CredentialError::Sealed(name.to_string()))?;
        let secret: Secret = serde_json::from_slice(&plaintext)
            .map_err(|_| CredentialError::Sealed(name.to_string()))?;
        self.redactor.learn(name, secret.secret_strings());
        Ok(Unsealed {
            name: record.name,
            secret,
            allowed_domains: record.allowed_domains,
        })
    }

    /// Re-seals every credential under `new` and records `new` as the store's key, in one
    /// transaction; nothing changes when any credential does not open with the current key.
    /// Returns how many credentials were re-sealed. This service keeps the old key: make a
    /// new one with `new` afterwards.
    pub async fn rekey(&self, new: &MasterKey) -> Result<usize, CredentialError> {
        self.verify_key().await?;
        let key = self.key()?;
        let mut sealed = Vec::new();
        for record in self.store.credentials().await? {
            let plaintext = key
                .open(&record.name, &record.sealed)
                .ok_or_else(|| CredentialError::Sealed(record.name.clone()))?;
            sealed.push((record.name.clone(), new.seal(&record.name, &plaintext)));
        }
        let count = sealed.len();
        let check = (KEY_CHECK.to_string(), new.seal(KEY_CHECK, KEY_CHECK_TEXT));
        self.store.reseal_credentials(sealed, check).await?;
        Ok(count)
    }

    /// Replaces the credential references in `text` with their static values, after checking
    /// that each credential may be sent to `host`.
    pub async fn reveal(&self, text: &str, host: &str) -> Result<String, CredentialError> {
        let references = muster_model::expr::references(text);
        let mut opened = Vec::with_capacity(references.len());
        for reference in &references {
            if !opened.iter().any(|u: &Unsealed| u.name == reference.name) {
                let unsealed = self.unseal(&reference.name).await?;
                unsealed.check_host(host)?;
                opened.push(unsealed);
            }
        }
        replace_references(text, |reference| {
            let unsealed = opened
                .iter()
                .find(|u| u.name == reference.name)
                .ok_or_else(|| CredentialError::NotFound(reference.name.clone()))?;
            unsealed
                .value_of(reference.field.as_deref())
                .map(str::to_string)
        })
    }
}

/// Whether `check` (the store's key check setting) was sealed with `key`.
pub fn is_key_check(key: &MasterKey, check: &[u8]) -> bool {
    key.open(KEY_CHECK, check).as_deref() == Some(KEY_CHECK_TEXT)
}

fn check_name(name: &str) -> Result<(), CredentialError> {
    if valid_name(name) {
        Ok(())
    } else {
        Err(CredentialError::Invalid(format!(
            "`{name}` is not a valid credential name (letters, digits, `_` and `-`, at most 128)"
        )))
    }
}
