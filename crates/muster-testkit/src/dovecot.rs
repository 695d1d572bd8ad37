//! A real Dovecot IMAP server for tests, started in the foreground (`dovecot -F -c FILE`) with
//! a configuration written to a temporary directory: one user in a passwd file, maildirs in
//! the temporary directory, a plain-text/STARTTLS port and an implicit-TLS port on loopback
//! with a test certificate. The system's Dovecot service is neither used nor touched.
//!
//! When the `dovecot` binary is missing, [`Dovecot::start`] prints why the test is skipped and
//! returns `None`, unless `MUSTER_REQUIRE_SERVERS=1` is set, in which case it panics: CI
//! installs Dovecot and must not skip silently.
//!
//! Run as root (as CI does), Dovecot refuses to run its login processes and mail access as
//! root: logins then run as `dovenull` (or `nobody`) and mail as `nobody`, which own the
//! mail directories.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::certs::TestCerts;

/// The test user's name and password.
pub const USER: &str = "alice";
pub const PASSWORD: &str = "correct horse";

/// A running Dovecot; it is stopped when dropped.
pub struct Dovecot {
    /// The port speaking plain IMAP (with STARTTLS offered).
    pub port: u16,
    /// The port speaking IMAP over TLS from the first byte.
    pub tls_port: u16,
    /// The certificates the TLS ports present (trust `certs.ca_pem`).
    pub certs: TestCerts,
    dir: tempfile::TempDir,
    child: Child,
}

/// Where the `dovecot` binary is, if installed: `MUSTER_DOVECOT` when set, else the usual
/// places and `PATH`.
fn binary() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("MUSTER_DOVECOT") {
        return Some(PathBuf::from(path)).filter(|p| p.exists());
    }
    let candidates = ["/usr/sbin/dovecot", "/usr/local/sbin/dovecot"];
    if let Some(found) = candidates.iter().map(PathBuf::from).find(|p| p.exists()) {
        return Some(found);
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("dovecot"))
            .find(|p| p.exists())
    })
}

/// Whether tests must fail instead of skipping when a server is missing.
pub fn servers_required() -> bool {
    std::env::var("MUSTER_REQUIRE_SERVERS").is_ok_and(|v| v == "1")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("finding a free loopback port")
        .port()
}

/// The uid and gid of a system user, from `/etc/passwd`.
fn system_user(name: &str) -> Option<(u32, u32)> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let fields: Vec<&str> = line.split(':').collect();
        (fields.len() > 3 && fields[0] == name)
            .then(|| Some((fields[2].parse().ok()?, fields[3].parse().ok()?)))
            .flatten()
    })
}

fn chown(path: &Path, uid: u32, gid: u32) {
    std::os::unix::fs::chown(path, Some(uid), Some(gid)).expect("giving a directory to Dovecot");
}

impl Dovecot {
    /// Starts Dovecot, or returns `None` (after saying so) when it is not installed.
    pub async fn start(test: &str) -> Option<Self> {
        let Some(binary) = binary() else {
            if servers_required() {
                panic!(
                    "{test}: the `dovecot` binary is not installed and MUSTER_REQUIRE_SERVERS=1 \
                     (install Debian's dovecot-imapd)"
                );
            }
            eprintln!(
                "SKIPPED {test}: the `dovecot` binary is not installed (Debian: apt-get install \
                 dovecot-imapd); set MUSTER_REQUIRE_SERVERS=1 to make this a failure"
            );
            return None;
        };
        let started = tokio::task::spawn_blocking(move || Self::launch(&binary))
            .await
            .expect("starting Dovecot");
        Some(started)
    }

