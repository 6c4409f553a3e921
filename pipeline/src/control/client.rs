//! The client side of the admin endpoint, for `bot4 control` and `bot4 status`: one
//! HTTP/1.1 request over a plain `TcpStream`, with timeouts.

use std::io::{BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use bot4_schemas::ControlCommand;
use thiserror::Error;

use super::admin::AdminFile;
use super::http::{read_body, read_head, DeadlineStream, ReadError};
use super::Status;

/// How long to wait for the connection.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// How long the whole exchange may take once connected.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// Largest response accepted (the status of many symbols is the largest).
const MAX_RESPONSE: u64 = 16 * 1024 * 1024;

/// Why a request to the job failed.
#[derive(Debug, Error)]
pub enum ClientError {
    /// The admin file is missing or unreadable.
    #[error("cannot read the admin file {} (is a job running with --admin, with the same --admin-file?)", path.display())]
    AdminFile {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The admin file is not what a job writes.
    #[error("{} is not an admin file: {reason}", path.display())]
    BadAdminFile {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// Nothing answers at the address in the admin file.
    #[error("cannot reach the job's admin endpoint at {addr} (from {}): the job may have stopped", admin_file.display())]
    Connect {
        /// The address.
        addr: SocketAddr,
        /// The admin file it came from.
        admin_file: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The exchange broke off or did not finish in time.
    #[error("talking to the job's admin endpoint at {addr}: {reason}")]
    Exchange {
        /// The address.
        addr: SocketAddr,
        /// What went wrong.
        reason: String,
    },
    /// The job answered with an error.
    #[error("the job refused the request ({status}): {message}")]
    Refused {
        /// The HTTP status.
        status: u16,
        /// The job's error message.
        message: String,
    },
    /// The request given is not one the job takes.
    #[error("unknown mode {0:?}: use pause, resume, reduce, emergency or reset")]
    UnknownMode(String),
}

/// A connection's worth of what the admin file says.
#[derive(Debug, Clone)]
pub struct AdminClient {
    file: PathBuf,
    admin: AdminFile,
}

impl AdminClient {
    /// Read the admin file a job wrote.
    pub fn from_admin_file(path: &Path) -> Result<Self, ClientError> {
        let text = std::fs::read_to_string(path).map_err(|source| ClientError::AdminFile {
            path: path.to_owned(),
            source,
        })?;
        let admin: AdminFile =
            serde_json::from_str(&text).map_err(|e| ClientError::BadAdminFile {
                path: path.to_owned(),
                reason: e.to_string(),
            })?;
        Ok(Self {
            file: path.to_owned(),
            admin,
        })
    }

    /// The job's process id, as the admin file says.
    pub fn pid(&self) -> u32 {
        self.admin.pid
    }

    /// Ask the job for a mode (`pause`, `resume`, `reduce`, `emergency`, `reset`).
    /// Returns the mode it accepted.
    pub fn control(&self, mode: &str, reason: Option<&str>) -> Result<ControlCommand, ClientError> {
        self.control_with(mode, reason, None)
    }

    /// Ask the job to change `parameter` to `value` (after its cooldown).
    pub fn set(
        &self,
        parameter: &str,
        value: &str,
        reason: Option<&str>,
    ) -> Result<ControlCommand, ClientError> {
        self.control_with("set", reason, Some((parameter, value)))
    }

    fn control_with(
        &self,
        mode: &str,
        reason: Option<&str>,
        parameter: Option<(&str, &str)>,
    ) -> Result<ControlCommand, ClientError> {
        let command =
            ControlCommand::parse(mode).ok_or_else(|| ClientError::UnknownMode(mode.to_owned()))?;
        let mut body = serde_json::json!({ "mode": command.as_str() });
        if let Some(reason) = reason {
            body["reason"] = reason.into();
        }
        if let Some((name, value)) = parameter {
            body["parameter"] = name.into();
            body["value"] = value.into();
        }
        let response = self.request("POST", "/control", body.to_string().as_bytes())?;
        let accepted = serde_json::from_slice::<serde_json::Value>(&response)
            .ok()
            .and_then(|v| v.get("accepted")?.as_str().and_then(ControlCommand::parse))
            .ok_or_else(|| {
                self.exchange_error("the answer to POST /control is not {\"accepted\": mode}")
            })?;
        Ok(accepted)
    }

    /// The job's status.
    pub fn status(&self) -> Result<Status, ClientError> {
        let response = self.request("GET", "/status", b"")?;
        serde_json::from_slice(&response)
            .map_err(|e| self.exchange_error(&format!("the status is not readable: {e}")))
    }

    fn exchange_error(&self, reason: &str) -> ClientError {
        ClientError::Exchange {
            addr: self.admin.addr,
            reason: reason.to_owned(),
        }
    }

    /// One request; the body of a 2xx answer, or the error.
    fn request(&self, method: &str, path: &str, body: &[u8]) -> Result<Vec<u8>, ClientError> {
        let addr = self.admin.addr;
        let stream = TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT).map_err(|source| {
            ClientError::Connect {
                addr,
                admin_file: self.file.clone(),
                source,
            }
        })?;
        let mut stream = DeadlineStream::new(stream, Instant::now() + REQUEST_TIMEOUT);
        let mut message = format!(
            "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\nConnection: close\r\nAccept: application/json\r\n",
            self.admin.token
        );
        if method == "POST" {
            message.push_str(&format!(
                "Content-Type: application/json\r\nContent-Length: {}\r\n",
                body.len()
            ));
        }
        message.push_str("\r\n");
        stream
            .write_all(message.as_bytes())
            .and_then(|()| stream.write_all(body))
            .and_then(|()| stream.flush())
            .map_err(|e| self.exchange_error(&format!("sending the request: {e}")))?;
        let mut reader = BufReader::new(&mut stream);
        let describe = |e: ReadError| self.exchange_error(&format!("reading the answer: {e}"));
        let head = read_head(&mut reader).map_err(describe)?;
        let status = head
            .start_line
            .split_ascii_whitespace()
            .nth(1)
            .and_then(|code| code.parse::<u16>().ok())
            .ok_or_else(|| {
                self.exchange_error(&format!("bad status line {:?}", head.start_line))
            })?;
        let body = read_body(&mut reader, &head, MAX_RESPONSE, true).map_err(describe)?;
        if (200..300).contains(&status) {
            return Ok(body);
        }
        let message = serde_json::from_slice::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v.get("error")?.as_str().map(str::to_owned))
            .unwrap_or_else(|| String::from_utf8_lossy(&body).trim().to_owned());
        Err(ClientError::Refused { status, message })
    }
}
