//! The per-tick chain of the graph allocates nothing once made: a tick through the
//! feature stage, the model stage ([`Forecaster`]: GARCH refits spread over ticks, AR
//! refits and re-summations, the logistic model, the ensemble) and the signal stage
//! ([`BarSignal`]: the combiner and its PCA re-decompositions) touches the heap zero
//! times, for the chain and for each stage alone. The counting allocator of
//! `allocation-counter` is this test binary's global allocator.

use bot4_operators::features::{FeatureConfig, Features};
use bot4_operators::models::forecaster::{Forecaster, ForecasterConfig};
use bot4_operators::models::garch::OnlineGarch;
use bot4_operators::signals::bar_signal::{BarSignal, BarSignalConfig};
use bot4_schemas::{
    Decimal, FeatureVector, Forecast, Nanos, Side, SymbolId, Tick, TickKind, NANOS_PER_SECOND,
};

/// Bars before the measurement: past the first GARCH fit (~240 bars) and the AR's full
/// window (500 bars), so steady state is measured.
const WARM_UP_BARS: usize = 600;
/// Bars measured: ~63 000 ticks, spanning GARCH refits (one every ~90 bars), AR refits
/// (every 20) and a re-summation (every 500), and PCA re-decompositions (every 60).
const MEASURED_BARS: usize = 700;

/// xorshift64* with Box–Muller.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    fn gaussian(&mut self) -> f64 {
        let (u1, u2) = (self.uniform(), self.uniform());
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }
}

fn price(p: f64) -> Decimal {
    Decimal::new((p * 1e4).round() as i64, 4)
}

/// One symbol on 60-second bars whose returns are AR(1) (φ 0.3) with GARCH(1,1) errors
/// (α 0.1, β 0.85, long-run volatility 0.1 % a bar): a quote a second carrying one of
/// the bar's 60 Gaussian log increments, spread 1 bp, and a trade at the bid or ask after
/// a quote with probability ½ and after every bar's last quote.
fn ticks(seed: u64, bars: usize) -> Vec<Tick> {
    let (omega, alpha, beta, phi) = (5e-8, 0.1, 0.85, 0.3);
    let mut rng = Rng(seed | 1);
    let mut out = Vec::with_capacity(bars * 95);
    let (mut log_mid, mut h, mut prev) = (100f64.ln(), 1e-6f64, 0.0);
    for k in 0..bars {
        let (mean, start) = (phi * prev, log_mid);
        for j in 0..60 {
            log_mid += mean / 60.0 + (h / 60.0).sqrt() * rng.gaussian();
            let mid = log_mid.exp();
            let (bid, ask) = (price(mid * (1.0 - 5e-5)), price(mid * (1.0 + 5e-5)));
            let ts = (60 * k + j) as Nanos * NANOS_PER_SECOND;
            let quote = TickKind::Quote {
                bid,
                bid_size: Decimal::from(1 + rng.next_u64() % 9),
                ask,
                ask_size: Decimal::from(1 + rng.next_u64() % 9),
            };
            out.push((ts, quote));
            if j == 59 || rng.uniform() < 0.5 {
                let buy = rng.uniform() < 0.5;
                let trade = TickKind::Trade {
                    price: if buy { ask } else { bid },
                    size: Decimal::from(1 + rng.next_u64() % 5),
                    aggressor: if buy { Side::Buy } else { Side::Sell },
                };
                out.push((ts + 900_000_000, trade));
            }
        }
        let r = log_mid - start;
        let e = r - mean;
        h = omega + alpha * e * e + beta * h;
        prev = r;
    }
    out.into_iter()
        .enumerate()
        .map(|(i, (ts, kind))| Tick {
            ts,
            seq: i as u64,
            symbol: SymbolId(0),
            kind,
        })
        .collect()
}

