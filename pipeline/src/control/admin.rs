//! The admin endpoint: HTTP on loopback behind a bearer token, for `bot4 control` and
//! `bot4 status`.
//!
//! At start the endpoint draws a 32-byte random token and writes it, with the bound
//! address and the process id, to the admin file (mode 0600, in a directory created
//! 0700), so only the job's user can read it. Routes:
//!
//! * `POST /control` with `Authorization: Bearer TOKEN` and a JSON body
//!   `{"mode": "pause", "reason": "…"}` → `202 {"accepted": "pause"}` once the request is
//!   on the job's channel;
//! * `GET /status` with the same header → `200` and the [`Status`](super::Status) as JSON;
//!   reading it changes nothing.
//!
//! A wrong or missing token is `401`; a bad body (not JSON, an unknown mode, more than
//! [`MAX_BODY`] bytes, a reason longer than [`MAX_REASON_CHARS`] characters) is `400`; an
//! unknown route `404`; a job that no longer takes requests `503`. Every error body is
//! `{"error": "…"}`. One request per connection; each connection has [`REQUEST_DEADLINE`]
//! to send its request, and at most [`MAX_CONNECTIONS`] are served at once.

use std::fs;
use std::io::{BufReader, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use bot4_schemas::{ControlCommand, ControlSource};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;
use tracing::{debug, info, warn};

use super::http::{read_body, read_head, write_response, DeadlineStream, ReadError};
use super::{ControlRequest, RequestSender, StatusBoard};
use crate::PipelineError;

/// Largest request body accepted, in bytes.
pub const MAX_BODY: u64 = 4096;

/// Longest reason accepted, in characters.
pub const MAX_REASON_CHARS: usize = 500;

/// How long a connection has to send its whole request.
pub const REQUEST_DEADLINE: Duration = Duration::from_secs(2);

/// Most connections served at once; more are answered `503` at once.
pub const MAX_CONNECTIONS: usize = 8;

/// How long a connection is drained after its response.
const LINGER: Duration = Duration::from_millis(500);

/// Most bytes drained after a response.
const LINGER_BYTES: usize = 64 * 1024;

/// How often the accept loop looks at its stop flag.
const ACCEPT_POLL: Duration = Duration::from_millis(10);

/// What the admin file holds: where the endpoint listens and the token it wants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminFile {
    /// The bound loopback address.
    pub addr: SocketAddr,
    /// The bearer token, 64 hex digits.
    pub token: String,
    /// The job's process id.
    pub pid: u32,
}

impl AdminFile {
    /// Read and parse an admin file.
    pub fn read(path: &Path) -> Result<Self, PipelineError> {
        let text = fs::read_to_string(path).map_err(|e| PipelineError::io(path, e))?;
        serde_json::from_str(&text).map_err(|e| PipelineError::Input {
            path: path.to_owned(),
            reason: format!("not an admin file: {e}"),
        })
    }

    /// Write the file atomically (a temporary file, then a rename) with mode 0600,
    /// creating its directory with mode 0700 if needed.
    pub fn write(&self, path: &Path) -> Result<(), PipelineError> {
        let dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| PipelineError::io(dir, e))?;
        let name = path.file_name().ok_or_else(|| {
            PipelineError::Config(format!("admin file {} has no file name", path.display()))
        })?;
        let tmp = dir.join(format!(
            ".{}.{}.tmp",
            name.to_string_lossy(),
            std::process::id()
        ));
        let json = serde_json::to_vec_pretty(self).map_err(|e| PipelineError::Input {
            path: path.to_owned(),
            reason: format!("encoding the admin file: {e}"),
        })?;
        let written = (|| {
            match fs::remove_file(&tmp) {
                Ok(()) => {}
                Err(e) if e.kind() == ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
            let mut file = fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&tmp)?;
            file.write_all(&json)?;
            file.write_all(b"\n")?;
            file.sync_all()
        })();
        if let Err(e) = written {
            remove_quietly(&tmp);
            return Err(PipelineError::io(&tmp, e));
        }
        fs::rename(&tmp, path).map_err(|e| {
            remove_quietly(&tmp);
            PipelineError::io(path, e)
        })
    }
}

fn remove_quietly(path: &Path) {
    if let Err(e) = fs::remove_file(path) {
        if e.kind() != ErrorKind::NotFound {
            warn!(path = %path.display(), error = %e, "could not remove a file");
        }
    }
}

/// A fresh random token: 32 bytes from the operating system, as 64 hex digits.
pub fn new_token() -> Result<String, PipelineError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| PipelineError::Config(format!("admin endpoint: no random token: {e}")))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// The body of `POST /control`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ControlBody {
    mode: String,
    #[serde(default)]
    reason: Option<String>,
    /// For `set`: the parameter's name.
    #[serde(default)]
    parameter: Option<String>,
    /// For `set`: its new value.
    #[serde(default)]
    value: Option<String>,
}

