//! Just enough HTTP/1.1 for the admin endpoint and its client: one request per
//! connection, bodies with a `Content-Length` only, every read bounded in size and time.
//!
//! Hand-written rather than a server crate because the endpoint must survive any input
//! from any local process: `tiny_http` 0.12, for one, allocates a buffer of the size a
//! request's `Content-Length` claims when it drops an unread body, and so aborts the
//! process on `Content-Length: 100000000000000000`.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Instant;

/// Most bytes of a request or status line plus headers.
pub(crate) const MAX_HEAD: u64 = 8 * 1024;

/// Most header lines.
const MAX_HEADERS: usize = 64;

/// Why a message could not be read.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// The peer broke the protocol or a limit; the text says how.
    Malformed(String),
    /// The socket failed or the deadline passed.
    Io(io::Error),
}

impl From<io::Error> for ReadError {
    fn from(e: io::Error) -> Self {
        ReadError::Io(e)
    }
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::Malformed(what) => f.write_str(what),
            ReadError::Io(e) => write!(f, "{e}"),
        }
    }
}

/// A stream whose reads and writes all end by one deadline.
#[derive(Debug)]
pub(crate) struct DeadlineStream {
    stream: TcpStream,
    deadline: Instant,
}

impl DeadlineStream {
    /// Wrap `stream`; every operation fails with `TimedOut` once `deadline` has passed.
    pub(crate) fn new(stream: TcpStream, deadline: Instant) -> Self {
        Self { stream, deadline }
    }

    /// Move the deadline.
    pub(crate) fn set_deadline(&mut self, deadline: Instant) {
        self.deadline = deadline;
    }

    /// Say that nothing more will be written, keeping the reading side open.
    pub(crate) fn shutdown_write(&self) -> io::Result<()> {
        self.stream.shutdown(std::net::Shutdown::Write)
    }

    fn remaining(&self) -> io::Result<std::time::Duration> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            Err(io::Error::new(io::ErrorKind::TimedOut, "deadline passed"))
        } else {
            Ok(left)
        }
    }
}

impl Read for DeadlineStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.remaining()?;
        self.stream.set_read_timeout(Some(left))?;
        self.stream.read(buf)
    }
}

impl Write for DeadlineStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let left = self.remaining()?;
        self.stream.set_write_timeout(Some(left))?;
        self.stream.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.stream.flush()
    }
}

/// The first line and the headers of a request or a response.
#[derive(Debug)]
pub(crate) struct Head {
    /// `POST /control HTTP/1.1`, or `HTTP/1.1 202 Accepted`.
    pub(crate) start_line: String,
    headers: Vec<(String, String)>,
}

impl Head {
    /// The value of the first header called `name` (case-insensitive), trimmed.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The declared body length: `Ok(None)` without one; an error for a chunked body or
    /// a length that is not a number.
    pub(crate) fn content_length(&self) -> Result<Option<u64>, ReadError> {
        if self.header("transfer-encoding").is_some() {
            return Err(ReadError::Malformed(
                "Transfer-Encoding is not accepted: send a Content-Length".into(),
            ));
        }
        match self.header("content-length") {
            None => Ok(None),
            Some(text) => text.parse::<u64>().map(Some).map_err(|_| {
                ReadError::Malformed(format!("Content-Length {text:?} is not a number"))
            }),
        }
    }
}

/// Read a message's first line and headers, at most [`MAX_HEAD`] bytes.
pub(crate) fn read_head<R: Read>(reader: &mut BufReader<R>) -> Result<Head, ReadError> {
    let mut limited = reader.take(MAX_HEAD);
    let mut start_line = None;
    let mut headers = Vec::new();
    loop {
        let mut line = Vec::new();
        limited.read_until(b'\n', &mut line)?;
        if line.last() != Some(&b'\n') {
            return Err(if line.is_empty() && start_line.is_none() {
                ReadError::Malformed("empty request".into())
            } else if limited.limit() == 0 {
                ReadError::Malformed(format!("headers longer than {MAX_HEAD} bytes"))
            } else {
                ReadError::Malformed("connection closed inside the headers".into())
            });
        }
        let text = String::from_utf8(line)
            .map_err(|_| ReadError::Malformed("headers are not UTF-8".into()))?;
        let text = text.trim_end_matches(['\r', '\n']);
        if start_line.is_none() {
            start_line = Some(text.to_owned());
            continue;
        }
        if text.is_empty() {
            break;
        }
        if headers.len() == MAX_HEADERS {
            return Err(ReadError::Malformed(format!(
                "more than {MAX_HEADERS} headers"
            )));
        }
        let (name, value) = text
            .split_once(':')
            .ok_or_else(|| ReadError::Malformed(format!("bad header line {text:?}")))?;
        headers.push((name.trim().to_owned(), value.trim().to_owned()));
    }
    Ok(Head {
        start_line: start_line.unwrap_or_default(),
        headers,
    })
}