/// The stages, warmed up on the first `warm_up` ticks.
fn stages(warm_up: &[Tick]) -> (Features, Forecaster, BarSignal) {
    let mut features = Features::new(SymbolId(0), FeatureConfig::default());
    let mut forecaster =
        Forecaster::new(ForecasterConfig::default()).expect("the default config is valid");
    let mut signal =
        BarSignal::new(BarSignalConfig::default()).expect("the default config is valid");
    for tick in warm_up {
        signal.update(&forecaster.update(&features.update(tick)));
    }
    assert!(forecaster.is_fitted());
    (features, forecaster, signal)
}

/// The ticks, split at the end of the warm-up.
fn split(ticks: &[Tick]) -> (&[Tick], &[Tick]) {
    let warm = ticks
        .iter()
        .position(|t| t.ts >= (60 * WARM_UP_BARS) as Nanos * NANOS_PER_SECOND)
        .expect("ticks past the warm-up");
    ticks.split_at(warm)
}

#[test]
fn the_chain_allocates_nothing_per_tick() {
    let all = ticks(1, WARM_UP_BARS + MEASURED_BARS);
    let (warm_up, measured) = split(&all);
    assert!(measured.len() >= 50_000, "{} ticks", measured.len());
    let (mut features, mut forecaster, mut signal) = stages(warm_up);
    let mut signals = 0usize;
    let info = allocation_counter::measure(|| {
        for tick in measured {
            let forecast = forecaster.update(&features.update(tick));
            signals += usize::from(signal.update(&forecast).is_some());
        }
    });
    assert_eq!(info.count_total, 0, "{info:?}");
    assert!(signals > 0, "the signal path ran");
}

/// Each stage alone, on the inputs the stage before it made, so an allocation is
/// attributed to its stage.
#[test]
fn each_stage_allocates_nothing_per_tick() {
    let all = ticks(2, WARM_UP_BARS + MEASURED_BARS);
    let (warm_up, measured) = split(&all);
    let (mut features, mut forecaster, mut signal) = stages(warm_up);

    let mut vectors: Vec<FeatureVector> = Vec::with_capacity(measured.len());
    let info = allocation_counter::measure(|| {
        for tick in measured {
            // Within capacity: the push does not allocate.
            vectors.push(features.update(tick));
        }
    });
    assert_eq!(info.count_total, 0, "features: {info:?}");

    let mut forecasts: Vec<Forecast> = Vec::with_capacity(vectors.len());
    let info = allocation_counter::measure(|| {
        for v in &vectors {
            forecasts.push(forecaster.update(v));
        }
    });
    assert_eq!(info.count_total, 0, "forecaster: {info:?}");

    let info = allocation_counter::measure(|| {
        for f in &forecasts {
            std::hint::black_box(signal.update(f));
        }
    });
    assert_eq!(info.count_total, 0, "bar signal: {info:?}");

    // The measured span held GARCH refits: replay the bar returns through a GARCH run
    // as the forecaster runs it (per tick `advance`, per bar `observe` of 100 r).
    let config = ForecasterConfig::default();
    let mut garch = OnlineGarch::new(config.garch).unwrap();
    let mut replay = Features::new(SymbolId(0), FeatureConfig::default());
    let (mut params, mut refits) = (None, 0);
    for (i, tick) in all.iter().enumerate() {
        garch.advance(config.refit_work_per_tick);
        let v = replay.update(tick);
        if let Some(bar) = v.bar.filter(|b| b.count > 1) {
            garch.observe(100.0 * bar.log_return);
        }
        if garch.params() != params {
            params = garch.params();
            refits += usize::from(i >= warm_up.len());
        }
    }
    // Student-t refits (the default) take two to three times a normal one's work, so
    // fewer of them complete within the measured ticks; each still runs entirely there.
    assert!(refits >= 3, "{refits} GARCH refits while measured");
}

#[test]
fn the_counter_sees_allocations() {
    let info = allocation_counter::measure(|| {
        std::hint::black_box(vec![1u8; 64]);
    });
    assert!(info.count_total >= 1, "{info:?}");
}
