//! TLS for mail connections: certificates are verified against the platform's roots plus an
//! optional CA file (`ca_file`), or — only when a playbook says `tls_verify: false` — not at
//! all. Connections use rustls with the ring provider, like the HTTP client.

use std::sync::Arc;

use muster_engine::ActionError;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

/// How a mail connection checks the server's certificate.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsCheck {
    /// `false` accepts any certificate (`tls_verify: false`).
    pub verify: bool,
    /// A PEM file of CA certificates trusted besides the platform's roots.
    pub ca_file: Option<String>,
}

impl TlsCheck {
    pub fn new(verify: Option<bool>, ca_file: Option<String>) -> Self {
        Self {
            verify: verify.unwrap_or(true),
            ca_file,
        }
    }
}

/// The certificates of a PEM file; an unreadable file or one without certificates is an error.
pub fn read_ca_file(path: &str) -> Result<Vec<CertificateDer<'static>>, ActionError> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
        .and_then(|iter| iter.collect())
        .map_err(|e| ActionError::permanent(format!("cannot read `ca_file` {path}: {e}")))?;
    if certs.is_empty() {
        return Err(ActionError::permanent(format!(
            "`ca_file` {path} holds no PEM certificate"
        )));
    }
    Ok(certs)
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A client configuration that checks certificates as `check` says.
pub fn client_config(check: &TlsCheck) -> Result<Arc<ClientConfig>, ActionError> {
    let provider = provider();
    let tls_error = |e: rustls::Error| ActionError::permanent(format!("TLS set-up failed: {e}"));
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(tls_error)?
        .dangerous();
    let verifier: Arc<dyn ServerCertVerifier> = if check.verify {
        let extra = match &check.ca_file {
            Some(path) => read_ca_file(path)?,
            None => Vec::new(),
        };
        Arc::new(
            rustls_platform_verifier::Verifier::new_with_extra_roots(extra, provider)
                .map_err(tls_error)?,
        )
    } else {
        Arc::new(AcceptAnyCertificate(provider))
    };
    Ok(Arc::new(
        builder
            .with_custom_certificate_verifier(verifier)
            .with_no_client_auth(),
    ))
}

/// Starts TLS on `tcp` to `host`. A certificate that does not verify is a permanent error; a
/// connection that breaks during the handshake is transient.
pub async fn handshake(
    tcp: TcpStream,
    host: &str,
    config: Arc<ClientConfig>,
) -> Result<TlsStream<TcpStream>, ActionError> {
    let name = ServerName::try_from(host.to_string())
        .map_err(|e| ActionError::permanent(format!("`{host}` is not a valid TLS name: {e}")))?;
    TlsConnector::from(config)
        .connect(name, tcp)
        .await
        .map_err(|e| {
            let message = format!("TLS handshake with {host} failed: {e}");
            if e.kind() == std::io::ErrorKind::InvalidData {
                ActionError::permanent(message)
            } else {
                ActionError::transient(message)
            }
        })
}

/// `tls_verify: false`: any certificate is accepted; signatures are still checked, so the
/// session is encrypted, only not authenticated.
#[derive(Debug)]
struct AcceptAnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
