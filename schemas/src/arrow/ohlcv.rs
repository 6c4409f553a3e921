//! OHLCV bars as research input: the `ts, open, high, low, close, volume` (and optional
//! `symbol`) columns `bot4 indicators` reads from other tools' files.

use arrow_array::RecordBatch;
use rust_decimal::prelude::ToPrimitive;

use super::Reader;
use crate::SchemaError;

/// The columns of a batch of OHLCV bars, as floats: research statistics, not money.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OhlcvColumns {
    /// Bar times, ns since the Unix epoch.
    pub ts: Vec<i64>,
    /// The symbol of each bar, when the file has a `symbol` column.
    pub symbol: Option<Vec<String>>,
    /// Opening prices.
    pub open: Vec<f64>,
    /// Highest prices.
    pub high: Vec<f64>,
    /// Lowest prices.
    pub low: Vec<f64>,
    /// Closing prices.
    pub close: Vec<f64>,
    /// Traded volumes.
    pub volume: Vec<f64>,
}

impl OhlcvColumns {
    /// The columns of `batch`: times as `Timestamp` of any unit or `Int64` ns, prices and
    /// volumes as decimals, floats, integers or text. A missing column, a null or a
    /// value that is not a finite number is an error naming the column and row.
    pub fn from_batch(batch: &RecordBatch) -> Result<Self, SchemaError> {
        let r = Reader::new(batch, "OHLCV bars");
        let number = |name: &str| -> Result<Vec<f64>, SchemaError> {
            let values = match r.f64(name) {
                Ok(v) => v,
                Err(SchemaError::ColumnType { .. }) => r
                    .decimal(name)?
                    .iter()
                    .map(|d| d.to_f64().unwrap_or(f64::NAN))
                    .collect(),
                Err(e) => return Err(e),
            };
            match values.iter().position(|v| !v.is_finite()) {
                Some(row) => Err(SchemaError::BadValue {
                    column: name.to_owned(),
                    row,
                    reason: format!("{} is not a finite number", values[row]),
                }),
                None => Ok(values),
            }
        };
        Ok(Self {
            ts: r.ts("ts")?,
            symbol: if r.has("symbol") {
                Some(r.text("symbol")?)
            } else {
                None
            },
            open: number("open")?,
            high: number("high")?,
            low: number("low")?,
            close: number("close")?,
            volume: number("volume")?,
        })
    }

    /// Bars held.
    pub fn len(&self) -> usize {
        self.ts.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.ts.is_empty()
    }

    /// Append `other`'s bars.
    pub fn extend(&mut self, other: OhlcvColumns) {
        self.ts.extend(other.ts);
        match (&mut self.symbol, other.symbol) {
            (Some(mine), Some(theirs)) => mine.extend(theirs),
            (mine @ None, Some(theirs)) if self.open.is_empty() => *mine = Some(theirs),
            _ => {}
        }
        self.open.extend(other.open);
        self.high.extend(other.high);
        self.low.extend(other.low);
        self.close.extend(other.close);
        self.volume.extend(other.volume);
    }
}