/// The running endpoint: its accept thread, and the admin file it owns.
#[derive(Debug)]
pub(crate) struct AdminEndpoint {
    addr: SocketAddr,
    file: PathBuf,
    token: String,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl AdminEndpoint {
    /// Bind `addr` (loopback only), write the admin file and start serving.
    pub(crate) fn start(
        addr: SocketAddr,
        file: PathBuf,
        requests: RequestSender,
        board: StatusBoard,
    ) -> Result<Self, PipelineError> {
        if !addr.ip().is_loopback() {
            return Err(PipelineError::Config(format!(
                "--admin {addr}: the admin endpoint listens on loopback only (e.g. 127.0.0.1:0)"
            )));
        }
        let listener = TcpListener::bind(addr).map_err(|e| {
            PipelineError::Config(format!("admin endpoint: cannot listen on {addr}: {e}"))
        })?;
        let bound = listener
            .local_addr()
            .map_err(|e| PipelineError::Config(format!("admin endpoint: no local address: {e}")))?;
        listener.set_nonblocking(true).map_err(|e| {
            PipelineError::Config(format!("admin endpoint: cannot set up {bound}: {e}"))
        })?;
        let token = new_token()?;
        AdminFile {
            addr: bound,
            token: token.clone(),
            pid: std::process::id(),
        }
        .write(&file)?;
        let stop = Arc::new(AtomicBool::new(false));
        let server = Server {
            token: Arc::from(token.as_str()),
            requests,
            board,
            active: Arc::new(AtomicUsize::new(0)),
        };
        let thread_stop = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("bot4-admin".into())
            .spawn(move || accept_loop(&listener, &server, &thread_stop))
            .map_err(|e| {
                remove_quietly(&file);
                PipelineError::Config(format!("admin endpoint: cannot start its thread: {e}"))
            })?;
        info!(addr = %bound, admin_file = %file.display(), "admin endpoint listening");
        Ok(Self {
            addr: bound,
            file,
            token,
            stop,
            thread: Some(thread),
        })
    }

    /// The bound address.
    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The admin file.
    pub(crate) fn file(&self) -> &Path {
        &self.file
    }

    /// Stop accepting, wait for the accept thread, and remove the admin file if it is
    /// still ours (another job may have written its own since). Connections being served
    /// end by their deadline on their own.
    pub(crate) fn shutdown(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            if thread.join().is_err() {
                warn!("the admin endpoint's thread panicked");
            }
        }
        match AdminFile::read(&self.file) {
            Ok(current) if current.token == self.token => remove_quietly(&self.file),
            Ok(_) => {
                info!(admin_file = %self.file.display(), "admin file now belongs to another job; left in place")
            }
            Err(e) => debug!(error = %e, "admin file already gone"),
        }
    }
}

impl Drop for AdminEndpoint {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// What every connection handler shares.
#[derive(Debug, Clone)]
struct Server {
    token: Arc<str>,
    requests: RequestSender,
    board: StatusBoard,
    active: Arc<AtomicUsize>,
}

fn accept_loop(listener: &TcpListener, server: &Server, stop: &AtomicBool) {
    while !stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((stream, peer)) => serve_connection(stream, peer, server),
            Err(e) if e.kind() == ErrorKind::WouldBlock => std::thread::sleep(ACCEPT_POLL),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => {
                // Out of file descriptors and the like: wait rather than spin.
                warn!(error = %e, "admin endpoint: accept failed");
                std::thread::sleep(ACCEPT_POLL * 10);
            }
        }
    }
    debug!("admin endpoint stopped");
}

/// Serve one connection on its own thread, or refuse it at once when too many are open.
fn serve_connection(stream: TcpStream, peer: SocketAddr, server: &Server) {
    let deadline = Instant::now() + REQUEST_DEADLINE;
    if let Err(e) = stream.set_nonblocking(false) {
        warn!(%peer, error = %e, "admin endpoint: dropping a connection");
        return;
    }
    let mut stream = DeadlineStream::new(stream, deadline);
    if server.active.fetch_add(1, Ordering::SeqCst) >= MAX_CONNECTIONS {
        server.active.fetch_sub(1, Ordering::SeqCst);
        warn!(%peer, "admin endpoint: too many connections; refused one");
        respond(&mut stream, peer, 503, error_json("too many connections"));
        return;
    }
    let handler = server.clone();
    let spawned = std::thread::Builder::new()
        .name("bot4-admin-conn".into())
        .spawn(move || {
            handle(&mut stream, peer, &handler);
            handler.active.fetch_sub(1, Ordering::SeqCst);
        });
    if let Err(e) = spawned {
        server.active.fetch_sub(1, Ordering::SeqCst);
        warn!(%peer, error = %e, "admin endpoint: cannot start a connection thread");
    }
}

