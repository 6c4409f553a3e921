//! The hardware lever on a Raspberry Pi: a kill-switch button and three status LEDs.
//!
//! The kill switch is an input pin with its pull-up on, pressed when low (a button to
//! ground). It is sampled every [`SAMPLE`]; a level held for [`DEBOUNCE`] counts, and
//! each press sends one Emergency request (a button held at start counts as a press).
//! The LEDs show the safety controller's mode from the [`StatusBoard`], refreshed every
//! [`LED_REFRESH`]: green for normal, yellow for pause or reduce, red for emergency;
//! all go dark when the control plane stops.
//!
//! The pins are driven with `rppal`, built in with the cargo feature `gpio`
//! (`cargo build --release -p bot4-pipeline --features gpio`). Without it, asking for a
//! GPIO pin is an error at start.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use super::{RequestSender, StatusBoard};
use crate::PipelineError;

/// How often the kill switch is sampled.
pub const SAMPLE: Duration = Duration::from_millis(1);

/// How long a level must hold before it counts.
pub const DEBOUNCE: Duration = Duration::from_millis(5);

/// How often the LEDs are brought up to date.
pub const LED_REFRESH: Duration = Duration::from_millis(50);

/// The pins, by BCM GPIO number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct GpioConfig {
    /// The kill switch's input pin (pull-up, active low).
    pub kill_pin: Option<u8>,
    /// The status LEDs' output pins.
    pub leds: Option<StatusLeds>,
}

/// The status LEDs' output pins, by BCM GPIO number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusLeds {
    /// Lit in mode normal.
    pub green: u8,
    /// Lit in mode pause or reduce.
    pub yellow: u8,
    /// Lit in mode emergency.
    pub red: u8,
}

impl GpioConfig {
    /// Refuse a pin used twice.
    pub fn validate(&self) -> Result<(), PipelineError> {
        let mut pins: Vec<u8> = self.kill_pin.into_iter().collect();
        if let Some(leds) = self.leds {
            pins.extend([leds.green, leds.yellow, leds.red]);
        }
        let mut sorted = pins.clone();
        sorted.sort_unstable();
        sorted.dedup();
        if sorted.len() != pins.len() {
            return Err(PipelineError::Config(format!(
                "GPIO pins must all differ (--gpio-kill-pin, --gpio-leds): {pins:?}"
            )));
        }
        Ok(())
    }
}

/// Which status LED is lit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Led {
    /// Normal.
    Green,
    /// Pause or reduce.
    Yellow,
    /// Emergency, and any mode this build does not know (fail towards alarm).
    Red,
}

/// The LED for a mode as the status board names it.
pub fn led_for_mode(mode: &str) -> Led {
    match mode {
        "normal" => Led::Green,
        "pause" | "reduce" => Led::Yellow,
        _ => Led::Red,
    }
}

/// Debounces a sampled button: reports a press once the pressed level has held for
/// `hold` samples, and arms again once the released level has held as long.
#[derive(Debug, Clone)]
pub struct Debouncer {
    hold: u32,
    stable: bool,
    candidate: bool,
    run: u32,
}

impl Debouncer {
    /// A debouncer that starts released and needs `hold` equal samples to change.
    pub fn new(hold: u32) -> Self {
        Self {
            hold: hold.max(1),
            stable: false,
            candidate: false,
            run: 0,
        }
    }

    /// Feed one sample; true exactly when it completes a press.
    pub fn sample(&mut self, pressed: bool) -> bool {
        if pressed == self.stable {
            self.run = 0;
            return false;
        }
        if pressed == self.candidate {
            self.run += 1;
        } else {
            self.candidate = pressed;
            self.run = 1;
        }
        if self.run >= self.hold {
            self.stable = pressed;
            self.run = 0;
            return pressed;
        }
        false
    }
}

/// Open the pins and drive them on a thread until `stop`.
#[cfg(feature = "gpio")]
pub(crate) fn spawn(
    config: GpioConfig,
    requests: RequestSender,
    board: StatusBoard,
    stop: Arc<AtomicBool>,
) -> Result<JoinHandle<()>, PipelineError> {
    hardware::spawn(config, requests, board, stop)
}

/// Without the `gpio` feature there is no hardware lever: asking for one is an error.
#[cfg(not(feature = "gpio"))]
pub(crate) fn spawn(
    config: GpioConfig,
    _requests: RequestSender,
    _board: StatusBoard,
    _stop: Arc<AtomicBool>,
) -> Result<JoinHandle<()>, PipelineError> {
    config.validate()?;
    Err(PipelineError::Config(
        "--gpio-kill-pin/--gpio-leds: bot4 was built without the gpio feature \
         (build it with `cargo build --release -p bot4-pipeline --features gpio`)"
            .into(),
    ))
}

#[cfg(feature = "gpio")]
mod hardware {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    use std::thread::JoinHandle;
    use std::time::Instant;

    use bot4_schemas::{ControlCommand, ControlSource};
    use rppal::gpio::{Gpio, InputPin, OutputPin};
    use tracing::{info, warn};

    use super::{led_for_mode, Debouncer, GpioConfig, Led, DEBOUNCE, LED_REFRESH, SAMPLE};
    use crate::control::{ControlRequest, RequestSender, StatusBoard};
    use crate::PipelineError;

    struct Leds {
        green: OutputPin,
        yellow: OutputPin,
        red: OutputPin,
    }

