//! The master key and sealing: credential values are encrypted with XChaCha20-Poly1305 under
//! one 256-bit master key, each with a fresh random 192-bit nonce and the credential's name
//! as associated data (so a sealed value copied onto another credential does not open).
//!
//! Sealed format: `0x01 ‖ nonce (24 bytes) ‖ ciphertext with tag`.

use std::fmt;
use std::io::Write;
use std::path::Path;

use base64::Engine as _;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};

use super::CredentialError;

const FORMAT: u8 = 1;
const NONCE_LEN: usize = 24;

/// The key credentials are sealed with. Its `Debug` output never shows the key.
#[derive(Clone)]
pub struct MasterKey {
    cipher: XChaCha20Poly1305,
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey(…)")
    }
}

impl MasterKey {
    /// A new random key.
    pub fn generate() -> Self {
        Self::from_bytes(rand::random::<[u8; 32]>())
    }

    fn from_bytes(bytes: [u8; 32]) -> Self {
        Self {
            cipher: XChaCha20Poly1305::new(&bytes.into()),
        }
    }

    /// Reads a key written as 64 hex digits or as base64 of 32 bytes (what
    /// `MUSTER_MASTER_KEY` and the key file hold).
    pub fn parse(text: &str) -> Result<Self, CredentialError> {
        let text = text.trim();
        let bytes = if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
            hex::decode(text).ok()
        } else {
            base64::engine::general_purpose::STANDARD.decode(text).ok()
        };
        let bytes: [u8; 32] = bytes.and_then(|b| b.try_into().ok()).ok_or_else(|| {
            CredentialError::MasterKey(
                "the master key must be 32 bytes, written as 64 hex digits or in base64 \
                     (`openssl rand -base64 32` makes one)"
                    .into(),
            )
        })?;
        Ok(Self::from_bytes(bytes))
    }

    /// Reads the key file at `path`, or creates it (mode 0600) with a new random key when it
    /// does not exist.
    pub fn load_or_create(path: &Path) -> Result<Self, CredentialError> {
        match std::fs::read_to_string(path) {
            Ok(text) => Self::parse(&text)
                .map_err(|e| CredentialError::MasterKey(format!("{}: {e}", path.display()))),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Self::create(path),
            Err(err) => Err(CredentialError::MasterKey(format!(
                "reading {}: {err}",
                path.display()
            ))),
        }
    }

    /// Writes a new random key to a new file at `path` (mode 0600, synced to disk); fails if
    /// the file exists.
    pub fn create(path: &Path) -> Result<Self, CredentialError> {
        let bytes = rand::random::<[u8; 32]>();
        let text = base64::engine::general_purpose::STANDARD.encode(bytes);
        write_private(path, &text)
            .map_err(|e| CredentialError::MasterKey(format!("creating {}: {e}", path.display())))?;
        Ok(Self::from_bytes(bytes))
    }

    /// Encrypts `plaintext`, bound to `context` (the credential's name).
    pub fn seal(&self, context: &str, plaintext: &[u8]) -> Vec<u8> {
        let nonce_bytes = rand::random::<[u8; NONCE_LEN]>();
        let nonce = XNonce::from(nonce_bytes);
        let ciphertext = self
            .cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext,
                    aad: context.as_bytes(),
                },
            )
            .expect("XChaCha20-Poly1305 encryption does not fail for in-memory inputs");
        let mut sealed = Vec::with_capacity(1 + NONCE_LEN + ciphertext.len());
        sealed.push(FORMAT);
        sealed.extend_from_slice(&nonce_bytes);
        sealed.extend_from_slice(&ciphertext);
        sealed
    }

    /// Decrypts what [`seal`](Self::seal) made for the same `context`; `None` when the key,
    /// the context or the bytes do not match.
    pub fn open(&self, context: &str, sealed: &[u8]) -> Option<Vec<u8>> {
        let (&format, rest) = sealed.split_first()?;
        if format != FORMAT || rest.len() < NONCE_LEN {
            return None;
        }
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().ok()?;
        self.cipher
            .decrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: ciphertext,
                    aad: context.as_bytes(),
                },
            )
            .ok()
    }
}

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(text.as_bytes())?;
    file.write_all(b"\n")?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_with_the_same_key_and_context() {
        let key = MasterKey::generate();
        let sealed = key.seal("virustotal", b"s3cret-api-key");
        assert_eq!(
            key.open("virustotal", &sealed).as_deref(),
            Some(&b"s3cret-api-key"[..])
        );
        assert!(key.open("abuseipdb", &sealed).is_none());
        assert!(MasterKey::generate().open("virustotal", &sealed).is_none());
        let mut tampered = sealed.clone();
        *tampered.last_mut().unwrap() ^= 1;
        assert!(key.open("virustotal", &tampered).is_none());
        assert!(key.open("virustotal", &[]).is_none());
        assert_ne!(key.seal("virustotal", b"x"), key.seal("virustotal", b"x"));
    }

    #[test]
    fn keys_are_read_as_hex_or_base64() {
        let hex_key = MasterKey::parse(&"ab".repeat(32)).unwrap();
        let base64_key =
            MasterKey::parse(&base64::engine::general_purpose::STANDARD.encode([0xab_u8; 32]))
                .unwrap();
        let sealed = hex_key.seal("x", b"v");
        assert_eq!(base64_key.open("x", &sealed).as_deref(), Some(&b"v"[..]));
        for bad in ["", "short", &"ab".repeat(31)] {
            assert!(MasterKey::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_key_file_is_created_private_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master-key");
        let created = MasterKey::load_or_create(&path).unwrap();
        let sealed = created.seal("x", b"v");
        let loaded = MasterKey::load_or_create(&path).unwrap();
        assert_eq!(loaded.open("x", &sealed).as_deref(), Some(&b"v"[..]));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
