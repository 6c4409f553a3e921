//! A throwaway PostgreSQL server for tests: its own data directory, port and socket
//! directory in a temporary directory, stopped and deleted on drop.
//!
//! It never connects to a server that happens to be running: the port is one that was
//! free, the socket lives in the temporary directory, every `psql` it builds names the
//! host, port and user explicitly and ignores `PG*` variables and `~/.psqlrc`, and
//! [`TestPostgres::start`] checks that the server answering is the one it started.
//! PostgreSQL refuses to run as root, so as root the server commands run as the
//! `postgres` system user (`runuser -u postgres --`), which owns the directory.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use tempfile::TempDir;

/// The user the server is initialised with (`initdb -U`), trusted without a password.
pub const USER: &str = "bot4";

/// Environment variables that could point libpq at another server.
const LIBPQ_VARIABLES: [&str; 15] = [
    "PGHOST",
    "PGHOSTADDR",
    "PGPORT",
    "PGDATABASE",
    "PGUSER",
    "PGPASSWORD",
    "PGPASSFILE",
    "PGSERVICE",
    "PGSERVICEFILE",
    "PGOPTIONS",
    "PGDATA",
    "PGDATESTYLE",
    "PGCLIENTENCODING",
    "PGTZ",
    "PSQLRC",
];

/// How many free ports to try: another process may take the one picked before the
/// server binds it.
const START_ATTEMPTS: usize = 3;

/// A PostgreSQL server of its own, listening on 127.0.0.1. Dropping it stops the server
/// (`pg_ctl stop -m immediate`) and deletes its directory.
#[derive(Debug)]
pub struct TestPostgres {
    /// `postgres://bot4@127.0.0.1:PORT/postgres`, the maintenance database.
    pub url: String,
    /// The port it listens on.
    pub port: u16,
    /// Holds `data/` (the cluster), `socket/` and `server.log`.
    dir: TempDir,
    /// The directory of initdb, pg_ctl, pg_isready and psql.
    bin: PathBuf,
    /// Whether the server commands run as the `postgres` user (we are root).
    as_postgres: bool,
}

impl TestPostgres {
    /// Create a cluster in a new temporary directory and start it on a free loopback
    /// port, waiting until it accepts connections.
    pub fn start() -> Result<Self, String> {
        let bin = find_bin()?;
        let as_postgres = running_as_root()?;
        let dir = tempfile::Builder::new()
            .prefix("bot4-pg-")
            .tempdir()
            .map_err(|e| format!("creating a temporary directory for PostgreSQL: {e}"))?;
        let socket = dir.path().join("socket");
        std::fs::create_dir(&socket).map_err(|e| format!("creating {}: {e}", socket.display()))?;
        if as_postgres {
            let status = Command::new("chown")
                .args(["-R", "postgres:"])
                .arg(dir.path())
                .status()
                .map_err(|e| format!("running chown: {e}"))?;
            if !status.success() {
                return Err(format!(
                    "chown -R postgres: {} failed ({status}): is there a `postgres` user?",
                    dir.path().display()
                ));
            }
        }
        let mut server = Self {
            url: String::new(),
            port: 0,
            dir,
            bin,
            as_postgres,
        };
        let data = server.data_dir();
        let mut initdb = server.server_command("initdb");
        checked(
            initdb
                .args(["-A", "trust", "-U", USER, "--no-sync", "-E", "UTF8"])
                .args(["--locale", "C", "-D"])
                .arg(&data),
            "initdb",
        )?;
        let mut last_error = String::new();
        for _ in 0..START_ATTEMPTS {
            let port = free_port()?;
            write_config(&data, port, &socket)?;
            let log = server.dir.path().join("server.log");
            let started = checked(
                server
                    .server_command("pg_ctl")
                    .arg("-D")
                    .arg(&data)
                    .arg("-l")
                    .arg(&log)
                    .args(["-w", "-t", "60", "start"]),
                "pg_ctl start",
            );
            match started {
                Ok(_) => {
                    server.port = port;
                    server.url = format!("postgres://{USER}@127.0.0.1:{port}/postgres");
                    server.wait_ready()?;
                    server.check_is_ours()?;
                    return Ok(server);
                }
                Err(e) => {
                    let log_text = std::fs::read_to_string(&log).unwrap_or_default();
                    last_error = format!("{e}\n--- server.log ---\n{log_text}");
                }
            }
        }
        Err(format!(
            "PostgreSQL did not start after {START_ATTEMPTS} attempts: {last_error}"
        ))
    }

