//! Exact decimals and their fixed-scale Arrow representation.
//!
//! In memory a [`Decimal`] keeps whatever scale its arithmetic produced. On disk every
//! money or quantity column is `Decimal128(38, 12)`: twelve decimal places cover every
//! tick and lot size of the venues Bot4 targets, and conversion to it rounds half to
//! even only where a value carries more than twelve places (operators round fees and
//! averages to fewer before that).

use rust_decimal::{Decimal, RoundingStrategy};

use crate::SchemaError;

/// Precision of every decimal column in Arrow and Parquet.
pub const ARROW_DECIMAL_PRECISION: u8 = 38;
/// Scale of every decimal column in Arrow and Parquet.
pub const ARROW_DECIMAL_SCALE: i8 = 12;

/// The largest unscaled value a `decimal(38, 12)` holds: 38 nines.
const MAX_SCALED: u128 = 10u128.pow(ARROW_DECIMAL_PRECISION as u32) - 1;

/// The unscaled `i128` of `value` at [`ARROW_DECIMAL_SCALE`], as every stored decimal
/// column holds it (Parquet and the database alike): rounded half to even where `value`
/// carries more places. `None` when the value needs more than
/// [`ARROW_DECIMAL_PRECISION`] digits (26 before the point).
#[inline]
pub fn to_scaled_i128(value: Decimal) -> Option<i128> {
    let scale = value.scale();
    let scaled = if scale <= ARROW_DECIMAL_SCALE as u32 {
        // A 96-bit mantissa times 10^12 may exceed an i128: checked.
        value
            .mantissa()
            .checked_mul(10i128.pow(ARROW_DECIMAL_SCALE as u32 - scale))?
    } else {
        let mut v = value.round_dp_with_strategy(
            ARROW_DECIMAL_SCALE as u32,
            RoundingStrategy::MidpointNearestEven,
        );
        v.rescale(ARROW_DECIMAL_SCALE as u32);
        v.mantissa()
    };
    (scaled.unsigned_abs() <= MAX_SCALED).then_some(scaled)
}

/// The decimal whose unscaled value is `mantissa` at `scale`.
pub(crate) fn from_scaled_i128(mantissa: i128, scale: i8) -> Result<Decimal, String> {
    if scale < 0 {
        let factor = 10i128
            .checked_pow(u32::from(scale.unsigned_abs()))
            .ok_or("negative scale out of range")?;
        let m = mantissa.checked_mul(factor).ok_or("value out of range")?;
        return Decimal::try_from_i128_with_scale(m, 0).map_err(|e| e.to_string());
    }
    let (mut m, mut s) = (mantissa, scale as u32);
    // Drop trailing zeros that push the scale past what `Decimal` can hold.
    while s > 28 && m % 10 == 0 {
        m /= 10;
        s -= 1;
    }
    Decimal::try_from_i128_with_scale(m, s).map_err(|e| e.to_string())
}

/// The decimal with the shortest representation that round-trips to `value`.
///
/// This is how prices stored as binary floats (by tools that have no decimal type)
/// become exact: `0.1_f64` becomes `0.1`, not `0.1000000000000000055…`.
///
/// # Examples
/// ```
/// use bot4_schemas::{decimal_from_f64, Decimal};
/// assert_eq!(decimal_from_f64(0.1), Some(Decimal::new(1, 1)));
/// assert_eq!(decimal_from_f64(f64::NAN), None);
/// ```
pub fn decimal_from_f64(value: f64) -> Option<Decimal> {
    if !value.is_finite() {
        return None;
    }
    let text = format!("{value}");
    text.parse::<Decimal>()
        .ok()
        .or_else(|| Decimal::from_scientific(&format!("{value:e}")).ok())
}

/// The error for a decimal that could not be read, naming its column and row.
pub(crate) fn bad_decimal(column: &str, row: usize, reason: String) -> SchemaError {
    SchemaError::BadValue {
        column: column.to_owned(),
        row,
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn scaled_round_trip_is_exact_up_to_twelve_places(m in -10i64.pow(15)..10i64.pow(15), s in 0u32..=12) {
            let d = Decimal::new(m, s);
            let back = from_scaled_i128(to_scaled_i128(d).unwrap(), ARROW_DECIMAL_SCALE).unwrap();
            prop_assert_eq!(back, d);
        }
    }

    #[test]
    fn rounds_half_to_even_past_twelve_places() {
        let d = Decimal::new(5, 13); // 0.0000000000005
        assert_eq!(to_scaled_i128(d), Some(0));
        let d = Decimal::new(15, 13);
        assert_eq!(to_scaled_i128(d), Some(2));
    }

    #[test]
    fn refuses_more_than_twenty_six_digits_before_the_point() {
        let most = Decimal::from_i128_with_scale(10i128.pow(26) - 1, 0);
        assert_eq!(
            to_scaled_i128(most),
            Some((10i128.pow(26) - 1) * 10i128.pow(12))
        );
        assert_eq!(to_scaled_i128(most + Decimal::ONE), None);
        assert_eq!(to_scaled_i128(-(most + Decimal::ONE)), None);
        assert_eq!(to_scaled_i128(Decimal::MAX), None);
    }
}
