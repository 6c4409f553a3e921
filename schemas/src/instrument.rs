//! Instruments and the registry that maps symbols to their trading rules.

use std::collections::BTreeMap;

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

use crate::SchemaError;

/// The dense id of a symbol within one [`SymbolRegistry`]; records carry this rather
/// than the name, and the dataflow partitions work by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct SymbolId(pub u32);

/// One tradable instrument and the exchange filters every order on it must pass.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Instrument {
    /// The venue's name for it, e.g. `BTC-USDT`.
    pub symbol: String,
    /// Prices are whole multiples of this.
    pub tick_size: Decimal,
    /// Quantities are whole multiples of this.
    pub lot_size: Decimal,
    /// No order may be worth less than this, in quote currency.
    pub min_notional: Decimal,
}

impl Instrument {
    /// `price` rounded down (`up = false`) or up to the tick grid.
    ///
    /// # Examples
    /// ```
    /// use bot4_schemas::{Decimal, Instrument};
    /// let i = Instrument { symbol: "X".into(), tick_size: Decimal::new(5, 1), lot_size: Decimal::ONE, min_notional: Decimal::ONE };
    /// assert_eq!(i.round_price(Decimal::new(1012, 2), false), Decimal::new(100, 1));
    /// assert_eq!(i.round_price(Decimal::new(1012, 2), true), Decimal::new(105, 1));
    /// ```
    pub fn round_price(&self, price: Decimal, up: bool) -> Decimal {
        round_to_grid(price, self.tick_size, up)
    }

    /// `qty` rounded down to the lot grid (towards zero).
    pub fn floor_qty(&self, qty: Decimal) -> Decimal {
        let lots = (qty / self.lot_size).round_dp_with_strategy(0, RoundingStrategy::ToZero);
        (lots * self.lot_size).normalize()
    }

    /// Whether `price` lies on the tick grid.
    pub fn on_tick(&self, price: Decimal) -> bool {
        (price % self.tick_size).is_zero()
    }

    /// Whether `qty` lies on the lot grid.
    pub fn on_lot(&self, qty: Decimal) -> bool {
        (qty % self.lot_size).is_zero()
    }
}

fn round_to_grid(value: Decimal, step: Decimal, up: bool) -> Decimal {
    let strategy = if up {
        RoundingStrategy::ToPositiveInfinity
    } else {
        RoundingStrategy::ToNegativeInfinity
    };
    let steps = (value / step).round_dp_with_strategy(0, strategy);
    (steps * step).normalize()
}

/// The instruments of one run, each with a dense [`SymbolId`] given in symbol order, so
/// that the same set of instruments always gets the same ids.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SymbolRegistry {
    instruments: Vec<Instrument>,
    by_name: BTreeMap<String, SymbolId>,
}

impl SymbolRegistry {
    /// A registry of `instruments`, sorted by symbol. Duplicate symbols and non-positive
    /// tick or lot sizes are errors.
    pub fn new(mut instruments: Vec<Instrument>) -> Result<Self, SchemaError> {
        instruments.sort_by(|a, b| a.symbol.cmp(&b.symbol));
        let mut by_name = BTreeMap::new();
        for (i, inst) in instruments.iter().enumerate() {
            if inst.symbol.is_empty() {
                return Err(SchemaError::Registry("empty symbol".into()));
            }
            if inst.tick_size <= Decimal::ZERO || inst.lot_size <= Decimal::ZERO {
                return Err(SchemaError::Registry(format!(
                    "{}: tick_size and lot_size must be positive",
                    inst.symbol
                )));
            }
            if inst.min_notional < Decimal::ZERO {
                return Err(SchemaError::Registry(format!(
                    "{}: min_notional must not be negative",
                    inst.symbol
                )));
            }
            let id = SymbolId(
                u32::try_from(i)
                    .map_err(|_| SchemaError::Registry("more than 2^32 instruments".into()))?,
            );
            if by_name.insert(inst.symbol.clone(), id).is_some() {
                return Err(SchemaError::Registry(format!(
                    "symbol {} listed twice",
                    inst.symbol
                )));
            }
        }
        Ok(Self {
            instruments,
            by_name,
        })
    }