fn respond(stream: &mut DeadlineStream, peer: SocketAddr, status: u16, body: Vec<u8>) {
    let allow: &[(&str, &str)] = if status == 405 {
        &[("Allow", "GET, POST")]
    } else {
        &[]
    };
    if let Err(e) = write_response(stream, status, allow, &body) {
        debug!(%peer, status, error = %e, "admin endpoint: could not send the response");
    }
}

fn error_json(message: &str) -> Vec<u8> {
    serde_json::json!({ "error": message })
        .to_string()
        .into_bytes()
}

fn handle(stream: &mut DeadlineStream, peer: SocketAddr, server: &Server) {
    let (status, body) = answer(stream, peer, server);
    respond(stream, peer, status, body);
    linger(stream);
}

/// After the response, read and drop what the client still sends (an unread body, up
/// to [`LINGER_BYTES`], for at most [`LINGER`]) before closing: closing a socket with
/// unread input resets the connection, and the client could lose the response.
fn linger(stream: &mut DeadlineStream) {
    if stream.shutdown_write().is_err() {
        return;
    }
    stream.set_deadline(Instant::now() + LINGER);
    let mut sink = [0u8; 4096];
    let mut left = LINGER_BYTES;
    while left > 0 {
        match stream.read(&mut sink) {
            Ok(0) | Err(_) => break,
            Ok(n) => left = left.saturating_sub(n),
        }
    }
}

