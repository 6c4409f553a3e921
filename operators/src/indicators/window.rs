//! Fixed-size windows over the last `n` inputs: a ring, its running sum, and its running
//! maximum or minimum. Each is allocated once, when it is made.

/// The last `capacity` values pushed, oldest first.
#[derive(Debug, Clone)]
pub struct Ring {
    values: Box<[f64]>,
    /// Where the next value goes.
    next: usize,
    len: usize,
}

impl Ring {
    /// An empty ring holding at most `capacity` values (at least one).
    pub fn new(capacity: usize) -> Self {
        Self {
            values: vec![0.0; capacity.max(1)].into_boxed_slice(),
            next: 0,
            len: 0,
        }
    }

    /// Push `x`; the value it pushed out, if the ring was full.
    pub fn push(&mut self, x: f64) -> Option<f64> {
        let out = (self.len == self.values.len()).then(|| self.values[self.next]);
        self.values[self.next] = x;
        self.next = (self.next + 1) % self.values.len();
        self.len = (self.len + 1).min(self.values.len());
        out
    }

    /// Values held.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether it holds nothing.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether it holds `capacity` values.
    pub fn is_full(&self) -> bool {
        self.len == self.values.len()
    }

    /// Its capacity.
    pub fn capacity(&self) -> usize {
        self.values.len()
    }

    /// The `i`-th value, oldest first.
    pub fn get(&self, i: usize) -> Option<f64> {
        (i < self.len).then(|| {
            let start = (self.next + self.values.len() - self.len) % self.values.len();
            self.values[(start + i) % self.values.len()]
        })
    }

    /// The values, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = f64> + '_ {
        let (older, newer) = self.slices();
        older.iter().chain(newer).copied()
    }

    /// The values as two contiguous runs, oldest first: the ring's tail, then its head.
    pub fn slices(&self) -> (&[f64], &[f64]) {
        let cap = self.values.len();
        let start = (self.next + cap - self.len) % cap;
        if start + self.len <= cap {
            (&self.values[start..start + self.len], &[])
        } else {
            (&self.values[start..], &self.values[..self.next])
        }
    }

    /// The newest value.
    pub fn last(&self) -> Option<f64> {
        self.len.checked_sub(1).and_then(|i| self.get(i))
    }
}

/// The sum, mean and variance of the last `n` values.
///
/// Adding the new value and subtracting the old one lets rounding errors pile up over
/// millions of updates, so every `n` updates the sums are taken afresh from the window:
/// O(1) amortised, and never further from the exact sum than `n` updates' rounding. The
/// sums are of deviations from a shift (the mean at the last re-sum), so the variance of
/// prices far from zero loses no precision to cancellation. The shift can be up to `n`
/// updates old, so after a jump the variance carries an absolute error of about `n·ε`
/// times the square of the range of the last `2n` values (ε the f64 epsilon);
/// [`RollingMoments`] gives an exact 0 for a window of equal values.
#[derive(Debug, Clone)]
pub struct RollingSum {
    ring: Ring,
    shift: f64,
    /// Σ (x − shift) and Σ (x − shift)² over the window.
    dev: f64,
    dev_sq: f64,
    since_resum: usize,
}

impl RollingSum {
    /// An empty window of `n` values (at least one).
    pub fn new(n: usize) -> Self {
        Self {
            ring: Ring::new(n),
            shift: 0.0,
            dev: 0.0,
            dev_sq: 0.0,
            since_resum: 0,
        }
    }

    /// Push `x`; the value it pushed out, if the window was full.
    pub fn push(&mut self, x: f64) -> Option<f64> {
        if self.ring.is_empty() {
            self.shift = x;
        }
        let out = self.ring.push(x);
        self.since_resum += 1;
        if self.since_resum >= self.ring.capacity() {
            self.since_resum = 0;
            let n = self.ring.len() as f64;
            self.shift = self.ring.iter().sum::<f64>() / n;
            let shift = self.shift;
            self.dev = self.ring.iter().map(|v| v - shift).sum();
            self.dev_sq = self.ring.iter().map(|v| (v - shift) * (v - shift)).sum();
        } else {
            let d = x - self.shift;
            self.dev += d;
            self.dev_sq += d * d;
            if let Some(old) = out {
                let d = old - self.shift;
                self.dev -= d;
                self.dev_sq -= d * d;
            }
        }
        out
    }

    /// The sum of the values held.
    pub fn sum(&self) -> f64 {
        self.dev + self.shift * self.ring.len() as f64
    }

    /// Their mean (NaN when empty).
    pub fn mean(&self) -> f64 {
        self.shift + self.dev / self.ring.len() as f64
    }

    /// Their population variance, never negative (NaN when empty).
    pub fn variance(&self) -> f64 {
        let n = self.ring.len() as f64;
        let m = self.dev / n;
        (self.dev_sq / n - m * m).max(0.0)
    }

    /// Whether the window holds `n` values.
    pub fn is_full(&self) -> bool {
        self.ring.is_full()
    }

    /// The window itself.
    pub fn ring(&self) -> &Ring {
        &self.ring
    }
}

/// The mean and population standard deviation of the last `n` values, with a window of
/// equal values detected exactly (by its running maximum and minimum) so that its
/// deviation is exactly 0 rather than the rounding left over from earlier values.
#[derive(Debug, Clone)]
pub struct RollingMoments {
    sum: RollingSum,
    max: RollingExtreme,
    min: RollingExtreme,
    flat: bool,
}

