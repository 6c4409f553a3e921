//! The control plane: every configured lever on its own thread, all feeding one channel.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;

use tracing::{info, warn};

use super::admin::AdminEndpoint;
use super::gpio::{self, GpioConfig};
use super::kill_file;
use super::signals::SignalListener;
use super::{RequestReceiver, StatusBoard};
use crate::PipelineError;

/// Which levers to start. The default starts none.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ControlPlaneConfig {
    /// The admin endpoint behind `bot4 control` and `bot4 status`; off when `None`.
    pub admin: Option<AdminConfig>,
    /// Go to Emergency when a file appears at this path.
    pub kill_file: Option<PathBuf>,
    /// SIGUSR1 → Emergency, SIGUSR2 → Pause.
    pub signals: bool,
    /// The hardware kill switch and status LEDs (needs the `gpio` feature).
    pub gpio: Option<GpioConfig>,
}

/// Where the admin endpoint listens and where it says so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminConfig {
    /// A loopback address; port 0 takes a free one.
    pub addr: SocketAddr,
    /// The file that gets the bound address and the token (mode 0600).
    pub file: PathBuf,
}

/// The running levers. Stopping it (or dropping it) stops every lever's thread within
/// a few milliseconds and removes the admin file.
#[derive(Debug)]
pub struct ControlPlane {
    stop: Arc<AtomicBool>,
    threads: Vec<(&'static str, JoinHandle<()>)>,
    admin: Option<AdminEndpoint>,
    signals: Option<SignalListener>,
}

impl ControlPlane {
    /// Start the configured levers. Each request they make arrives on the receiver.
    /// Fails, with nothing left running, if any lever cannot start: a non-loopback admin
    /// address, a port in use, an unwritable admin file, a GPIO pin that cannot be had
    /// (or a build without the `gpio` feature).
    pub fn start(
        config: ControlPlaneConfig,
        board: StatusBoard,
    ) -> Result<(ControlPlane, RequestReceiver), PipelineError> {
        let (tx, rx) = mpsc::channel();
        let mut plane = ControlPlane {
            stop: Arc::new(AtomicBool::new(false)),
            threads: Vec::new(),
            admin: None,
            signals: None,
        };
        // On an error below, dropping `plane` stops whatever has started.
        if let Some(gpio_config) = config.gpio {
            let thread = gpio::spawn(
                gpio_config,
                tx.clone(),
                board.clone(),
                Arc::clone(&plane.stop),
            )?;
            plane.threads.push(("gpio", thread));
        }
        if let Some(path) = config.kill_file {
            info!(path = %path.display(), "watching for the kill file");
            let thread = kill_file::spawn(path.clone(), tx.clone(), Arc::clone(&plane.stop))
                .map_err(|e| {
                    PipelineError::Config(format!(
                        "cannot start the kill-file watcher for {}: {e}",
                        path.display()
                    ))
                })?;
            plane.threads.push(("kill file", thread));
        }
        if config.signals {
            plane.signals = Some(SignalListener::start(tx.clone())?);
        }
        if let Some(admin) = config.admin {
            plane.admin = Some(AdminEndpoint::start(admin.addr, admin.file, tx, board)?);
        }
        Ok((plane, rx))
    }

    /// The admin endpoint's bound address, if it runs.
    pub fn admin_addr(&self) -> Option<SocketAddr> {
        self.admin.as_ref().map(AdminEndpoint::addr)
    }

    /// The admin file, if the endpoint runs.
    pub fn admin_file(&self) -> Option<&Path> {
        self.admin.as_ref().map(AdminEndpoint::file)
    }

    /// Stop every lever, wait for their threads and remove the admin file.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(mut signals) = self.signals.take() {
            signals.shutdown();
        }
        if let Some(mut admin) = self.admin.take() {
            admin.shutdown();
        }
        for (name, thread) in self.threads.drain(..) {
            if thread.join().is_err() {
                warn!(lever = name, "a control lever's thread panicked");
            }
        }
    }
}

impl Drop for ControlPlane {
    fn drop(&mut self) {
        self.shutdown();
    }
}
