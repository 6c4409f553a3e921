//! Column builders and tolerant column readers shared by every record's conversion.

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Decimal128Type, Float32Type, Float64Type, Int32Type, Int64Type, Int8Type,
    TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
    TimestampSecondType, UInt32Type, UInt64Type,
};
use arrow_array::{
    Array, ArrayRef, BooleanArray, Decimal128Array, Float64Array, Int8Array, RecordBatch,
    StringArray, TimestampNanosecondArray, UInt32Array, UInt64Array,
};
use arrow_schema::{DataType, SchemaRef, TimeUnit};
use rust_decimal::Decimal;

use crate::decimal::{bad_decimal, from_scaled_i128, to_scaled_i128};
use crate::{
    decimal_from_f64, SchemaError, SymbolId, SymbolRegistry, ARROW_DECIMAL_PRECISION,
    ARROW_DECIMAL_SCALE,
};

/// Builds the columns of one batch, in schema order.
pub(crate) struct Writer {
    schema: SchemaRef,
    columns: Vec<ArrayRef>,
    /// The first value that could not be converted.
    error: Option<SchemaError>,
}

impl Writer {
    pub(crate) fn new(schema: SchemaRef) -> Self {
        let n = schema.fields().len();
        Self {
            schema,
            columns: Vec::with_capacity(n),
            error: None,
        }
    }

    pub(crate) fn ts(mut self, values: impl Iterator<Item = i64>) -> Self {
        let array = TimestampNanosecondArray::from_iter_values(values).with_timezone("UTC");
        self.columns.push(Arc::new(array));
        self
    }

    pub(crate) fn decimal(mut self, values: impl Iterator<Item = Option<Decimal>>) -> Self {
        let column = self.columns.len();
        let mut bad = None;
        let array: Decimal128Array = values
            .enumerate()
            .map(|(row, v)| {
                let v = v?;
                let scaled = to_scaled_i128(v);
                if scaled.is_none() && bad.is_none() {
                    bad = Some((row, v));
                }
                scaled
            })
            .collect();
        if let (Some((row, v)), None) = (bad, &self.error) {
            self.error = Some(SchemaError::BadValue {
                column: self.schema.field(column).name().clone(),
                row,
                reason: format!("{v} needs more than {ARROW_DECIMAL_PRECISION} digits at scale {ARROW_DECIMAL_SCALE}"),
            });
        }
        let array = array
            .with_precision_and_scale(ARROW_DECIMAL_PRECISION, ARROW_DECIMAL_SCALE)
            .expect("precision 38 and scale 12 are valid");
        self.columns.push(Arc::new(array));
        self
    }

    pub(crate) fn text<'a>(mut self, values: impl Iterator<Item = Option<&'a str>>) -> Self {
        self.columns.push(Arc::new(values.collect::<StringArray>()));
        self
    }

    pub(crate) fn symbol(self, ids: impl Iterator<Item = SymbolId>, reg: &SymbolRegistry) -> Self {
        self.text(ids.map(|id| Some(reg.name(id))))
    }

    pub(crate) fn f64(mut self, values: impl Iterator<Item = f64>) -> Self {
        self.columns
            .push(Arc::new(Float64Array::from_iter_values(values)));
        self
    }

    pub(crate) fn u64(mut self, values: impl Iterator<Item = u64>) -> Self {
        self.columns
            .push(Arc::new(UInt64Array::from_iter_values(values)));
        self
    }

    pub(crate) fn i64(mut self, values: impl Iterator<Item = i64>) -> Self {
        self.columns
            .push(Arc::new(arrow_array::Int64Array::from_iter_values(values)));
        self
    }

    pub(crate) fn u32(mut self, values: impl Iterator<Item = u32>) -> Self {
        self.columns
            .push(Arc::new(UInt32Array::from_iter_values(values)));
        self
    }

    pub(crate) fn i8(mut self, values: impl Iterator<Item = i8>) -> Self {
        self.columns
            .push(Arc::new(Int8Array::from_iter_values(values)));
        self
    }

    pub(crate) fn bool(mut self, values: impl Iterator<Item = bool>) -> Self {
        self.columns
            .push(Arc::new(values.map(Some).collect::<BooleanArray>()));
        self
    }

    pub(crate) fn finish(self) -> Result<RecordBatch, SchemaError> {
        if let Some(e) = self.error {
            return Err(e);
        }
        Ok(RecordBatch::try_new(self.schema, self.columns)?)
    }
}

