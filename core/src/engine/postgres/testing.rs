//! A throwaway PostgreSQL server for the tests: `initdb` into a temporary folder, started
//! with `pg_ctl` on a free port (its unix socket in that folder, fsync off), stopped and
//! deleted when dropped, or for the server the tests share (`shared`), when the test
//! process exits. A missing PostgreSQL fails the tests with what to install: they never
//! skip (.ci/run installs it).
//!
//! `initdb` refuses to run as root: as root, the server's programs run as the `postgres`
//! user (which Debian's package creates) through `runuser`, in a folder made theirs.
//!
//! The server also speaks TLS, with a certificate for `localhost` and 127.0.0.1 signed by
//! an authority made for it (`ca_file`), for the engine's TLS tests.

use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Names our folders in the temporary directory: `cp-pg-<pid>-<n>`.
const PREFIX: &str = "cp-pg-";

static NEXT: AtomicUsize = AtomicUsize::new(0);

pub(crate) struct PgServer {
    dir: PathBuf,
    bin: PathBuf,
    port: u16,
    /// Whether the server's programs run as the `postgres` user (we are root).
    as_postgres: bool,
    /// How long `initdb` and the start took.
    pub(crate) initdb_took: Duration,
    pub(crate) start_took: Duration,
    stopped: AtomicBool,
}

/// The folder holding `initdb` and `pg_ctl`: on PATH, else the newest
/// /usr/lib/postgresql/<version>/bin; where the programs really are when PATH has links to
/// them.
pub(crate) fn find_bin() -> Result<PathBuf, String> {
    let has_both = |dir: &Path| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file();
    if let Some(path) = std::env::var_os("PATH") {
        if let Some(dir) = std::env::split_paths(&path).find(|d| has_both(d)) {
            let real = std::fs::canonicalize(dir.join("initdb")).map_err(|e| format!("{}: {e}", dir.display()))?;
            return Ok(real.parent().map_or(dir, Path::to_path_buf));
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| Some((e.file_name().to_str()?.parse().ok()?, e.path().join("bin"))))
        .filter(|(_, bin)| has_both(bin))
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin).ok_or_else(|| {
        "PostgreSQL's server programs (initdb, pg_ctl) are neither on PATH nor under /usr/lib/postgresql/*/bin. \
         Install them (Debian/Ubuntu: `apt-get install -y postgresql`; .ci/run does): the PostgreSQL tests \
         need a real server and do not skip."
            .to_string()
    })
}

fn is_root() -> bool {
    unsafe { libc::geteuid() == 0 }
}

fn text(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr)).trim().to_string()
}

/// Runs one of the server's programs, as the `postgres` user when we are root.
fn run(program: &Path, args: &[&str], as_postgres: bool) -> Result<Output, String> {
    let mut command = if as_postgres {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    };
    command.args(args).current_dir(std::env::temp_dir());
    command.output().map_err(|e| format!("cannot run {}: {e}", program.display()))
}

fn checked(program: &Path, args: &[&str], as_postgres: bool) -> Result<Output, String> {
    let output = run(program, args, as_postgres)?;
    if output.status.success() {
        Ok(output)
    } else {
        Err(format!("{} {} failed ({}): {}", program.display(), args.join(" "), output.status, text(&output)))
    }
}

fn free_port() -> Result<u16, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("no free port: {e}"))?;
    listener.local_addr().map(|a| a.port()).map_err(|e| e.to_string())
}

/// A certificate authority and a server certificate it signed (for `localhost` and
/// 127.0.0.1), made with the openssl program.
fn make_certificates(dir: &Path) -> Result<(), String> {
    let write = |name: &str, body: &str| std::fs::write(dir.join(name), body).map_err(|e| e.to_string());
    write(
        "ca.cnf",
        "[req]\ndistinguished_name = dn\nx509_extensions = ext\nprompt = no\n[dn]\nCN = control-plane test CA\n\
         [ext]\nbasicConstraints = critical,CA:TRUE\nkeyUsage = critical,keyCertSign,cRLSign\nsubjectKeyIdentifier = hash\n",
    )?;
    write("server.cnf", "[req]\ndistinguished_name = dn\nprompt = no\n[dn]\nCN = localhost\n")?;
    write(
        "server-ext.cnf",
        "[ext]\nbasicConstraints = critical,CA:FALSE\nkeyUsage = critical,digitalSignature\n\
         extendedKeyUsage = serverAuth\nsubjectAltName = DNS:localhost,IP:127.0.0.1\nauthorityKeyIdentifier = keyid\n",
    )?;
    let openssl = |args: &[&str]| -> Result<(), String> {
        let output = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .map_err(|e| format!("cannot run openssl (for the TLS tests' certificates): {e}"))?;
        if output.status.success() {
            Ok(())
        } else {
            Err(format!("openssl {} failed: {}", args.join(" "), text(&output)))
        }
    };
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    openssl(&[&["req", "-x509", "-config", "ca.cnf", "-days", "2", "-keyout", "ca.key", "-out", "ca.crt"][..], &ec].concat())?;
    openssl(&[&["req", "-new", "-config", "server.cnf", "-keyout", "server.key", "-out", "server.csr"][..], &ec].concat())?;
    openssl(&[
        "x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-set_serial", "2", "-days", "2",
        "-extfile", "server-ext.cnf", "-extensions", "ext", "-out", "server.crt",
    ])?;
    set_mode(&dir.join("server.key"), 0o600)
}

fn set_mode(path: &Path, mode: u32) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).map_err(|e| format!("chmod {}: {e}", path.display()))
}

