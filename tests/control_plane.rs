//! The control plane over real sockets and files: the admin endpoint with its token and
//! admin file, the kill file, and the code paths of `bot4 control` and `bot4 status`.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::mpsc::TryRecvError;
use std::time::Duration;

use bot4_pipeline::control::admin::AdminFile;
use bot4_pipeline::control::cli::{control_command, status_command, ControlArgs, StatusArgs};
use bot4_pipeline::control::client::{AdminClient, ClientError};
use bot4_pipeline::control::{
    AdminConfig, ControlPlane, ControlPlaneConfig, JobState, PositionStatus, RequestReceiver,
    Status, StatusBoard,
};
use bot4_schemas::{ControlCommand, ControlSource, Decimal};

/// Generous: the machine may be busy with other builds.
const WAIT: Duration = Duration::from_secs(10);

struct Job {
    plane: ControlPlane,
    requests: RequestReceiver,
    board: StatusBoard,
    admin_file: PathBuf,
    kill_file: PathBuf,
    _dir: tempfile::TempDir,
}

impl Job {
    fn start() -> Job {
        let dir = tempfile::tempdir().expect("tempdir");
        let admin_file = dir.path().join("run/bot4/admin.json");
        let kill_file = dir.path().join("KILL");
        let board = StatusBoard::new();
        let (plane, requests) = ControlPlane::start(
            ControlPlaneConfig {
                admin: Some(AdminConfig {
                    addr: "127.0.0.1:0".parse().expect("addr"),
                    file: admin_file.clone(),
                }),
                kill_file: Some(kill_file.clone()),
                signals: false,
                gpio: None,
            },
            board.clone(),
        )
        .expect("control plane starts");
        Job {
            plane,
            requests,
            board,
            admin_file,
            kill_file,
            _dir: dir,
        }
    }

    fn addr(&self) -> SocketAddr {
        self.plane.admin_addr().expect("admin endpoint")
    }

    fn token(&self) -> String {
        AdminFile::read(&self.admin_file).expect("admin file").token
    }

    /// Nothing has reached the job's channel. A handler sends before it answers, so
    /// once an answer is in, this is not a race.
    fn assert_nothing_received(&self) {
        assert_eq!(self.requests.try_recv().err(), Some(TryRecvError::Empty));
    }
}

/// Send raw bytes, read the whole answer: its status and its JSON body.
fn exchange(addr: SocketAddr, request: &[u8]) -> (u16, serde_json::Value) {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(WAIT)).expect("timeout");
    stream.write_all(request).expect("send");
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).expect("read the answer");
    let text = String::from_utf8(answer).expect("utf-8 answer");
    let (head, body) = text.split_once("\r\n\r\n").expect("a head and a body");
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status code");
    let json = serde_json::from_str(body).unwrap_or(serde_json::Value::Null);
    (status, json)
}

fn post(addr: SocketAddr, auth: Option<&str>, body: &str) -> (u16, serde_json::Value) {
    let auth = auth.map_or(String::new(), |a| format!("Authorization: {a}\r\n"));
    let request = format!(
        "POST /control HTTP/1.1\r\nHost: {addr}\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    exchange(addr, request.as_bytes())
}

fn get(addr: SocketAddr, path: &str, auth: Option<&str>) -> (u16, serde_json::Value) {
    let auth = auth.map_or(String::new(), |a| format!("Authorization: {a}\r\n"));
    exchange(
        addr,
        format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}\r\n").as_bytes(),
    )
}

fn mode_bits(path: &Path) -> u32 {
    std::fs::metadata(path)
        .expect("metadata")
        .permissions()
        .mode()
        & 0o777
}

#[test]
fn the_admin_file_is_private_and_its_token_pulls_a_lever() {
    let job = Job::start();
    assert_eq!(mode_bits(&job.admin_file), 0o600);
    assert_eq!(mode_bits(job.admin_file.parent().expect("dir")), 0o700);
    let file = AdminFile::read(&job.admin_file).expect("admin file");
    assert_eq!(file.addr, job.addr());
    assert_ne!(file.addr.port(), 0, "the bound port, not 0");
    assert_eq!(file.pid, std::process::id());
    assert_eq!(file.token.len(), 64);

    let (status, body) = post(
        job.addr(),
        Some(&format!("Bearer {}", file.token)),
        r#"{"mode": "pause", "reason": "checking the feed"}"#,
    );
    assert_eq!(status, 202);
    assert_eq!(body, serde_json::json!({ "accepted": "pause" }));
    let request = job.requests.recv_timeout(WAIT).expect("a request");
    assert_eq!(request.command, ControlCommand::Pause);
    assert_eq!(request.source, ControlSource::Admin);
    assert_eq!(request.reason, "checking the feed");
    job.assert_nothing_received();
}