    /// Parse the CSV form written by [`SymbolRegistry::to_csv`]: a header
    /// `symbol,tick_size,lot_size,min_notional` and one line per instrument.
    ///
    /// # Examples
    /// ```
    /// use bot4_schemas::SymbolRegistry;
    /// let r = SymbolRegistry::from_csv("symbol,tick_size,lot_size,min_notional\nBTC-USDT,0.1,0.0001,5\n").unwrap();
    /// assert_eq!(r.len(), 1);
    /// assert_eq!(r.id("BTC-USDT").map(|id| id.0), Some(0));
    /// ```
    pub fn from_csv(text: &str) -> Result<Self, SchemaError> {
        let mut lines = text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty());
        let header = lines
            .next()
            .map(|(_, l)| l.trim().to_owned())
            .ok_or_else(|| SchemaError::Registry("empty instruments file".into()))?;
        let columns: Vec<&str> = header.split(',').map(str::trim).collect();
        if columns != ["symbol", "tick_size", "lot_size", "min_notional"] {
            return Err(SchemaError::Registry(format!(
                "header must be `symbol,tick_size,lot_size,min_notional`, found `{header}`"
            )));
        }
        let mut instruments = Vec::new();
        for (n, line) in lines {
            let fields: Vec<&str> = line.split(',').map(str::trim).collect();
            if fields.len() != 4 {
                return Err(SchemaError::Registry(format!(
                    "line {}: expected 4 fields, found {}",
                    n + 1,
                    fields.len()
                )));
            }
            let number = |i: usize| {
                fields[i].parse::<Decimal>().map_err(|e| {
                    SchemaError::Registry(format!("line {}: `{}`: {e}", n + 1, fields[i]))
                })
            };
            instruments.push(Instrument {
                symbol: fields[0].to_owned(),
                tick_size: number(1)?,
                lot_size: number(2)?,
                min_notional: number(3)?,
            });
        }
        Self::new(instruments)
    }

    /// The CSV form read by [`SymbolRegistry::from_csv`].
    pub fn to_csv(&self) -> String {
        let mut out = String::from("symbol,tick_size,lot_size,min_notional\n");
        for i in &self.instruments {
            out.push_str(&format!(
                "{},{},{},{}\n",
                i.symbol, i.tick_size, i.lot_size, i.min_notional
            ));
        }
        out
    }

    /// The id of `symbol`, if registered.
    #[inline]
    pub fn id(&self, symbol: &str) -> Option<SymbolId> {
        self.by_name.get(symbol).copied()
    }

    /// The instrument with id `id`.
    ///
    /// # Panics
    /// If `id` did not come from this registry.
    #[inline]
    pub fn get(&self, id: SymbolId) -> &Instrument {
        &self.instruments[id.0 as usize]
    }

    /// The symbol name of `id`.
    pub fn name(&self, id: SymbolId) -> &str {
        &self.get(id).symbol
    }

    /// How many instruments there are.
    pub fn len(&self) -> usize {
        self.instruments.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.instruments.is_empty()
    }

    /// All instruments with their ids, in id order.
    pub fn iter(&self) -> impl Iterator<Item = (SymbolId, &Instrument)> {
        self.instruments
            .iter()
            .enumerate()
            .map(|(i, inst)| (SymbolId(i as u32), inst))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_round_trip_and_sorted_ids() {
        let text = "symbol,tick_size,lot_size,min_notional\nETH-USDT,0.01,0.001,5\nBTC-USDT,0.1,0.0001,5\n";
        let r = SymbolRegistry::from_csv(text).unwrap();
        assert_eq!(r.id("BTC-USDT"), Some(SymbolId(0)));
        assert_eq!(r.id("ETH-USDT"), Some(SymbolId(1)));
        assert_eq!(SymbolRegistry::from_csv(&r.to_csv()).unwrap(), r);
    }

    #[test]
    fn rejects_bad_registries() {
        assert!(SymbolRegistry::from_csv("").is_err());
        assert!(SymbolRegistry::from_csv("a,b\n").is_err());
        assert!(
            SymbolRegistry::from_csv("symbol,tick_size,lot_size,min_notional\nX,0,1,1\n").is_err()
        );
        assert!(SymbolRegistry::from_csv(
            "symbol,tick_size,lot_size,min_notional\nX,1,1,1\nX,1,1,1\n"
        )
        .is_err());
        assert!(
            SymbolRegistry::from_csv("symbol,tick_size,lot_size,min_notional\nX,abc,1,1\n")
                .is_err()
        );
    }

    #[test]
    fn grid_rounding() {
        let i = Instrument {
            symbol: "X".into(),
            tick_size: Decimal::new(1, 2),
            lot_size: Decimal::new(1, 3),
            min_notional: Decimal::ONE,
        };
        assert_eq!(i.floor_qty(Decimal::new(12345, 4)), Decimal::new(1234, 3));
        assert_eq!(i.floor_qty(Decimal::new(-12345, 4)), Decimal::new(-1234, 3));
        assert!(i.on_tick(Decimal::new(101, 2)));
        assert!(!i.on_tick(Decimal::new(1015, 3)));
        assert!(i.on_lot(Decimal::new(2, 3)));
    }
}