    impl Leds {
        fn show(&mut self, lit: Option<Led>) {
            let set = |pin: &mut OutputPin, on: bool| {
                if on {
                    pin.set_high();
                } else {
                    pin.set_low();
                }
            };
            set(&mut self.green, lit == Some(Led::Green));
            set(&mut self.yellow, lit == Some(Led::Yellow));
            set(&mut self.red, lit == Some(Led::Red));
        }
    }

    fn pin_error(what: &str, pin: u8, e: rppal::gpio::Error) -> PipelineError {
        PipelineError::Config(format!("GPIO {what} pin {pin} (BCM): {e}"))
    }

    pub(super) fn spawn(
        config: GpioConfig,
        requests: RequestSender,
        board: StatusBoard,
        stop: Arc<AtomicBool>,
    ) -> Result<JoinHandle<()>, PipelineError> {
        config.validate()?;
        let gpio = Gpio::new()
            .map_err(|e| PipelineError::Config(format!("GPIO: cannot open the GPIO: {e}")))?;
        let kill: Option<InputPin> = match config.kill_pin {
            Some(pin) => Some(
                gpio.get(pin)
                    .map_err(|e| pin_error("kill switch", pin, e))?
                    .into_input_pullup(),
            ),
            None => None,
        };
        let leds = match config.leds {
            Some(pins) => {
                let output = |what: &str, pin: u8| {
                    gpio.get(pin)
                        .map(|p| p.into_output_low())
                        .map_err(|e| pin_error(what, pin, e))
                };
                Some(Leds {
                    green: output("green LED", pins.green)?,
                    yellow: output("yellow LED", pins.yellow)?,
                    red: output("red LED", pins.red)?,
                })
            }
            None => None,
        };
        info!(kill_pin = ?config.kill_pin, leds = ?config.leds, "GPIO lever ready");
        std::thread::Builder::new()
            .name("bot4-gpio".into())
            .spawn(move || run(kill, leds, &requests, &board, &stop))
            .map_err(|e| PipelineError::Config(format!("cannot start the GPIO thread: {e}")))
    }

    fn run(
        kill: Option<InputPin>,
        mut leds: Option<Leds>,
        requests: &RequestSender,
        board: &StatusBoard,
        stop: &AtomicBool,
    ) {
        let hold = u32::try_from(DEBOUNCE.as_micros() / SAMPLE.as_micros().max(1)).unwrap_or(5);
        let mut debouncer = Debouncer::new(hold);
        let mut next_led = Instant::now();
        while !stop.load(Ordering::SeqCst) {
            if let Some(pin) = &kill {
                if debouncer.sample(pin.is_low()) {
                    let request = ControlRequest {
                        command: ControlCommand::Emergency,
                        source: ControlSource::KillSwitch,
                        reason: format!("kill switch pressed (GPIO {})", pin.pin()),
                        parameter: None,
                        received: Instant::now(),
                    };
                    warn!(
                        pin = pin.pin(),
                        source = ControlSource::KillSwitch.as_str(),
                        "kill switch pressed: emergency"
                    );
                    if requests.send(request).is_err() {
                        warn!("kill switch: the job no longer takes control requests");
                    }
                }
            }
            if let Some(leds) = &mut leds {
                if Instant::now() >= next_led {
                    leds.show(Some(led_for_mode(&board.snapshot().mode)));
                    next_led = Instant::now() + LED_REFRESH;
                }
            }
            std::thread::sleep(SAMPLE);
        }
        if let Some(leds) = &mut leds {
            leds.show(None);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_light_their_led() {
        assert_eq!(led_for_mode("normal"), Led::Green);
        assert_eq!(led_for_mode("pause"), Led::Yellow);
        assert_eq!(led_for_mode("reduce"), Led::Yellow);
        assert_eq!(led_for_mode("emergency"), Led::Red);
        assert_eq!(led_for_mode("something new"), Led::Red);
    }

    #[test]
    fn a_press_counts_once_after_it_holds() {
        let mut d = Debouncer::new(5);
        let feed =
            |d: &mut Debouncer, samples: &[bool]| samples.iter().filter(|&&s| d.sample(s)).count();
        assert_eq!(
            feed(&mut d, &[true, false, true, true, false]),
            0,
            "bounces"
        );
        assert_eq!(feed(&mut d, &[true; 4]), 0, "not yet held");
        assert_eq!(feed(&mut d, &[true]), 1, "held for 5 samples");
        assert_eq!(feed(&mut d, &[true; 50]), 0, "held down: once");
        assert_eq!(
            feed(&mut d, &[false, false, true, true, true, true, true]),
            0,
            "release bounced"
        );
        assert_eq!(feed(&mut d, &[false; 5]), 0, "released");
        assert_eq!(feed(&mut d, &[true; 5]), 1, "second press");
    }

    #[test]
    fn pins_must_differ() {
        let leds = Some(StatusLeds {
            green: 17,
            yellow: 27,
            red: 22,
        });
        assert!(GpioConfig {
            kill_pin: Some(4),
            leds
        }
        .validate()
        .is_ok());
        assert!(GpioConfig {
            kill_pin: Some(17),
            leds
        }
        .validate()
        .is_err());
    }

    #[cfg(not(feature = "gpio"))]
    #[test]
    fn without_the_feature_gpio_is_a_clear_error() {
        let (tx, _rx) = std::sync::mpsc::channel();
        let config = GpioConfig {
            kill_pin: Some(4),
            leds: None,
        };
        let err =
            spawn(config, tx, StatusBoard::new(), Arc::default()).expect_err("no gpio feature");
        assert!(err.to_string().contains("built without the gpio feature"));
    }
}