impl PgServer {
    /// Makes and starts a server; an error says what is missing or what failed.
    pub(crate) fn start() -> Result<PgServer, String> {
        let bin = find_bin()?;
        let as_postgres = is_root();
        if as_postgres && Command::new("id").args(["-u", "postgres"]).output().map_or(true, |o| !o.status.success()) {
            return Err("running as root, and initdb refuses to: the server must run as the `postgres` user, which \
                        does not exist (Debian's postgresql package creates it)"
                .into());
        }
        let dir = std::env::temp_dir().join(format!("{PREFIX}{}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed)));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let mut server = PgServer {
            dir,
            bin,
            port: 0,
            as_postgres,
            initdb_took: Duration::ZERO,
            start_took: Duration::ZERO,
            stopped: AtomicBool::new(false),
        };
        // From here on, dropping `server` deletes the folder.
        set_mode(&server.dir, 0o700)?;
        make_certificates(&server.dir)?;
        if as_postgres {
            checked(Path::new("chown"), &["-R", "postgres:", path(&server.dir)?], false)?;
        }
        let data = server.dir.join("data");
        let started = Instant::now();
        checked(
            &server.bin.join("initdb"),
            &["-D", path(&data)?, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"],
            as_postgres,
        )?;
        server.initdb_took = started.elapsed();
        let dir = path(&server.dir)?.to_string();
        let settings = format!(
            "\n# The tests' throwaway server.\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{dir}'\n\
             fsync = off\nsynchronous_commit = off\nfull_page_writes = off\nshared_buffers = 32MB\n\
             ssl = on\nssl_cert_file = '{dir}/server.crt'\nssl_key_file = '{dir}/server.key'\n"
        );
        std::fs::OpenOptions::new()
            .append(true)
            .open(data.join("postgresql.conf"))
            .and_then(|mut f| f.write_all(settings.as_bytes()))
            .map_err(|e| format!("cannot write postgresql.conf: {e}"))?;
        let log = server.dir.join("server.log");
        let started = Instant::now();
        // Another process may take the free port before the server does: try others.
        let mut last = String::new();
        for _ in 0..5 {
            server.port = free_port()?;
            let port = format!("-p {}", server.port);
            let output = run(
                &server.bin.join("pg_ctl"),
                &["-D", path(&data)?, "-l", path(&log)?, "-w", "-t", "60", "-o", &port, "start"],
                as_postgres,
            )?;
            if output.status.success() {
                server.start_took = started.elapsed();
                return Ok(server);
            }
            let log_text = std::fs::read_to_string(&log).unwrap_or_default();
            last = format!("pg_ctl start failed ({}): {}\n{log_text}", output.status, text(&output));
            if !log_text.contains("could not bind") && !log_text.contains("already in use") {
                break;
            }
        }
        Err(last)
    }

    pub(crate) fn port(&self) -> u16 {
        self.port
    }

    /// The authority that signed the server's certificate (a PEM file).
    pub(crate) fn ca_file(&self) -> PathBuf {
        self.dir.join("ca.crt")
    }

    /// The URL of a database of this server (plain TCP, user `postgres`, no password).
    pub(crate) fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// A new, empty database; its URL.
    pub(crate) fn fresh_database(&self) -> String {
        let name = format!("test_{}", NEXT.fetch_add(1, Ordering::Relaxed));
        let mut client = ::postgres::Client::connect(&self.url("postgres"), ::postgres::NoTls)
            .unwrap_or_else(|e| panic!("cannot connect to the test server: {e}"));
        client.batch_execute(&format!("CREATE DATABASE {name}")).unwrap_or_else(|e| panic!("CREATE DATABASE {name}: {e}"));
        self.url(&name)
    }

    /// Stops the server (at once: it holds nothing to keep) and deletes its folder.
    pub(crate) fn stop(&self) {
        if self.stopped.swap(true, Ordering::SeqCst) {
            return;
        }
        let data = self.dir.join("data");
        if data.join("postmaster.pid").exists() {
            let _ = run(&self.bin.join("pg_ctl"), &["-D", &data.to_string_lossy(), "-m", "immediate", "-w", "stop"], self.as_postgres);
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        self.stop();
    }
}

fn path(p: &Path) -> Result<&str, String> {
    p.to_str().ok_or_else(|| format!("not UTF-8: {}", p.display()))
}

/// Stops and deletes the servers of test processes that ended without doing so (killed).
fn remove_stale() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else { return };
    let Ok(bin) = find_bin() else { return };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.strip_prefix(PREFIX)).and_then(|n| n.split('-').next()) else { continue };
        if pid.parse::<u32>().is_err() || Path::new("/proc").join(pid).exists() {
            continue;
        }
        let data = entry.path().join("data");
        if data.join("postmaster.pid").exists() {
            let _ = run(&bin.join("pg_ctl"), &["-D", &data.to_string_lossy(), "-m", "immediate", "-w", "stop"], is_root());
        }
        let _ = std::fs::remove_dir_all(entry.path());
    }
}

static SHARED: OnceLock<PgServer> = OnceLock::new();

extern "C" fn stop_shared() {
    if let Some(server) = SHARED.get() {
        server.stop();
    }
}

/// The server this test process shares, started on first use and stopped at its exit.
/// Each test takes a database of its own (`fresh_database`).
pub(crate) fn shared() -> &'static PgServer {
    SHARED.get_or_init(|| {
        if Path::new("/proc").is_dir() {
            remove_stale();
        }
        let server = PgServer::start().unwrap_or_else(|e| panic!("cannot start the PostgreSQL test server: {e}"));
        // The test harness ends with `exit`, which runs this; statics are not dropped.
        unsafe { libc::atexit(stop_shared) };
        eprintln!(
            "PostgreSQL test server on port {}: initdb {} ms, start {} ms",
            server.port,
            server.initdb_took.as_millis(),
            server.start_took.as_millis()
        );
        server
    })
}