/// Reads columns of one batch by name, accepting every type that can hold the field.
pub(crate) struct Reader<'a> {
    batch: &'a RecordBatch,
    record: &'static str,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(batch: &'a RecordBatch, record: &'static str) -> Self {
        Self { batch, record }
    }

    pub(crate) fn rows(&self) -> usize {
        self.batch.num_rows()
    }

    pub(crate) fn has(&self, name: &str) -> bool {
        self.batch.column_by_name(name).is_some()
    }

    fn column(&self, name: &str) -> Result<&'a ArrayRef, SchemaError> {
        self.batch
            .column_by_name(name)
            .ok_or_else(|| SchemaError::MissingColumn {
                record: self.record,
                column: name.to_owned(),
            })
    }

    fn type_error(name: &str, found: &DataType, expected: &'static str) -> SchemaError {
        SchemaError::ColumnType {
            column: name.to_owned(),
            found: found.to_string(),
            expected,
        }
    }

    fn null_error(name: &str, row: usize) -> SchemaError {
        SchemaError::BadValue {
            column: name.to_owned(),
            row,
            reason: "null in a required column".into(),
        }
    }

    /// Event times in nanoseconds: any timestamp unit, or integers taken as nanoseconds.
    pub(crate) fn ts(&self, name: &str) -> Result<Vec<i64>, SchemaError> {
        let col = self.column(name)?;
        let (values, factor): (Vec<Option<i64>>, i64) = match col.data_type() {
            DataType::Timestamp(TimeUnit::Nanosecond, _) => (
                col.as_primitive::<TimestampNanosecondType>()
                    .iter()
                    .collect(),
                1,
            ),
            DataType::Timestamp(TimeUnit::Microsecond, _) => (
                col.as_primitive::<TimestampMicrosecondType>()
                    .iter()
                    .collect(),
                1_000,
            ),
            DataType::Timestamp(TimeUnit::Millisecond, _) => (
                col.as_primitive::<TimestampMillisecondType>()
                    .iter()
                    .collect(),
                1_000_000,
            ),
            DataType::Timestamp(TimeUnit::Second, _) => (
                col.as_primitive::<TimestampSecondType>().iter().collect(),
                1_000_000_000,
            ),
            DataType::Int64 => (col.as_primitive::<Int64Type>().iter().collect(), 1),
            DataType::UInt64 => (
                col.as_primitive::<UInt64Type>()
                    .iter()
                    .map(|v| v.and_then(|v| i64::try_from(v).ok()))
                    .collect(),
                1,
            ),
            other => {
                return Err(Self::type_error(
                    name,
                    other,
                    "Timestamp or Int64 nanoseconds",
                ))
            }
        };
        values
            .into_iter()
            .enumerate()
            .map(|(row, v)| {
                let v = v.ok_or_else(|| Self::null_error(name, row))?;
                v.checked_mul(factor).ok_or_else(|| SchemaError::BadValue {
                    column: name.to_owned(),
                    row,
                    reason: "time out of range".into(),
                })
            })
            .collect()
    }

    /// Optional decimals: `Decimal128` of any scale, floats, integers or text.
    pub(crate) fn decimal_opt(&self, name: &str) -> Result<Vec<Option<Decimal>>, SchemaError> {
        let col = self.column(name)?;
        let bad = |row: usize, reason: String| bad_decimal(name, row, reason);
        match col.data_type() {
            DataType::Decimal128(_, scale) => {
                let scale = *scale;
                col.as_primitive::<Decimal128Type>()
                    .iter()
                    .enumerate()
                    .map(|(row, v)| {
                        v.map(|m| from_scaled_i128(m, scale).map_err(|e| bad(row, e)))
                            .transpose()
                    })
                    .collect()
            }
            DataType::Float64 => float_decimals(col.as_primitive::<Float64Type>().iter(), name),
            DataType::Float32 => float_decimals(
                col.as_primitive::<Float32Type>()
                    .iter()
                    .map(|v| v.map(f64::from)),
                name,
            ),
            DataType::Int64 => Ok(col
                .as_primitive::<Int64Type>()
                .iter()
                .map(|v| v.map(Decimal::from))
                .collect()),
            DataType::Int32 => Ok(col
                .as_primitive::<Int32Type>()
                .iter()
                .map(|v| v.map(Decimal::from))
                .collect()),
            DataType::Utf8 => col
                .as_string::<i32>()
                .iter()
                .enumerate()
                .map(|(row, v)| parse_decimal_text(v, row, name))
                .collect(),
            DataType::LargeUtf8 => col
                .as_string::<i64>()
                .iter()
                .enumerate()
                .map(|(row, v)| parse_decimal_text(v, row, name))
                .collect(),
            other => Err(Self::type_error(
                name,
                other,
                "Decimal128, Float64, Int64 or Utf8",
            )),
        }
    }

    /// Required decimals.
    pub(crate) fn decimal(&self, name: &str) -> Result<Vec<Decimal>, SchemaError> {
        self.decimal_opt(name)?
            .into_iter()
            .enumerate()
            .map(|(row, v)| v.ok_or_else(|| Self::null_error(name, row)))
            .collect()
    }

    /// Optional text, from `Utf8`, `LargeUtf8` or a dictionary of either.
    pub(crate) fn text_opt(&self, name: &str) -> Result<Vec<Option<String>>, SchemaError> {
        let col = self.column(name)?;
        let col = match col.data_type() {
            DataType::Dictionary(_, value) if value.as_ref() == &DataType::Utf8 => {
                arrow_cast_dictionary(col)
            }
            _ => Arc::clone(col),
        };
        match col.data_type() {
            DataType::Utf8 => Ok(col
                .as_string::<i32>()
                .iter()
                .map(|v| v.map(str::to_owned))
                .collect()),
            DataType::LargeUtf8 => Ok(col
                .as_string::<i64>()
                .iter()
                .map(|v| v.map(str::to_owned))
                .collect()),
            other => Err(Self::type_error(name, other, "Utf8")),
        }
    }

    /// Required text.
    pub(crate) fn text(&self, name: &str) -> Result<Vec<String>, SchemaError> {
        self.text_opt(name)?
            .into_iter()
            .enumerate()
            .map(|(row, v)| v.ok_or_else(|| Self::null_error(name, row)))
            .collect()
    }

    /// Symbol ids of a text column, through `registry`.
    pub(crate) fn symbols(
        &self,
        name: &str,
        registry: &SymbolRegistry,
    ) -> Result<Vec<SymbolId>, SchemaError> {
        let col = self.column(name)?;
        // Files usually hold long runs of one symbol: remember the last lookup.
        let mut last: Option<(String, SymbolId)> = None;
        let mut lookup = |row: usize, v: Option<&str>| {
            let v = v.ok_or_else(|| Self::null_error(name, row))?;
            if let Some((text, id)) = &last {
                if text == v {
                    return Ok(*id);
                }
            }
            let id = registry.id(v).ok_or_else(|| SchemaError::BadValue {
                column: name.to_owned(),
                row,
                reason: format!("symbol `{v}` is not in the instrument registry"),
            })?;
            last = Some((v.to_owned(), id));
            Ok(id)
        };
        match col.data_type() {
            DataType::Dictionary(_, value) if value.as_ref() == &DataType::Utf8 => {
                let col = arrow_cast_dictionary(col);
                col.as_string::<i32>()
                    .iter()
                    .enumerate()
                    .map(|(row, v)| lookup(row, v))
                    .collect()
            }
            DataType::Utf8 => col
                .as_string::<i32>()
                .iter()
                .enumerate()
                .map(|(row, v)| lookup(row, v))
                .collect(),
            DataType::LargeUtf8 => col
                .as_string::<i64>()
                .iter()
                .enumerate()
                .map(|(row, v)| lookup(row, v))
                .collect(),
            other => Err(Self::type_error(name, other, "Utf8")),
        }
    }

    /// Floats.
    pub(crate) fn f64(&self, name: &str) -> Result<Vec<f64>, SchemaError> {
        let col = self.column(name)?;
        let values: Vec<Option<f64>> = match col.data_type() {
            DataType::Float64 => col.as_primitive::<Float64Type>().iter().collect(),
            DataType::Float32 => col
                .as_primitive::<Float32Type>()
                .iter()
                .map(|v| v.map(f64::from))
                .collect(),
            other => return Err(Self::type_error(name, other, "Float64")),
        };
        values
            .into_iter()
            .enumerate()
            .map(|(row, v)| v.ok_or_else(|| Self::null_error(name, row)))
            .collect()
    }

    /// Unsigned integers.
    pub(crate) fn u64(&self, name: &str) -> Result<Vec<u64>, SchemaError> {
        let col = self.column(name)?;
        let values: Vec<Option<u64>> = match col.data_type() {
            DataType::UInt64 => col.as_primitive::<UInt64Type>().iter().collect(),
            DataType::UInt32 => col
                .as_primitive::<UInt32Type>()
                .iter()
                .map(|v| v.map(u64::from))
                .collect(),
            DataType::Int64 => col
                .as_primitive::<Int64Type>()
                .iter()
                .map(|v| v.and_then(|v| u64::try_from(v).ok()))
                .collect(),
            other => return Err(Self::type_error(name, other, "UInt64")),
        };
        values
            .into_iter()
            .enumerate()
            .map(|(row, v)| v.ok_or_else(|| Self::null_error(name, row)))
            .collect()
    }

    /// Small signed integers.
    pub(crate) fn i8(&self, name: &str) -> Result<Vec<i8>, SchemaError> {
        let col = self.column(name)?;
        match col.data_type() {
            DataType::Int8 => col
                .as_primitive::<Int8Type>()
                .iter()
                .enumerate()
                .map(|(row, v)| v.ok_or_else(|| Self::null_error(name, row)))
                .collect(),
            other => Err(Self::type_error(name, other, "Int8")),
        }
    }

    /// Booleans.
    pub(crate) fn bool(&self, name: &str) -> Result<Vec<bool>, SchemaError> {
        let col = self.column(name)?;
        match col.data_type() {
            DataType::Boolean => col
                .as_boolean()
                .iter()
                .enumerate()
                .map(|(row, v)| v.ok_or_else(|| Self::null_error(name, row)))
                .collect(),
            other => Err(Self::type_error(name, other, "Boolean")),
        }
    }

    /// A required text column parsed by `parse`, naming what was expected on failure.
    pub(crate) fn parsed<T>(
        &self,
        name: &str,
        expected: &str,
        parse: impl Fn(&str) -> Option<T>,
    ) -> Result<Vec<T>, SchemaError> {
        self.text(name)?
            .iter()
            .enumerate()
            .map(|(row, v)| {
                parse(v).ok_or_else(|| SchemaError::BadValue {
                    column: name.to_owned(),
                    row,
                    reason: format!("`{v}` is not {expected}"),
                })
            })
            .collect()
    }
}

