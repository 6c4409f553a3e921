//! The symbols of a synthetic market: names, starting prices, betas, idiosyncratic
//! volatilities, liquidity, and the exchange filters derived from the price.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rust_decimal::Decimal;

use bot4_schemas::Instrument;

/// Quote currency of every synthetic symbol.
const QUOTE: &str = "USDT";

/// Well-known bases with a plausible price, beta to the market factor and annualised
/// idiosyncratic volatility, in rough order of liquidity. Prices avoid exact powers of
/// ten so that the tick and lot exponents never sit on a floating-point boundary.
const KNOWN: [(&str, f64, f64, f64); 30] = [
    ("BTC", 60_000.0, 1.0, 0.15),
    ("ETH", 3_000.0, 1.1, 0.30),
    ("SOL", 150.0, 1.2, 0.50),
    ("BNB", 580.0, 0.8, 0.30),
    ("XRP", 0.55, 1.0, 0.50),
    ("DOGE", 0.15, 1.2, 0.65),
    ("ADA", 0.45, 1.1, 0.50),
    ("AVAX", 35.0, 1.2, 0.55),
    ("TRX", 0.12, 0.6, 0.35),
    ("DOT", 7.0, 1.1, 0.50),
    ("LINK", 15.0, 1.1, 0.50),
    ("TON", 6.0, 0.7, 0.55),
    ("POL", 0.5, 1.1, 0.55),
    ("SHIB", 0.000_023, 1.1, 0.60),
    ("LTC", 80.0, 0.9, 0.40),
    ("BCH", 400.0, 0.9, 0.45),
    ("NEAR", 5.0, 1.2, 0.60),
    ("UNI", 8.0, 1.1, 0.55),
    ("ATOM", 8.0, 1.0, 0.50),
    ("XLM", 0.11, 0.9, 0.45),
    ("ETC", 25.0, 1.0, 0.45),
    ("APT", 9.0, 1.2, 0.60),
    ("FIL", 5.0, 1.1, 0.55),
    ("ARB", 0.95, 1.2, 0.60),
    ("OP", 2.0, 1.2, 0.60),
    ("INJ", 25.0, 1.2, 0.65),
    ("SUI", 1.1, 1.2, 0.70),
    ("PEPE", 0.000_012, 1.2, 0.80),
    ("AAVE", 120.0, 1.1, 0.55),
    ("HBAR", 0.08, 1.0, 0.55),
];

/// The most symbols a market may have: synthetic names have three digits.
pub(super) const MAX_SYMBOLS: usize = 999;

/// Every order must be worth at least this much quote currency.
pub(super) const MIN_NOTIONAL: f64 = 5.0;

/// A power of ten `mantissa · 10^-scale`, kept as integers so that `n` grid steps become
/// a [`Decimal`] without multiplication: `Decimal::new(n · mantissa, scale)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Grid {
    pub mantissa: i64,
    pub scale: u32,
}

impl Grid {
    /// The largest scale a grid may have: the Arrow columns keep twelve places.
    const MAX_SCALE: i32 = 12;

    /// `10^exponent`, with the exponent clamped to what the Arrow columns can hold.
    fn power_of_ten(exponent: i32) -> Self {
        let exponent = exponent.clamp(-Self::MAX_SCALE, 15);
        if exponent >= 0 {
            Self {
                mantissa: 10_i64.pow(exponent.unsigned_abs()),
                scale: 0,
            }
        } else {
            Self {
                mantissa: 1,
                scale: exponent.unsigned_abs(),
            }
        }
    }

    /// The step as a decimal.
    pub fn step(self) -> Decimal {
        Decimal::new(self.mantissa, self.scale)
    }

    /// The step as a float, for the latent model.
    pub fn step_f64(self) -> f64 {
        self.mantissa as f64 / 10_f64.powi(self.scale as i32)
    }

    /// `n` steps as a decimal. Exact: `n · mantissa` stays far inside `i64` for any
    /// price or size the model can reach.
    #[inline]
    pub fn times(self, n: i64) -> Decimal {
        Decimal::new(n * self.mantissa, self.scale)
    }
}

/// Everything the generator needs to know about one symbol before it starts.
#[derive(Debug, Clone)]
pub(super) struct SymbolSpec {
    /// Venue name, `BASE-USDT`.
    pub name: String,
    /// Starting mid price.
    pub price: f64,
    /// Loading on the common market factor.
    pub beta: f64,
    /// Annualised volatility of the continuous idiosyncratic part.
    pub idio_vol: f64,
    /// Half-spread as a fraction of the price at average volatility.
    pub half_spread: f64,
    /// Median quote-currency value shown at each side of the book.
    pub depth: f64,
    /// Price grid.
    pub tick: Grid,
    /// Quantity grid.
    pub lot: Grid,
}

impl SymbolSpec {
    /// The spec of the symbol at position `index` of the universe. Known bases come from
    /// the table; later ones are `SYNnnn-USDT` with parameters drawn from `rng`.
    pub fn at(index: usize, rng: &mut ChaCha8Rng) -> Self {
        let (name, price, beta, idio_vol) = match KNOWN.get(index) {
            Some(&(base, price, beta, idio_vol)) => {
                (format!("{base}-{QUOTE}"), price, beta, idio_vol)
            }
            None => (
                format!("SYN{:03}-{QUOTE}", index + 1),
                10_f64.powf(rng.random_range(-2.0..2.7)),
                rng.random_range(0.6..1.2),
                rng.random_range(0.35..0.70),
            ),
        };
        let rank = index as f64;
        let magnitude = price.log10();
        Self {
            name,
            price,
            beta,
            idio_vol,
            half_spread: (0.3 + 0.08 * rank).min(5.0) * 1e-4,
            depth: (250_000.0 / (1.0 + rank)).max(5_000.0),
            // About 1e-5 of the price, rounded down to a power of ten.
            tick: Grid::power_of_ten(magnitude.floor() as i32 - 5),
            // The smallest power of ten worth at least one unit of quote currency.
            lot: Grid::power_of_ten((-magnitude).ceil() as i32),
        }
    }

    /// The exchange filters of this symbol.
    pub fn instrument(&self) -> Instrument {
        Instrument {
            symbol: self.name.clone(),
            tick_size: self.tick.step(),
            lot_size: self.lot.step(),
            min_notional: Decimal::from(MIN_NOTIONAL as i64),
        }
    }
}
