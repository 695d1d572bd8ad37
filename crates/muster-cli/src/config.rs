//! Configuration: defaults that work with no file, then `muster.toml` (in the data directory
//! or `--config FILE`), then environment variables `MUSTER_<SECTION>_<KEY>`.
//! Unknown keys in the file are errors.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use muster_model::HumanDuration;
use serde::Deserialize;

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub server: ServerSection,
    pub store: StoreSection,
    pub engine: EngineSection,
    pub http: HttpSection,
    pub credentials: CredentialsSection,
    pub smtp: SmtpSection,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ServerSection {
    /// Address to listen on.
    pub listen: String,
    /// Largest accepted playbook document, in bytes.
    pub max_playbook_bytes: usize,
}

impl Default for ServerSection {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            max_playbook_bytes: 1024 * 1024,
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct StoreSection {
    /// `full` (every commit survives power loss) or `normal` (survives a process crash).
    pub synchronous: muster_store::Synchronous,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct EngineSection {
    /// Tasks executing at the same time in this process.
    pub max_in_flight: usize,
    /// How long a claimed task is held without a heartbeat.
    pub lease: HumanDuration,
    /// How often to look for due tasks when nothing announces them.
    pub poll_interval: HumanDuration,
    /// How often finished runs past their retention are pruned.
    pub retention_interval: HumanDuration,
    /// A directory of integration files added to (or replacing) the built-in ones (default:
    /// `<data-dir>/integrations` when it exists).
    pub integrations_dir: Option<PathBuf>,
}

impl Default for EngineSection {
    fn default() -> Self {
        let engine = muster_engine::EngineConfig::default();
        Self {
            max_in_flight: engine.max_in_flight,
            lease: HumanDuration(engine.lease),
            poll_interval: HumanDuration(engine.poll_interval),
            retention_interval: HumanDuration(engine.retention_interval),
            integrations_dir: None,
        }
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct HttpSection {
    pub connect_timeout: HumanDuration,
    pub timeout: HumanDuration,
    pub max_response_bytes: usize,
    pub max_redirects: usize,
    /// Non-public ranges (`10.0.0.0/8`), addresses and host names outbound requests may
    /// reach anyway.
    pub allow: Vec<String>,
}

impl Default for HttpSection {
    fn default() -> Self {
        let http = muster_actions::http::HttpSettings::default();
        Self {
            connect_timeout: HumanDuration(http.connect_timeout),
            timeout: HumanDuration(http.timeout),
            max_response_bytes: http.max_response_bytes,
            max_redirects: http.max_redirects,
            allow: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct CredentialsSection {
    /// The master key file (default `<data-dir>/master-key`); `MUSTER_MASTER_KEY` wins over
    /// it.
    pub master_key_file: Option<PathBuf>,
}

/// The default mail server of `send_email` actions that set no `smtp` option.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct SmtpSection {
    /// The server; without it there is no default and every `send_email` must set `smtp`.
    pub host: Option<String>,
    /// Default: 587 with `starttls`, 465 with `tls`, 25 with `none`.
    pub port: Option<u16>,
    /// `starttls` (default), `tls` or `none`.
    pub security: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    /// A `basic` credential to log in with instead of `username` and `password`.
    pub credential: Option<String>,
    /// The sender of actions that set no `from`.
    pub from: Option<String>,
    /// Time allowed for one submission (default: 30s).
    pub timeout: Option<HumanDuration>,
    /// Verify the server's certificate (default: true).
    pub tls_verify: Option<bool>,
    /// A PEM file of CA certificates to trust besides the system's.
    pub ca_file: Option<String>,
}

impl Config {
    /// Reads `file` if given, else `<data_dir>/muster.toml` if it exists, then applies the
    /// environment.
    pub fn load(file: Option<&Path>, data_dir: &Path) -> Result<Self> {
        let path: Option<PathBuf> = match file {
            Some(path) => Some(path.to_path_buf()),
            None => Some(data_dir.join("muster.toml")).filter(|p| p.exists()),
        };
        let mut table = match &path {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("reading {}", path.display()))?;
                text.parse::<toml::Table>()
                    .with_context(|| format!("{} is not valid TOML", path.display()))?
            }
            None => toml::Table::new(),
        };
        apply_env(&mut table, std::env::vars())?;
        let where_from = path
            .as_ref()
            .map_or("the environment".to_string(), |p| p.display().to_string());
        toml::Value::Table(table)
            .try_into()
            .with_context(|| format!("invalid configuration in {where_from}"))
    }

    pub fn engine(&self) -> muster_engine::EngineConfig {
        muster_engine::EngineConfig {
            max_in_flight: self.engine.max_in_flight,
            lease: self.engine.lease.as_duration(),
            poll_interval: self.engine.poll_interval.as_duration(),
            retention_interval: self.engine.retention_interval.as_duration(),
            ..muster_engine::EngineConfig::default()
        }
    }

    /// The integrations: the built-in ones, plus the files of `[engine] integrations_dir`
    /// (which must exist), or else of `<data_dir>/integrations` when it exists. A file with a
    /// problem is an error that lists every problem with its place.
    pub fn integrations(&self, data_dir: &Path) -> Result<muster_actions::integrations::Library> {
        let builtin = muster_actions::integrations::Library::builtin();
        let dir = match &self.engine.integrations_dir {
            Some(dir) => dir.clone(),
            None => {
                let dir = data_dir.join("integrations");
                if !dir.is_dir() {
                    return Ok(builtin.clone());
                }
                dir
            }
        };
        builtin
            .with_dir(&dir)
            .with_context(|| format!("loading the integrations in {}", dir.display()))
    }

    /// The action types this configuration provides: the built-in ones and the integrations.
    pub fn registry(&self, data_dir: &Path) -> Result<muster_engine::Registry> {
        Ok(muster_actions::registry_with(&self.integrations(data_dir)?))
    }

    /// The outbound HTTP settings; an `[http] allow` entry that is not a range, an address or
    /// a host name is an error that names it.
    pub fn http(&self) -> Result<muster_actions::http::HttpSettings> {
        let allow = muster_actions::http::AllowList::parse(&self.http.allow)
            .context("invalid entry in `[http] allow` (MUSTER_HTTP_ALLOW)")?;
        Ok(muster_actions::http::HttpSettings {
            connect_timeout: self.http.connect_timeout.as_duration(),
            timeout: self.http.timeout.as_duration(),
            max_response_bytes: self.http.max_response_bytes,
            max_redirects: self.http.max_redirects,
            allow,
        })
    }
}

impl Config {
    /// The default SMTP server, when `[smtp] host` is set.
    pub fn smtp(&self) -> Result<Option<muster_actions::mail::smtp::SmtpDefaults>> {
        use muster_actions::mail::Security;
        use muster_actions::mail::smtp::{DEFAULT_TIMEOUT, SmtpDefaults, SmtpServer};
        use muster_actions::mail::tls::TlsCheck;
        let smtp = &self.smtp;
        let Some(host) = smtp.host.clone() else {
            if *smtp != SmtpSection::default() {
                bail!("`[smtp]` needs `host` (MUSTER_SMTP_HOST) for its other settings to apply");
            }
            return Ok(None);
        };
        let security = match &smtp.security {
            Some(text) => text
                .parse::<Security>()
                .map_err(|e| anyhow::anyhow!("`[smtp] security`: {e}"))?,
            None => Security::Starttls,
        };
        if smtp.credential.is_some() && (smtp.username.is_some() || smtp.password.is_some()) {
            bail!("`[smtp]`: set `credential` or `username` and `password`, not both");
        }
        Ok(Some(SmtpDefaults {
            server: SmtpServer {
                host,
                port: smtp.port,
                security,
                username: smtp.username.clone(),
                password: smtp.password.clone(),
                credential: smtp.credential.clone(),
                timeout: smtp.timeout.map_or(DEFAULT_TIMEOUT, |t| t.as_duration()),
                tls: TlsCheck::new(smtp.tls_verify, smtp.ca_file.clone()),
            },
            from: smtp.from.clone(),
        }))
    }

    /// The services of the built-in actions: the outbound HTTP client and the default SMTP
    /// server.
    pub fn services(&self) -> Result<muster_engine::Services> {
        let mut services = muster_actions::services(self.http()?)?;
        if let Some(smtp) = self.smtp()? {
            services.insert(smtp);
        }
        Ok(services)
    }
}

/// Sections and keys that environment variables may set, with how to read their values.
const ENV_KEYS: &[(&str, &str, Kind)] = &[
    ("server", "listen", Kind::Text),
    ("server", "max_playbook_bytes", Kind::Integer),
    ("store", "synchronous", Kind::Text),
    ("engine", "max_in_flight", Kind::Integer),
    ("engine", "lease", Kind::Text),
    ("engine", "poll_interval", Kind::Text),
    ("engine", "retention_interval", Kind::Text),
    ("engine", "integrations_dir", Kind::Text),
    ("http", "connect_timeout", Kind::Text),
    ("http", "timeout", Kind::Text),
    ("http", "max_response_bytes", Kind::Integer),
    ("http", "max_redirects", Kind::Integer),
    ("http", "allow", Kind::List),
    ("credentials", "master_key_file", Kind::Text),
    ("smtp", "host", Kind::Text),
    ("smtp", "port", Kind::Integer),
    ("smtp", "security", Kind::Text),
    ("smtp", "username", Kind::Text),
    ("smtp", "password", Kind::Text),
    ("smtp", "credential", Kind::Text),
    ("smtp", "from", Kind::Text),
    ("smtp", "timeout", Kind::Text),
    ("smtp", "tls_verify", Kind::Boolean),
    ("smtp", "ca_file", Kind::Text),
];

#[derive(Clone, Copy)]
enum Kind {
    Text,
    Integer,
    /// Comma-separated; spaces around items and empty items are ignored.
    List,
    /// `true`/`false` (or `1`/`0`).
    Boolean,
}

/// Environment variables that are not settings (or are read elsewhere).
const NOT_SETTINGS: &[&str] = &[
    "MUSTER_API_TOKEN",
    "MUSTER_LOG",
    "MUSTER_SERVER",
    "MUSTER_DATA_DIR",
    "MUSTER_MASTER_KEY",
    // The test suite's: fail instead of skipping tests whose server is missing, and where
    // Dovecot is.
    "MUSTER_REQUIRE_SERVERS",
    "MUSTER_DOVECOT",
];

fn apply_env(table: &mut toml::Table, vars: impl Iterator<Item = (String, String)>) -> Result<()> {
    for (name, value) in vars {
        let Some(rest) = name.strip_prefix("MUSTER_") else {
            continue;
        };
        if NOT_SETTINGS.contains(&name.as_str()) {
            continue;
        }
        let lower = rest.to_ascii_lowercase();
        let Some((section, key, kind)) = ENV_KEYS
            .iter()
            .find(|(section, key, _)| lower == format!("{section}_{key}"))
        else {
            bail!("unknown setting in environment variable {name}");
        };
        let value = match kind {
            Kind::Text => toml::Value::String(value),
            Kind::Integer => toml::Value::Integer(
                value
                    .trim()
                    .parse()
                    .with_context(|| format!("{name} must be a whole number, got {value:?}"))?,
            ),
            Kind::Boolean => toml::Value::Boolean(match value.trim() {
                "true" | "1" => true,
                "false" | "0" => false,
                _ => bail!("{name} must be true or false, got {value:?}"),
            }),
            Kind::List => toml::Value::Array(
                value
                    .split(',')
                    .map(str::trim)
                    .filter(|item| !item.is_empty())
                    .map(|item| toml::Value::String(item.to_string()))
                    .collect(),
            ),
        };
        let section = table
            .entry(section.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        match section {
            toml::Value::Table(section) => {
                section.insert(key.to_string(), value);
            }
            _ => bail!("`{section}` in the configuration file must be a table"),
        }
    }
    Ok(())
}

/// How long a management command waits for the server.
pub const CLIENT_TIMEOUT: Duration = Duration::from_secs(30);

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> impl Iterator<Item = (String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<Vec<_>>()
            .into_iter()
    }

    #[test]
    fn file_values_are_overridden_by_the_environment() {
        let mut table: toml::Table =
            "[server]\nlisten = \"0.0.0.0:9000\"\n[engine]\nlease = \"10s\"\n"
                .parse()
                .unwrap();
        apply_env(
            &mut table,
            vars(&[("MUSTER_SERVER_LISTEN", "127.0.0.1:7000"), ("PATH", "/bin")]),
        )
        .unwrap();
        let config: Config = toml::Value::Table(table).try_into().unwrap();
        assert_eq!(config.server.listen, "127.0.0.1:7000");
        assert_eq!(config.engine.lease.as_duration(), Duration::from_secs(10));
        assert_eq!(config.http, HttpSection::default());
    }

    #[test]
    fn the_integrations_directory_is_a_setting_with_a_default_under_the_data_directory() {
        let data = tempfile::tempdir().unwrap();
        let builtin = muster_actions::integrations::Library::builtin()
            .iter()
            .count();
        let config = Config::default();
        assert_eq!(
            config.integrations(data.path()).unwrap().iter().count(),
            builtin
        );
        let extra = "vendor: acme\ntitle: Acme\nsummary: Test.\nbase_url: https://acme.example\nactions:\n  ping:\n    summary: Ping.\n    request: { path: /ping }\n";
        std::fs::create_dir(data.path().join("integrations")).unwrap();
        std::fs::write(data.path().join("integrations/acme.yaml"), extra).unwrap();
        let registry = config.registry(data.path()).unwrap();
        assert!(registry.get("acme.ping").is_some());
        let elsewhere = tempfile::tempdir().unwrap();
        let mut table = toml::Table::new();
        apply_env(
            &mut table,
            vars(&[(
                "MUSTER_ENGINE_INTEGRATIONS_DIR",
                elsewhere.path().to_str().unwrap(),
            )]),
        )
        .unwrap();
        let config: Config = toml::Value::Table(table).try_into().unwrap();
        assert_eq!(
            config.integrations(data.path()).unwrap().iter().count(),
            builtin
        );
        let missing = Config {
            engine: EngineSection {
                integrations_dir: Some(data.path().join("nope")),
                ..EngineSection::default()
            },
            ..Config::default()
        };
        let error = format!("{:#}", missing.integrations(data.path()).err().unwrap());
        assert!(error.contains("nope"), "{error}");
        std::fs::write(data.path().join("integrations/bad.yaml"), "vendor: bad\n").unwrap();
        let error = format!("{:#}", config_default_error(data.path()));
        assert!(
            error.contains("bad.yaml:1:1: missing field `title`"),
            "{error}"
        );
    }

    fn config_default_error(data: &Path) -> anyhow::Error {
        Config::default()
            .integrations(data)
            .err()
            .expect("an invalid file")
    }

    #[test]
    fn unknown_keys_are_errors() {
        let table: toml::Table = "[server]\nlisten = \"x\"\nlistne = \"y\"\n"
            .parse()
            .unwrap();
        let err = toml::Value::Table(table).try_into::<Config>().unwrap_err();
        assert!(err.to_string().contains("listne"), "{err}");
        let mut table = toml::Table::new();
        let err = apply_env(&mut table, vars(&[("MUSTER_ENGINE_LEASES", "1")])).unwrap_err();
        assert!(err.to_string().contains("MUSTER_ENGINE_LEASES"));
        let err =
            apply_env(&mut table, vars(&[("MUSTER_ENGINE_MAX_IN_FLIGHT", "many")])).unwrap_err();
        assert!(err.to_string().contains("whole number"));
    }

    #[test]
    fn the_master_key_file_is_a_setting_and_the_key_itself_is_not() {
        let mut table: toml::Table = "[credentials]\nmaster_key_file = \"/etc/muster/key\"\n"
            .parse()
            .unwrap();
        let config: Config = toml::Value::Table(table.clone()).try_into().unwrap();
        assert_eq!(
            config.credentials.master_key_file.as_deref(),
            Some(Path::new("/etc/muster/key"))
        );
        apply_env(
            &mut table,
            vars(&[
                ("MUSTER_MASTER_KEY", "not a setting"),
                (
                    "MUSTER_CREDENTIALS_MASTER_KEY_FILE",
                    "/run/secrets/muster-key",
                ),
            ]),
        )
        .unwrap();
        let config: Config = toml::Value::Table(table).try_into().unwrap();
        assert_eq!(
            config.credentials.master_key_file.as_deref(),
            Some(Path::new("/run/secrets/muster-key"))
        );
        assert_eq!(Config::default().credentials.master_key_file, None);
    }

    #[test]
    fn the_smtp_section_becomes_the_default_server() {
        let table: toml::Table = "[smtp]\nhost = \"smtp.example.com\"\nsecurity = \"tls\"\n\
                                  from = \"Muster <soc@example.com>\"\ncredential = \"relay\"\n"
            .parse()
            .unwrap();
        let mut table = table;
        apply_env(
            &mut table,
            vars(&[
                ("MUSTER_SMTP_TLS_VERIFY", "false"),
                ("MUSTER_SMTP_PORT", "2465"),
            ]),
        )
        .unwrap();
        let config: Config = toml::Value::Table(table).try_into().unwrap();
        let smtp = config.smtp().unwrap().unwrap();
        assert_eq!(smtp.server.host, "smtp.example.com");
        assert_eq!(smtp.server.port(), 2465);
        assert_eq!(smtp.server.security, muster_actions::mail::Security::Tls);
        assert_eq!(smtp.server.credential.as_deref(), Some("relay"));
        assert!(!smtp.server.tls.verify);
        assert_eq!(smtp.from.as_deref(), Some("Muster <soc@example.com>"));
        assert!(Config::default().smtp().unwrap().is_none());

        let hostless: Config = toml::Value::Table("[smtp]\nport = 25\n".parse().unwrap())
            .try_into()
            .unwrap();
        assert!(format!("{:#}", hostless.smtp().unwrap_err()).contains("`host`"));
        let bad: Config = toml::Value::Table(
            "[smtp]\nhost = \"h\"\nsecurity = \"ssl\"\n"
                .parse()
                .unwrap(),
        )
        .try_into()
        .unwrap();
        assert!(format!("{:#}", bad.smtp().unwrap_err()).contains("`ssl`"));
        let mut table = toml::Table::new();
        let err = apply_env(&mut table, vars(&[("MUSTER_SMTP_TLS_VERIFY", "no")])).unwrap_err();
        assert!(err.to_string().contains("true or false"), "{err}");
    }

    #[test]
    fn the_http_allow_list_comes_from_the_file_or_a_comma_separated_variable() {
        let table: toml::Table = "[http]\nallow = [\"10.0.0.0/8\", \"intranet.example.com\"]\n"
            .parse()
            .unwrap();
        let config: Config = toml::Value::Table(table.clone()).try_into().unwrap();
        assert_eq!(config.http.allow, ["10.0.0.0/8", "intranet.example.com"]);
        assert!(config.http().is_ok());
        let mut table = table;
        apply_env(
            &mut table,
            vars(&[("MUSTER_HTTP_ALLOW", "127.0.0.0/8, ,::1/128,")]),
        )
        .unwrap();
        let config: Config = toml::Value::Table(table).try_into().unwrap();
        assert_eq!(config.http.allow, ["127.0.0.0/8", "::1/128"]);
        let bad: Config =
            toml::Value::Table("[http]\nallow = [\"10.0.0.0/33\"]\n".parse().unwrap())
                .try_into()
                .unwrap();
        let err = format!("{:#}", bad.http().unwrap_err());
        assert!(
            err.contains("10.0.0.0/33") && err.contains("[http] allow"),
            "{err}"
        );
    }
}