/// Read the body `head` announces: exactly its `Content-Length` bytes, or, without
/// one, everything up to the end of the stream when `to_end` (a response) and nothing
/// otherwise (a request). More than `max` bytes is an error, found before reading them.
pub(crate) fn read_body<R: Read>(
    reader: &mut BufReader<R>,
    head: &Head,
    max: u64,
    to_end: bool,
) -> Result<Vec<u8>, ReadError> {
    let too_long = || ReadError::Malformed(format!("body longer than {max} bytes"));
    let mut body = Vec::new();
    match head.content_length()? {
        Some(len) if len > max => return Err(too_long()),
        Some(len) => {
            reader.take(len).read_to_end(&mut body)?;
            if body.len() as u64 != len {
                return Err(ReadError::Malformed(
                    "connection closed inside the body".into(),
                ));
            }
        }
        None if to_end => {
            reader.take(max + 1).read_to_end(&mut body)?;
            if body.len() as u64 > max {
                return Err(too_long());
            }
        }
        None => {}
    }
    Ok(body)
}

/// The reason phrase of the status codes the endpoint uses.
pub(crate) fn reason_phrase(status: u16) -> &'static str {
    match status {
        200 => "OK",
        202 => "Accepted",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        503 => "Service Unavailable",
        _ => "",
    }
}

/// Write a complete response with a JSON body, and say the connection ends with it.
pub(crate) fn write_response(
    out: &mut impl Write,
    status: u16,
    extra_headers: &[(&str, &str)],
    body: &[u8],
) -> io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {status} {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\nCache-Control: no-store\r\n",
        reason_phrase(status),
        body.len()
    );
    for (name, value) in extra_headers {
        head.push_str(name);
        head.push_str(": ");
        head.push_str(value);
        head.push_str("\r\n");
    }
    head.push_str("\r\n");
    out.write_all(head.as_bytes())?;
    out.write_all(body)?;
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head_of(text: impl AsRef<[u8]>) -> Result<Head, ReadError> {
        read_head(&mut BufReader::new(text.as_ref()))
    }

    #[test]
    fn heads_parse_with_case_insensitive_names() {
        let head =
            head_of("POST /control HTTP/1.1\r\nContent-length: 12\r\nX: y\r\n\r\n").expect("head");
        assert_eq!(head.start_line, "POST /control HTTP/1.1");
        assert_eq!(head.header("content-LENGTH"), Some("12"));
        assert_eq!(head.content_length().expect("length"), Some(12));
    }

    #[test]
    fn bad_heads_are_errors_not_panics() {
        for text in [
            "",
            "GET / HTTP/1.1\r\nno colon here\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: x\r\n",
        ] {
            assert!(
                matches!(head_of(text), Err(ReadError::Malformed(_))),
                "{text:?}"
            );
        }
        assert!(matches!(
            head_of(b"GET / HTTP/1.1\r\n\xff\xfe: x\r\n\r\n"),
            Err(ReadError::Malformed(_))
        ));
        let long = format!("GET / HTTP/1.1\r\nX: {}\r\n\r\n", "a".repeat(9000));
        assert!(matches!(head_of(&long), Err(ReadError::Malformed(_))));
        let many = format!("GET / HTTP/1.1\r\n{}\r\n", "A: b\r\n".repeat(65));
        assert!(matches!(head_of(&many), Err(ReadError::Malformed(_))));
    }

    #[test]
    fn absurd_or_chunked_lengths_are_refused_before_reading() {
        let text = "POST / HTTP/1.1\r\nContent-Length: 100000000000000000\r\n\r\n{}";
        let mut reader = BufReader::new(text.as_bytes());
        let head = read_head(&mut reader).expect("head");
        assert!(matches!(
            read_body(&mut reader, &head, 4096, false),
            Err(ReadError::Malformed(_))
        ));
        let chunked =
            head_of("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n").expect("head");
        assert!(chunked.content_length().is_err());
        let junk = head_of("POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n").expect("head");
        assert!(junk.content_length().is_err());
    }

    #[test]
    fn bodies_are_read_to_their_length() {
        let text = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}trailing";
        let mut reader = BufReader::new(text.as_bytes());
        let head = read_head(&mut reader).expect("head");
        assert_eq!(
            read_body(&mut reader, &head, 10, true).expect("body"),
            b"{}"
        );
        let short = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n{}";
        let mut reader = BufReader::new(short.as_bytes());
        let head = read_head(&mut reader).expect("head");
        assert!(read_body(&mut reader, &head, 10, true).is_err());
    }
}