impl RollingMoments {
    /// An empty window of `n` values (at least one).
    pub fn new(n: usize) -> Self {
        Self {
            sum: RollingSum::new(n),
            max: RollingExtreme::max(n),
            min: RollingExtreme::min(n),
            flat: true,
        }
    }

    /// Push `x`.
    pub fn push(&mut self, x: f64) {
        self.sum.push(x);
        self.flat = self.max.push(x) == self.min.push(x);
    }

    /// Whether the window holds `n` values.
    pub fn is_full(&self) -> bool {
        self.sum.is_full()
    }

    /// The mean of the values held (NaN when empty).
    pub fn mean(&self) -> f64 {
        self.sum.mean()
    }

    /// Their population standard deviation: exactly 0 when they are all equal, never
    /// negative or NaN otherwise (a variance lost to rounding is 0).
    pub fn std_dev(&self) -> f64 {
        if self.flat {
            return 0.0;
        }
        let sd = self.sum.variance().sqrt();
        if sd.is_nan() {
            0.0
        } else {
            sd
        }
    }
}

/// The maximum (or minimum) of the last `n` values, by a monotonic queue: O(1)
/// amortised per push.
#[derive(Debug, Clone)]
pub struct RollingExtreme {
    /// `(index, value)` candidates, in a ring of `n` slots: values decreasing (for a
    /// maximum) from the front.
    slots: Box<[(u64, f64)]>,
    head: usize,
    len: usize,
    /// Inputs pushed so far.
    count: u64,
    n: u64,
    max: bool,
}

impl RollingExtreme {
    /// The running maximum of `n` values (at least one).
    pub fn max(n: usize) -> Self {
        Self::new(n, true)
    }

    /// The running minimum of `n` values (at least one).
    pub fn min(n: usize) -> Self {
        Self::new(n, false)
    }

    fn new(n: usize, max: bool) -> Self {
        let n = n.max(1);
        Self {
            slots: vec![(0, 0.0); n].into_boxed_slice(),
            head: 0,
            len: 0,
            count: 0,
            n: n as u64,
            max,
        }
    }

    fn slot(&self, i: usize) -> usize {
        (self.head + i) % self.slots.len()
    }

    /// Push `x`; the extreme of the window now.
    pub fn push(&mut self, x: f64) -> f64 {
        // `x` gets index `count`; the window will be the `n` indices ending there, so a
        // front of index `count − n` or less leaves it. Dropping it first keeps at most
        // `n − 1` candidates before the push.
        while self.len > 0 && self.slots[self.head].0 + self.n <= self.count {
            self.head = (self.head + 1) % self.slots.len();
            self.len -= 1;
        }
        // Drop candidates the new value dominates (ties: the newer one lives longer).
        while self.len > 0 {
            let (_, back) = self.slots[self.slot(self.len - 1)];
            let dominated = if self.max { back <= x } else { back >= x };
            if !dominated {
                break;
            }
            self.len -= 1;
        }
        let at = self.slot(self.len);
        self.slots[at] = (self.count, x);
        self.len += 1;
        self.count += 1;
        self.slots[self.head].1
    }

    /// The extreme of the window, if anything was pushed.
    pub fn value(&self) -> Option<f64> {
        (self.len > 0).then(|| self.slots[self.head].1)
    }

    /// How many inputs ago the extreme was pushed (0: the newest).
    pub fn age(&self) -> Option<u64> {
        (self.len > 0).then(|| self.count - 1 - self.slots[self.head].0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn windows_agree_with_a_scan(
            n in 1usize..20,
            xs in prop::collection::vec(prop_oneof![3 => -1e6f64..1e6, 1 => Just(7.5)], 1..300),
        ) {
            let mut sum = RollingSum::new(n);
            let mut hi = RollingExtreme::max(n);
            let mut lo = RollingExtreme::min(n);
            let mut moments = RollingMoments::new(n);
            for (i, &x) in xs.iter().enumerate() {
                sum.push(x);
                moments.push(x);
                let top = hi.push(x);
                let bottom = lo.push(x);
                let window = &xs[(i + 1).saturating_sub(n)..=i];
                let naive: f64 = window.iter().sum();
                prop_assert!((sum.sum() - naive).abs() <= 1e-6 * (1.0 + naive.abs()));
                let mean = naive / window.len() as f64;
                let var = window.iter().map(|v| (v - mean).powi(2)).sum::<f64>()
                    / window.len() as f64;
                // The shift can be up to `n` updates old: the error scales with the
                // square of the range of the last `2n` inputs, as documented.
                let recent = &xs[(i + 1).saturating_sub(2 * n)..=i];
                let range = recent.iter().fold(f64::MIN, |m, v| m.max(*v))
                    - recent.iter().fold(f64::MAX, |m, v| m.min(*v));
                prop_assert!((sum.variance() - var).abs() <= 1e-9 * (1.0 + var + range * range));
                let flat = window.iter().all(|v| *v == window[0]);
                if flat {
                    prop_assert_eq!(moments.std_dev(), 0.0);
                } else {
                    let sd = var.sqrt();
                    prop_assert!((moments.std_dev() - sd).abs() <= 1e-4 * (1.0 + sd + range));
                }
                prop_assert_eq!(top, window.iter().cloned().fold(f64::MIN, f64::max));
                prop_assert_eq!(bottom, window.iter().cloned().fold(f64::MAX, f64::min));
                let age = hi.age().unwrap() as usize;
                prop_assert_eq!(window[window.len() - 1 - age], top);
                prop_assert_eq!(sum.ring().iter().collect::<Vec<_>>(), window.to_vec());
            }
        }
    }
}