    /// Stop the server as a crash would (`pg_ctl stop -m immediate`: no shutdown
    /// checkpoint, connections cut); what was committed survives through the WAL.
    pub fn crash(&self) -> Result<(), String> {
        checked(
            self.server_command("pg_ctl")
                .arg("-D")
                .arg(self.data_dir())
                .args(["-m", "immediate", "-w", "stop"]),
            "pg_ctl stop -m immediate",
        )
        .map(|_| ())
    }

    /// Start the server again, on the same port, after [`TestPostgres::crash`].
    pub fn restart(&self) -> Result<(), String> {
        let log = self.dir.path().join("server.log");
        checked(
            self.server_command("pg_ctl")
                .arg("-D")
                .arg(self.data_dir())
                .arg("-l")
                .arg(&log)
                .args(["-w", "-t", "60", "start"]),
            "pg_ctl start",
        )?;
        self.wait_ready()
    }

    /// The temporary directory that holds the cluster.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The cluster's data directory.
    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// The URL of database `name` on this server.
    pub fn database_url(&self, name: &str) -> String {
        format!("postgres://{USER}@127.0.0.1:{}/{name}", self.port)
    }

    /// Create database `name` and return its URL.
    pub fn create_database(&self, name: &str) -> Result<String, String> {
        let sql = format!("CREATE DATABASE \"{}\"", name.replace('"', "\"\""));
        checked(
            self.psql("postgres").args(["-c", &sql]),
            "psql: CREATE DATABASE",
        )?;
        Ok(self.database_url(name))
    }

    /// `psql` connected to `database` on this server, and nowhere else: no `~/.psqlrc`
    /// (`-X`), stopping at the first error (`ON_ERROR_STOP=1`), quiet, with the libpq
    /// variables of the environment removed, and times shown in UTC. Add `-c`, `-f`,
    /// `--csv`, `-v`.
    pub fn psql(&self, database: &str) -> Command {
        let mut command = Command::new(self.bin.join("psql"));
        for variable in LIBPQ_VARIABLES {
            command.env_remove(variable);
        }
        command
            .env("PGTZ", "UTC")
            .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1"])
            .args(["-p", &self.port.to_string(), "-U", USER, "-d", database]);
        command
    }

    /// A server program (initdb, pg_ctl, pg_isready), as the `postgres` user when we are
    /// root, run from the temporary directory (which that user can enter).
    fn server_command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        let mut command = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(path);
            c
        } else {
            Command::new(path)
        };
        for variable in LIBPQ_VARIABLES {
            command.env_remove(variable);
        }
        command.current_dir(self.dir.path());
        command
    }

    /// Wait until the server accepts connections on its port (pg_ctl -w already waited
    /// for the postmaster; this also covers the TCP listener).
    fn wait_ready(&self) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let ready = Command::new(self.bin.join("pg_isready"))
                .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-U", USER])
                .args(["-d", "postgres", "-t", "2"])
                .output()
                .map_err(|e| format!("running pg_isready: {e}"))?;
            if ready.status.success() {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "PostgreSQL on port {} is not ready after 30 s: {}",
                    self.port,
                    String::from_utf8_lossy(&ready.stdout)
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The server on our port must be the one whose data directory we created.
    fn check_is_ours(&self) -> Result<(), String> {
        let out = checked(
            self.psql("postgres")
                .args(["-A", "-t", "-c", "SHOW data_directory"]),
            "psql: SHOW data_directory",
        )?;
        let answer = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        let ours = self.data_dir();
        let same = match (Path::new(&answer).canonicalize(), ours.canonicalize()) {
            (Ok(a), Ok(b)) => a == b,
            _ => false,
        };
        if same {
            Ok(())
        } else {
            Err(format!(
                "the server on port {} serves {answer}, not {}",
                self.port,
                ours.display()
            ))
        }
    }
}

