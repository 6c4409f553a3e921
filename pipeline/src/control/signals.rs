//! Unix signals as levers: `kill -USR1 <pid>` is Emergency, `kill -USR2 <pid>` is Pause.
//!
//! Only SIGUSR1 and SIGUSR2 are registered; SIGINT and SIGTERM keep their default
//! handling. Once the listener has stopped, the two signals are ignored rather than
//! killing the process (a registered handler cannot be taken back).

use std::thread::JoinHandle;
use std::time::Instant;

use bot4_schemas::{ControlCommand, ControlSource};
use signal_hook::consts::signal::{SIGUSR1, SIGUSR2};
use signal_hook::iterator::{Handle, Signals};
use tracing::warn;

use super::{ControlRequest, RequestSender};
use crate::PipelineError;

/// The signals listened to.
pub const SIGNALS: [i32; 2] = [SIGUSR1, SIGUSR2];

/// The request a signal stands for, if it is one of [`SIGNALS`].
pub fn request_for_signal(signal: i32) -> Option<ControlRequest> {
    let (command, name) = match signal {
        SIGUSR1 => (ControlCommand::Emergency, "SIGUSR1"),
        SIGUSR2 => (ControlCommand::Pause, "SIGUSR2"),
        _ => return None,
    };
    Some(ControlRequest {
        command,
        source: ControlSource::Signal,
        reason: name.to_owned(),
        parameter: None,
        received: Instant::now(),
    })
}

/// The running listener: its thread and the handle that stops it.
#[derive(Debug)]
pub(crate) struct SignalListener {
    handle: Handle,
    thread: Option<JoinHandle<()>>,
}

impl SignalListener {
    /// Register the handlers and start listening on a thread.
    pub(crate) fn start(requests: RequestSender) -> Result<Self, PipelineError> {
        let mut signals = Signals::new(SIGNALS).map_err(|e| {
            PipelineError::Config(format!("cannot listen for SIGUSR1/SIGUSR2: {e}"))
        })?;
        let handle = signals.handle();
        let thread = std::thread::Builder::new()
            .name("bot4-signals".into())
            .spawn(move || {
                for signal in signals.forever() {
                    let Some(request) = request_for_signal(signal) else {
                        continue;
                    };
                    warn!(
                        signal = %request.reason,
                        command = request.command.as_str(),
                        source = ControlSource::Signal.as_str(),
                        "signal received"
                    );
                    if requests.send(request).is_err() {
                        warn!("signal: the job no longer takes control requests");
                    }
                }
            })
            .map_err(|e| {
                handle.close();
                PipelineError::Config(format!("cannot start the signal thread: {e}"))
            })?;
        Ok(Self {
            handle,
            thread: Some(thread),
        })
    }

    /// Stop listening and wait for the thread.
    pub(crate) fn shutdown(&mut self) {
        self.handle.close();
        if let Some(thread) = self.thread.take() {
            if thread.join().is_err() {
                warn!("the signal thread panicked");
            }
        }
    }
}

impl Drop for SignalListener {
    fn drop(&mut self) {
        self.shutdown();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usr1_is_emergency_and_usr2_is_pause() {
        let usr1 = request_for_signal(SIGUSR1).expect("mapped");
        assert_eq!(
            (usr1.command, usr1.source, usr1.reason.as_str()),
            (ControlCommand::Emergency, ControlSource::Signal, "SIGUSR1")
        );
        let usr2 = request_for_signal(SIGUSR2).expect("mapped");
        assert_eq!(
            (usr2.command, usr2.source, usr2.reason.as_str()),
            (ControlCommand::Pause, ControlSource::Signal, "SIGUSR2")
        );
        for other in [
            signal_hook::consts::SIGINT,
            signal_hook::consts::SIGTERM,
            0,
            -1,
        ] {
            assert!(request_for_signal(other).is_none());
        }
    }

    #[test]
    fn the_listener_starts_and_stops() {
        let (tx, rx) = std::sync::mpsc::channel();
        let mut listener = SignalListener::start(tx).expect("start");
        listener.shutdown();
        assert!(rx.try_recv().is_err());
    }
}