fn float_decimals(
    values: impl Iterator<Item = Option<f64>>,
    name: &str,
) -> Result<Vec<Option<Decimal>>, SchemaError> {
    values
        .enumerate()
        .map(|(row, v)| match v {
            None => Ok(None),
            Some(f) if f.is_nan() => Ok(None),
            Some(f) => decimal_from_f64(f)
                .map(Some)
                .ok_or_else(|| bad_decimal(name, row, format!("{f} is not a finite decimal"))),
        })
        .collect()
}

fn parse_decimal_text(
    v: Option<&str>,
    row: usize,
    name: &str,
) -> Result<Option<Decimal>, SchemaError> {
    match v.map(str::trim) {
        None | Some("") => Ok(None),
        Some(t) => t
            .parse::<Decimal>()
            .or_else(|_| Decimal::from_scientific(t))
            .map(Some)
            .map_err(|e| bad_decimal(name, row, format!("`{t}`: {e}"))),
    }
}

/// The values of a string dictionary, expanded to a plain string array.
fn arrow_cast_dictionary(col: &ArrayRef) -> ArrayRef {
    let dict = col.as_any_dictionary();
    let values = dict.values().as_string::<i32>();
    let keys = dict.normalized_keys();
    let expanded: StringArray = keys
        .iter()
        .enumerate()
        .map(|(i, k)| {
            if dict.keys().is_null(i) {
                None
            } else {
                Some(values.value(*k))
            }
        })
        .collect();
    Arc::new(expanded)
}