#[test]
fn requests_without_the_token_are_refused_and_change_nothing() {
    let job = Job::start();
    let token = job.token();
    let body = r#"{"mode": "emergency"}"#;
    for auth in [
        None,
        Some(String::from("Bearer ")),
        Some(format!("Bearer {}", &token[..63])),
        Some(format!("Bearer {token}0")),
        Some(format!("Basic {token}")),
        Some(format!("Bearer {}", "0".repeat(64))),
    ] {
        let (status, answer) = post(job.addr(), auth.as_deref(), body);
        assert_eq!(status, 401, "{auth:?}");
        assert!(answer["error"].is_string(), "{answer}");
        let (status, _) = get(job.addr(), "/status", auth.as_deref());
        assert_eq!(status, 401, "{auth:?}");
        job.assert_nothing_received();
    }
}

#[test]
fn bad_requests_get_400_404_or_405_and_the_endpoint_survives() {
    let job = Job::start();
    let auth = format!("Bearer {}", job.token());
    let addr = job.addr();
    let long_reason = format!(r#"{{"mode": "pause", "reason": "{}"}}"#, "x".repeat(501));
    let huge = format!(r#"{{"mode": "pause", "reason": "{}"}}"#, "x".repeat(5000));
    for body in [
        "{",
        "",
        "not json",
        r#"{"mode": "buy"}"#,
        r#"{"mode": "pause", "qty": "1"}"#,
        long_reason.as_str(),
        huge.as_str(),
    ] {
        let (status, answer) = post(addr, Some(&auth), body);
        assert_eq!(status, 400, "{:.80}", body);
        assert!(answer["error"].is_string(), "{answer}");
    }
    let absurd = format!(
        "POST /control HTTP/1.1\r\nAuthorization: {auth}\r\nContent-Length: 100000000000000000\r\n\r\n{{}}"
    );
    assert_eq!(exchange(addr, absurd.as_bytes()).0, 400);
    let chunked = format!(
        "POST /control HTTP/1.1\r\nAuthorization: {auth}\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{{}}\r\n0\r\n\r\n"
    );
    assert_eq!(exchange(addr, chunked.as_bytes()).0, 400);
    assert_eq!(exchange(addr, b"\x00\xff garbage\r\n\r\n").0, 400);
    assert_eq!(exchange(addr, b"\r\n\r\n").0, 400);
    assert_eq!(exchange(addr, b"GET /status SPDY/3\r\n\r\n").0, 400);
    assert_eq!(get(addr, "/orders", Some(&auth)).0, 404);
    assert_eq!(get(addr, "/control", Some(&auth)).0, 405);
    job.assert_nothing_received();

    let (status, _) = post(addr, Some(&auth), r#"{"mode": "reduce"}"#);
    assert_eq!(status, 202, "still serving");
    let request = job.requests.recv_timeout(WAIT).expect("a request");
    assert_eq!(request.command, ControlCommand::Reduce);
    assert_eq!(request.reason, "bot4 control reduce");
}

#[test]
fn the_status_is_the_board_and_reading_it_changes_nothing() {
    let job = Job::start();
    job.board.update(|s| {
        s.state = JobState::Running;
        s.mode = "pause".into();
        s.mode_source = Some("admin".into());
        s.mode_reason = Some("lunch".into());
        s.mode_since = Some(1_767_225_600_000_000_000);
        s.ticks = 1234;
        s.equity = Some(Decimal::new(100_000_050, 2));
        s.positions = vec![PositionStatus {
            symbol: "BTCUSDT".into(),
            qty: Decimal::new(-25, 2),
            avg_price: Decimal::new(60_000, 0),
            mark: Decimal::new(59_000, 0),
            notional: Decimal::new(14_750, 0),
            unrealized_pnl: Decimal::new(250, 0),
            realized_pnl: Decimal::new(-3, 0),
        }];
    });
    let before = job.board.snapshot();
    let (status, body) = get(
        job.addr(),
        "/status",
        Some(&format!("Bearer {}", job.token())),
    );
    assert_eq!(status, 200);
    let read: Status = serde_json::from_value(body).expect("a Status");
    assert_eq!(read, before);
    assert_eq!(job.board.snapshot(), before);
    job.assert_nothing_received();
}

#[test]
fn the_kill_file_appearing_sends_one_emergency() {
    let job = Job::start();
    std::fs::write(&job.kill_file, "operator saw a runaway\n").expect("kill file");
    let request = job.requests.recv_timeout(WAIT).expect("an emergency");
    assert_eq!(request.command, ControlCommand::Emergency);
    assert_eq!(request.source, ControlSource::KillFile);
    assert_eq!(request.reason, "operator saw a runaway");
    std::thread::sleep(Duration::from_millis(100));
    std::fs::remove_file(&job.kill_file).expect("remove");
    std::thread::sleep(Duration::from_millis(100));
    job.assert_nothing_received();
}

#[test]
fn the_client_commands_work_against_a_job() {
    let job = Job::start();
    let admin_file = Some(job.admin_file.clone());
    let line = control_command(&ControlArgs {
        mode: "emergency".into(),
        parameter: Vec::new(),
        reason: Some("testing the lever".into()),
        admin_file: admin_file.clone(),
    })
    .expect("control");
    assert_eq!(line, "accepted: emergency");
    let request = job.requests.recv_timeout(WAIT).expect("a request");
    assert_eq!(
        (request.command, request.source, request.reason.as_str()),
        (
            ControlCommand::Emergency,
            ControlSource::Admin,
            "testing the lever"
        )
    );
    let line = control_command(&ControlArgs {
        mode: "resume".into(),
        parameter: Vec::new(),
        reason: None,
        admin_file: admin_file.clone(),
    })
    .expect("control");
    assert_eq!(line, "accepted: normal");
    let request = job.requests.recv_timeout(WAIT).expect("a request");
    assert_eq!(request.command, ControlCommand::Normal);

    job.board.update(|s| s.ticks = 77);
    let json = status_command(&StatusArgs {
        admin_file: admin_file.clone(),
        json: true,
    })
    .expect("status --json");
    let status: Status = serde_json::from_str(&json).expect("a Status");
    assert_eq!(status, job.board.snapshot());
    let text = status_command(&StatusArgs {
        admin_file,
        json: false,
    })
    .expect("status");
    assert!(text.contains("mode        normal"), "{text}");
    assert!(text.contains("ticks 77"), "{text}");

    let client = AdminClient::from_admin_file(&job.admin_file).expect("client");
    assert_eq!(client.pid(), std::process::id());
    assert!(matches!(
        client.control("buy", None),
        Err(ClientError::UnknownMode(_))
    ));
    let err = client
        .control("pause", Some(&"x".repeat(501)))
        .expect_err("too long");
    assert!(
        matches!(err, ClientError::Refused { status: 400, .. }),
        "{err}"
    );
}

#[test]
fn the_client_explains_a_missing_file_a_dead_job_and_a_stale_token() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("nothing.json");
    let err = control_command(&ControlArgs {
        mode: "pause".into(),
        parameter: Vec::new(),
        reason: None,
        admin_file: Some(missing.clone()),
    })
    .expect_err("no admin file");
    let message = err.to_string();
    assert!(message.contains("cannot read the admin file"), "{message}");
    assert!(message.contains("nothing.json"), "{message}");

    let dead_port = {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr")
    };
    let dead = dir.path().join("dead.json");
    AdminFile {
        addr: dead_port,
        token: "00".repeat(32),
        pid: 1,
    }
    .write(&dead)
    .expect("write");
    let err = status_command(&StatusArgs {
        admin_file: Some(dead.clone()),
        json: false,
    })
    .expect_err("nobody listening");
    assert!(err.to_string().contains("cannot reach"), "{err}");

    let job = Job::start();
    let stale = dir.path().join("stale.json");
    AdminFile {
        addr: job.addr(),
        token: "00".repeat(32),
        pid: 1,
    }
    .write(&stale)
    .expect("write");
    let err = control_command(&ControlArgs {
        mode: "pause".into(),
        parameter: Vec::new(),
        reason: None,
        admin_file: Some(stale),
    })
    .expect_err("wrong token");
    assert!(err.to_string().contains("401"), "{err}");
    job.assert_nothing_received();
}

#[test]
fn a_job_that_stopped_listening_answers_503() {
    let job = Job::start();
    let Job {
        plane,
        requests,
        admin_file,
        _dir,
        ..
    } = job;
    drop(requests);
    let client = AdminClient::from_admin_file(&admin_file).expect("client");
    let err = client.control("pause", None).expect_err("nobody takes it");
    assert!(
        matches!(err, ClientError::Refused { status: 503, .. }),
        "{err}"
    );
    assert!(client.status().is_ok(), "the status is still readable");
    plane.stop();
}

#[test]
fn stopping_removes_the_admin_file_and_closes_the_port() {
    let job = Job::start();
    let addr = job.addr();
    let Job {
        plane,
        admin_file,
        _dir,
        ..
    } = job;
    assert!(admin_file.exists());
    let client = AdminClient::from_admin_file(&admin_file).expect("client");
    plane.stop();
    assert!(!admin_file.exists(), "the admin file is removed");
    assert!(TcpStream::connect_timeout(&addr, Duration::from_secs(2)).is_err());
    assert!(matches!(client.status(), Err(ClientError::Connect { .. })));
}

#[test]
fn levers_refuse_a_public_address_and_start_with_signals() {
    let dir = tempfile::tempdir().expect("tempdir");
    let admin_file = dir.path().join("admin.json");
    let err = ControlPlane::start(
        ControlPlaneConfig {
            admin: Some(AdminConfig {
                addr: "0.0.0.0:0".parse().expect("addr"),
                file: admin_file.clone(),
            }),
            ..ControlPlaneConfig::default()
        },
        StatusBoard::new(),
    )
    .expect_err("not loopback");
    assert!(err.to_string().contains("loopback"), "{err}");
    assert!(!admin_file.exists());

    // Signals are registered and released; none is sent (it would reach every test).
    let (plane, requests) = ControlPlane::start(
        ControlPlaneConfig {
            signals: true,
            ..ControlPlaneConfig::default()
        },
        StatusBoard::new(),
    )
    .expect("signals");
    plane.stop();
    assert!(requests.recv_timeout(Duration::from_millis(10)).is_err());
}