/// Read one request and decide the response: status and JSON body.
fn answer(stream: &mut DeadlineStream, peer: SocketAddr, server: &Server) -> (u16, Vec<u8>) {
    let mut reader = BufReader::new(&mut *stream);
    let head = match read_head(&mut reader) {
        Ok(head) => head,
        Err(ReadError::Malformed(what)) => {
            debug!(%peer, reason = %what, "admin endpoint: bad request");
            return (400, error_json(&what));
        }
        Err(ReadError::Io(e)) => {
            debug!(%peer, error = %e, "admin endpoint: request not received");
            return (408, error_json("request not received in time"));
        }
    };
    let parts: Vec<&str> = head.start_line.split_ascii_whitespace().collect();
    let &[method, target, version] = parts.as_slice() else {
        return (400, error_json("bad request line"));
    };
    if !version.starts_with("HTTP/1.") {
        return (400, error_json("only HTTP/1.x is spoken here"));
    }
    let path = target.split('?').next().unwrap_or("");
    let route = match path {
        "/control" => Route::Control,
        "/status" => Route::Status,
        _ => {
            return (
                404,
                error_json("unknown route: use POST /control or GET /status"),
            )
        }
    };
    match (route, method) {
        (Route::Control, "POST") | (Route::Status, "GET") => {}
        _ => {
            return (
                405,
                error_json(&format!("{method} is not allowed on {path}")),
            )
        }
    }
    if !authorized(head.header("authorization"), &server.token) {
        warn!(%peer, path, "admin endpoint: request without the right token refused");
        return (401, error_json("missing or wrong bearer token"));
    }
    match route {
        Route::Status => match serde_json::to_vec(&server.board.snapshot()) {
            Ok(json) => (200, json),
            Err(e) => (
                503,
                error_json(&format!("status could not be encoded: {e}")),
            ),
        },
        Route::Control => {
            let body = match read_body(&mut reader, &head, MAX_BODY, false) {
                Ok(body) => body,
                Err(ReadError::Malformed(what)) => return (400, error_json(&what)),
                Err(ReadError::Io(e)) => {
                    debug!(%peer, error = %e, "admin endpoint: body not received");
                    return (408, error_json("request body not received in time"));
                }
            };
            control(&body, peer, server)
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    Control,
    Status,
}

/// Whether `header` is `Bearer <token>`, compared in constant time.
fn authorized(header: Option<&str>, token: &str) -> bool {
    let Some(header) = header else {
        return false;
    };
    let Some((scheme, given)) = header.split_once(' ') else {
        return false;
    };
    scheme.eq_ignore_ascii_case("bearer")
        && bool::from(given.trim().as_bytes().ct_eq(token.as_bytes()))
}

/// Apply a `POST /control` body: check it, put the request on the channel.
fn control(body: &[u8], peer: SocketAddr, server: &Server) -> (u16, Vec<u8>) {
    let request = match parse_control(body) {
        Ok(request) => request,
        Err(what) => {
            debug!(%peer, reason = %what, "admin endpoint: bad control request");
            return (400, error_json(&what));
        }
    };
    let command = request.command;
    let reason = request.reason.clone();
    match server.requests.send(request) {
        Ok(()) => {
            info!(
                command = command.as_str(),
                source = ControlSource::Admin.as_str(),
                reason = %reason,
                %peer,
                "control request accepted"
            );
            (
                202,
                serde_json::json!({ "accepted": command.as_str() })
                    .to_string()
                    .into_bytes(),
            )
        }
        Err(_) => {
            warn!(
                command = command.as_str(),
                "control request refused: the job no longer takes requests"
            );
            (503, error_json("the job no longer takes control requests"))
        }
    }
}

/// Check a `POST /control` body and make the request it asks for.
fn parse_control(body: &[u8]) -> Result<ControlRequest, String> {
    let body: ControlBody = serde_json::from_slice(body).map_err(|e| {
        format!(r#"the body must be JSON like {{"mode": "pause", "reason": "…"}}: {e}"#)
    })?;
    let command = ControlCommand::parse(&body.mode).ok_or_else(|| {
        format!(
            "unknown mode {:?}: use pause, resume, reduce, emergency, reset or set",
            body.mode
        )
    })?;
    let reason = body.reason.unwrap_or_default();
    if reason.chars().count() > MAX_REASON_CHARS {
        return Err(format!(
            "the reason is longer than {MAX_REASON_CHARS} characters"
        ));
    }
    let reason = match reason.trim() {
        "" => format!("bot4 control {}", command.as_str()),
        text => text.to_owned(),
    };
    let parameter = match (command, body.parameter, body.value) {
        (ControlCommand::Set, Some(name), Some(value)) => {
            Some(bot4_operators::parameters::checked(&name, &value)?)
        }
        (ControlCommand::Set, _, _) => {
            return Err("`set` needs a parameter and a value".to_owned());
        }
        (_, None, None) => None,
        _ => return Err("only `set` takes a parameter and a value".to_owned()),
    };
    Ok(ControlRequest {
        command,
        source: ControlSource::Admin,
        reason,
        parameter,
        received: Instant::now(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_64_hex_digits_and_differ() {
        let (a, b) = (new_token().expect("token"), new_token().expect("token"));
        assert_eq!(a.len(), 64);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }

    #[test]
    fn only_the_exact_bearer_token_is_authorized() {
        let token = "ab".repeat(32);
        assert!(authorized(Some(&format!("Bearer {token}")), &token));
        assert!(authorized(Some(&format!("bearer {token}")), &token));
        assert!(!authorized(None, &token));
        assert!(!authorized(Some(&token), &token));
        assert!(!authorized(Some(&format!("Basic {token}")), &token));
        assert!(!authorized(Some(&format!("Bearer {token}0")), &token));
        assert!(!authorized(Some("Bearer "), &token));
    }

    #[test]
    fn control_bodies_are_checked() {
        let ok = parse_control(br#"{"mode": "Pause", "reason": " lunch "}"#).expect("valid");
        assert_eq!(ok.command, ControlCommand::Pause);
        assert_eq!(ok.source, ControlSource::Admin);
        assert_eq!(ok.reason, "lunch");
        let resume = parse_control(br#"{"mode": "resume"}"#).expect("valid");
        assert_eq!(resume.command, ControlCommand::Normal);
        assert_eq!(resume.reason, "bot4 control normal");
        for bad in [
            &b"{"[..],
            b"",
            b"[]",
            br#"{"mode": "buy"}"#,
            br#"{"mode": 3}"#,
            br#"{"reason": "x"}"#,
            br#"{"mode": "pause", "qty": 5}"#,
        ] {
            assert!(
                parse_control(bad).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
        let long = format!(r#"{{"mode": "pause", "reason": "{}"}}"#, "é".repeat(501));
        assert!(parse_control(long.as_bytes()).is_err());
        let edge = format!(r#"{{"mode": "pause", "reason": "{}"}}"#, "é".repeat(500));
        assert!(parse_control(edge.as_bytes()).is_ok());
    }

    #[test]
    fn admin_files_are_written_private_and_read_back() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("run/bot4/admin.json");
        let file = AdminFile {
            addr: "127.0.0.1:4242".parse().expect("addr"),
            token: "00".repeat(32),
            pid: 7,
        };
        file.write(&path).expect("write");
        file.write(&path).expect("overwrite");
        assert_eq!(AdminFile::read(&path).expect("read"), file);
        let mode = |p: &Path| fs::metadata(p).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(path.parent().expect("dir")), 0o700);
        assert_eq!(
            fs::read_dir(path.parent().expect("dir"))
                .expect("ls")
                .count(),
            1,
            "no temporary file is left"
        );
    }
}