    fn launch(binary: &Path) -> Self {
        let dir = tempfile::tempdir().expect("creating Dovecot's directory");
        let root = dir.path().to_path_buf();
        for sub in ["run", "state", "mail", "home"] {
            std::fs::create_dir(root.join(sub)).expect("creating Dovecot's directories");
        }
        let certs = TestCerts::new();
        std::fs::write(root.join("cert.pem"), &certs.cert_pem).expect("writing the certificate");
        std::fs::write(root.join("key.pem"), &certs.key_pem).expect("writing the key");
        std::fs::write(
            root.join("passwd"),
            format!("{USER}:{{PLAIN}}{PASSWORD}::::::\n"),
        )
        .expect("writing the passwd file");

        let euid = effective_uid();
        let (internal, login, mail_uid, mail_gid) = if euid == 0 {
            let (uid, gid) = system_user("nobody").expect("a `nobody` user");
            let login = if system_user("dovenull").is_some() {
                "dovenull"
            } else {
                "nobody"
            };
            for sub in ["mail", "home"] {
                chown(&root.join(sub), uid, gid);
            }
            // Mail processes run as `nobody` and must reach their directories.
            set_mode(&root, 0o711);
            ("root".to_string(), login.to_string(), uid, gid)
        } else {
            let user = current_user_name();
            let (uid, gid) = (euid, effective_gid());
            (user.clone(), user, uid, gid)
        };

        let port = free_port();
        let tls_port = free_port();
        let r = root.display();
        let config = format!(
            r#"base_dir = {r}/run
state_dir = {r}/state
log_path = {r}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <{r}/cert.pem
ssl_key = <{r}/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{r}/mail/%u
default_internal_user = {internal}
default_login_user = {login}
first_valid_uid = 0
first_valid_gid = 0
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {r}/passwd
}}
userdb {{
  driver = static
  args = uid={mail_uid} gid={mail_gid} home={r}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {tls_port}
    ssl = yes
  }}
}}
"#
        );
        let config_path = root.join("dovecot.conf");
        std::fs::write(&config_path, config).expect("writing dovecot.conf");
        let mut child = Command::new(binary)
            .arg("-F")
            .arg("-c")
            .arg(&config_path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("running dovecot");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                let mut stderr = String::new();
                if let Some(mut pipe) = child.stderr.take() {
                    use std::io::Read;
                    let _ = pipe.read_to_string(&mut stderr);
                }
                let log = std::fs::read_to_string(root.join("dovecot.log")).unwrap_or_default();
                panic!("dovecot exited ({status}) at start:\n{stderr}\n{log}");
            }
            let ready = [port, tls_port]
                .iter()
                .all(|p| std::net::TcpStream::connect(("127.0.0.1", *p)).is_ok());
            if ready {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "dovecot did not listen on {port} and {tls_port} within 20s"
            );
            // Waiting for another process to open its ports: nothing to be notified by.
            std::thread::sleep(Duration::from_millis(20));
        }
        Self {
            port,
            tls_port,
            certs,
            dir,
            child,
        }
    }

    /// The temporary directory (configuration, log, maildirs).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Dovecot's log, for failure messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("dovecot.log")).unwrap_or_default()
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        // SIGTERM lets the master stop its login, auth and mail processes too.
        if let Ok(pid) = i32::try_from(self.child.id()) {
            terminate(pid);
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .expect("setting a directory's mode");
}

fn current_user_name() -> String {
    let uid = effective_uid();
    std::fs::read_to_string("/etc/passwd")
        .ok()
        .and_then(|passwd| {
            passwd.lines().find_map(|line| {
                let fields: Vec<&str> = line.split(':').collect();
                (fields.len() > 2 && fields[2].parse() == Ok(uid)).then(|| fields[0].to_string())
            })
        })
        .or_else(|| std::env::var("USER").ok())
        .expect("the current user's name")
}

/// The effective uid, from `/proc/self/status` (this crate forbids `unsafe`).
fn effective_uid() -> u32 {
    proc_status_id("Uid:")
}

fn effective_gid() -> u32 {
    proc_status_id("Gid:")
}

fn proc_status_id(field: &str) -> u32 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status.lines().find_map(|line| {
                line.strip_prefix(field)
                    .and_then(|rest| rest.split_whitespace().nth(1))
                    .and_then(|id| id.parse().ok())
            })
        })
        .expect("reading the effective user and group ids")
}

fn terminate(pid: i32) {
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(pid.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}
