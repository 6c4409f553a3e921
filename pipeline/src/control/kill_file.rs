//! The kill file: when a file appears at the configured path, the job goes to Emergency.
//!
//! The path is looked at every [`POLL`] with one `symlink_metadata` call. Each
//! appearance sends one Emergency request (a file already there at start counts as
//! appearing at start); removing the file does nothing, since Emergency latches until a
//! reset. The reason is the file's first line, or `kill file <path> appeared`.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bot4_schemas::{ControlCommand, ControlSource};
use tracing::warn;

use super::{ControlRequest, RequestSender};

/// How often the path is looked at.
pub const POLL: Duration = Duration::from_millis(2);

/// Longest reason taken from the file, in characters.
pub const MAX_REASON_CHARS: usize = 200;

/// Most bytes read from the file to find its first line.
const READ_LIMIT: u64 = 4096;

/// How long to wait for text in a file that appeared empty: `echo why > kill` creates
/// the file a moment before it writes the line.
const EMPTY_GRACE: Duration = Duration::from_millis(10);

/// Watches for the kill file to appear.
#[derive(Debug)]
pub(crate) struct KillFileWatcher {
    path: PathBuf,
    present: bool,
}

impl KillFileWatcher {
    /// A watcher that has not looked yet: a file already present is seen on the first look.
    pub(crate) fn new(path: PathBuf) -> Self {
        Self {
            path,
            present: false,
        }
    }

    /// Look once. Returns the request to send if the file has just appeared.
    pub(crate) fn poll(&mut self) -> Option<ControlRequest> {
        let present = fs::symlink_metadata(&self.path).is_ok();
        let appeared = present && !self.present;
        self.present = present;
        appeared.then(|| {
            let received = Instant::now();
            let reason = match first_line(&self.path) {
                Some(line) => line,
                None => {
                    std::thread::sleep(EMPTY_GRACE);
                    first_line(&self.path)
                        .unwrap_or_else(|| format!("kill file {} appeared", self.path.display()))
                }
            };
            ControlRequest {
                command: ControlCommand::Emergency,
                source: ControlSource::KillFile,
                reason,
                parameter: None,
                received,
            }
        })
    }

    /// Poll until `stop`, sending each appearance to `requests`.
    pub(crate) fn run(mut self, requests: &RequestSender, stop: &AtomicBool) {
        while !stop.load(Ordering::SeqCst) {
            if let Some(request) = self.poll() {
                warn!(
                    path = %self.path.display(),
                    source = ControlSource::KillFile.as_str(),
                    reason = %request.reason,
                    "kill file appeared: emergency"
                );
                if requests.send(request).is_err() {
                    warn!(path = %self.path.display(), "kill file: the job no longer takes control requests");
                }
            }
            std::thread::sleep(POLL);
        }
    }
}

/// The first non-empty-after-trimming line of a regular file, at most
/// [`MAX_REASON_CHARS`] characters; `None` if there is none or it cannot be read. Only
/// regular files are opened (a FIFO would block).
fn first_line(path: &Path) -> Option<String> {
    if !fs::metadata(path).ok()?.is_file() {
        return None;
    }
    let mut bytes = Vec::new();
    fs::File::open(path)
        .ok()?
        .take(READ_LIMIT)
        .read_to_end(&mut bytes)
        .ok()?;
    let text = String::from_utf8_lossy(&bytes);
    let line: String = text
        .lines()
        .next()?
        .trim()
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_REASON_CHARS)
        .collect();
    let line = line.trim();
    (!line.is_empty()).then(|| line.to_owned())
}

/// Start watching `path` on its own thread.
pub(crate) fn spawn(
    path: PathBuf,
    requests: RequestSender,
    stop: Arc<AtomicBool>,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new()
        .name("bot4-kill-file".into())
        .spawn(move || KillFileWatcher::new(path).run(&requests, &stop))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_appearance_fires_once_with_the_first_line() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("KILL");
        let mut watcher = KillFileWatcher::new(path.clone());
        assert!(watcher.poll().is_none());
        fs::write(&path, "  fat finger on BTC \nsecond line\n").expect("write");
        let request = watcher.poll().expect("appeared");
        assert_eq!(request.command, ControlCommand::Emergency);
        assert_eq!(request.source, ControlSource::KillFile);
        assert_eq!(request.reason, "fat finger on BTC");
        assert!(watcher.poll().is_none(), "still there: no second request");
        fs::remove_file(&path).expect("remove");
        assert!(watcher.poll().is_none(), "removal does nothing");
        fs::write(&path, "").expect("write");
        let again = watcher.poll().expect("appeared again");
        assert_eq!(
            again.reason,
            format!("kill file {} appeared", path.display())
        );
    }

    #[test]
    fn a_file_present_at_start_counts_and_long_reasons_are_cut() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("KILL");
        fs::write(&path, "x".repeat(1000)).expect("write");
        let request = KillFileWatcher::new(path).poll().expect("present at start");
        assert_eq!(request.reason.chars().count(), MAX_REASON_CHARS);
    }

    #[test]
    fn a_directory_or_dangling_link_counts_without_being_read() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("KILL");
        std::os::unix::fs::symlink(dir.path().join("nowhere"), &path).expect("symlink");
        let request = KillFileWatcher::new(path.clone())
            .poll()
            .expect("link counts");
        assert!(request.reason.starts_with("kill file "));
        let sub = dir.path().join("KILLDIR");
        fs::create_dir(&sub).expect("mkdir");
        assert!(KillFileWatcher::new(sub).poll().is_some());
    }
}