impl Drop for TestPostgres {
    #[allow(
        clippy::print_stderr,
        reason = "drop cannot return the error, and a server left running must be noticed"
    )]
    fn drop(&mut self) {
        if self.port == 0 {
            return; // never started
        }
        let data = self.data_dir();
        let stopped = self
            .server_command("pg_ctl")
            .arg("-D")
            .arg(&data)
            .args(["-m", "immediate", "-w", "stop"])
            .output();
        match stopped {
            Ok(out) if out.status.success() => {}
            Ok(out) => eprintln!(
                "pg_ctl stop for {} failed: {}",
                data.display(),
                String::from_utf8_lossy(&out.stderr)
            ),
            Err(e) => eprintln!("running pg_ctl stop for {}: {e}", data.display()),
        }
    }
}

/// Run `command`; an error names `what` and carries its output unless it succeeded.
fn checked(command: &mut Command, what: &str) -> Result<Output, String> {
    let out = command
        .output()
        .map_err(|e| format!("running {what} ({command:?}): {e}"))?;
    if out.status.success() {
        Ok(out)
    } else {
        Err(format!(
            "{what} failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// The directory of the PostgreSQL server programs: that of `initdb` on PATH (through
/// symbolic links), else the highest version under /usr/lib/postgresql/*/bin.
fn find_bin() -> Result<PathBuf, String> {
    let complete = |dir: &Path| {
        ["initdb", "pg_ctl", "pg_isready", "psql"]
            .iter()
            .all(|p| dir.join(p).is_file())
    };
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            let initdb = dir.join("initdb");
            if let Ok(real) = initdb.canonicalize() {
                if let Some(bin) = real.parent() {
                    if complete(bin) {
                        return Ok(bin.to_owned());
                    }
                }
            }
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = entry.path().join("bin");
            complete(&bin).then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin).ok_or_else(|| {
        "PostgreSQL server programs (initdb, pg_ctl, pg_isready, psql) are neither on PATH \
         nor under /usr/lib/postgresql/*/bin: install the `postgresql` package \
         (apt-get install postgresql; tests/run.sh does this)"
            .to_owned()
    })
}

/// Whether this process runs as root (then the server must run as `postgres`).
fn running_as_root() -> Result<bool, String> {
    let out = Command::new("id")
        .arg("-u")
        .output()
        .map_err(|e| format!("running id -u: {e}"))?;
    Ok(String::from_utf8_lossy(&out.stdout).trim() == "0")
}

/// A TCP port on 127.0.0.1 that was free a moment ago.
fn free_port() -> Result<u16, String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")
        .map_err(|e| format!("binding a free loopback port: {e}"))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| format!("reading the bound address: {e}"))
}

/// Point the cluster at `port` and `socket`, loopback only, and make it fast and
/// disposable: no fsync, no durable commits.
fn write_config(data: &Path, port: u16, socket: &Path) -> Result<(), String> {
    // fsync is off (the tests survive a killed server, not a lost machine), but commits
    // are synchronous: a commit acknowledged to the sink is in the WAL before a crash.
    let path = data.join("postgresql.auto.conf");
    let text = format!(
        "port = {port}\n\
         listen_addresses = '127.0.0.1'\n\
         unix_socket_directories = '{}'\n\
         fsync = off\n\
         synchronous_commit = on\n\
         full_page_writes = off\n\
         max_connections = 20\n\
         shared_buffers = '32MB'\n\
         timezone = 'UTC'\n",
        socket.display().to_string().replace('\'', "''")
    );
    // postgresql.auto.conf is read last and belongs to the server's user: rewriting it
    // in place keeps its owner.
    std::fs::write(&path, text).map_err(|e| format!("writing {}: {e}", path.display()))
}
