//! A bounded cache of keys seen recently: least recently used out first, and each key
//! forgotten `ttl` after it was last seen, in event time.
//!
//! It makes a repeated request a no-op: the order manager keeps the execution reports
//! it has applied (a live feed may deliver one twice), the venue the client ids of the
//! orders it has taken (a retried submit must not create a second order). Memory stays
//! bounded by `capacity` however long the run; a key evicted early (the cache full of
//! fresher keys) is the price of that bound, so `capacity` should cover every key
//! younger than `ttl` the caller expects.
//!
//! Deterministic: ordered maps only, and time arrives with the calls.

use std::collections::{BTreeMap, BTreeSet};

use bot4_schemas::Nanos;

/// Keys seen within the last `ttl`, at most `capacity` of them.
///
/// # Examples
/// ```
/// use bot4_operators::idempotency::IdempotencyCache;
/// let mut seen = IdempotencyCache::new(2, 100);
/// assert!(seen.insert(7, 0), "first time");
/// assert!(!seen.insert(7, 50), "a repeat within the ttl is refused");
/// assert!(seen.insert(7, 151), "50 + 100 has passed: new again");
/// ```
#[derive(Debug, Clone)]
pub struct IdempotencyCache<K> {
    capacity: usize,
    ttl: Nanos,
    /// Key → the time it was last seen.
    last_seen: BTreeMap<K, Nanos>,
    /// `(last seen, key)`, oldest first: the eviction order.
    by_age: BTreeSet<(Nanos, K)>,
}

impl<K: Ord + Copy> IdempotencyCache<K> {
    /// An empty cache holding at most `capacity` keys (at least one), each for `ttl`
    /// nanoseconds of event time after it was last seen.
    pub fn new(capacity: usize, ttl: Nanos) -> Self {
        Self {
            capacity: capacity.max(1),
            ttl,
            last_seen: BTreeMap::new(),
            by_age: BTreeSet::new(),
        }
    }

    /// Record `key` as seen at `now`. True if it is new (never seen, or last seen more
    /// than `ttl` ago, or evicted); false for a repeat, which refreshes it.
    pub fn insert(&mut self, key: K, now: Nanos) -> bool {
        self.expire(now);
        let fresh = match self.last_seen.insert(key, now) {
            Some(before) => {
                self.by_age.remove(&(before, key));
                false
            }
            None => true,
        };
        self.by_age.insert((now, key));
        while self.last_seen.len() > self.capacity {
            let Some((_, oldest)) = self.by_age.pop_first() else {
                break;
            };
            self.last_seen.remove(&oldest);
        }
        fresh
    }

    /// Whether `key` was seen within the ttl of `now` (without recording anything).
    pub fn contains(&self, key: &K, now: Nanos) -> bool {
        self.last_seen
            .get(key)
            .is_some_and(|&seen| now.saturating_sub(seen) <= self.ttl)
    }

    /// Forget `key`, so that it is new again.
    pub fn remove(&mut self, key: &K) {
        if let Some(seen) = self.last_seen.remove(key) {
            self.by_age.remove(&(seen, *key));
        }
    }

    /// How many keys it holds.
    pub fn len(&self) -> usize {
        self.last_seen.len()
    }

    /// Whether it holds no key.
    pub fn is_empty(&self) -> bool {
        self.last_seen.is_empty()
    }

    /// Drop the keys last seen more than `ttl` before `now`.
    fn expire(&mut self, now: Nanos) {
        while let Some(&(seen, key)) = self.by_age.first() {
            if now.saturating_sub(seen) <= self.ttl {
                break;
            }
            self.by_age.pop_first();
            self.last_seen.remove(&key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_least_recently_seen_key_is_evicted_first() {
        let mut c = IdempotencyCache::new(2, 1_000);
        assert!(c.insert(1, 0));
        assert!(c.insert(2, 1));
        assert!(!c.insert(1, 2), "1 refreshed: now 2 is the oldest");
        assert!(c.insert(3, 3), "evicts 2");
        assert_eq!(c.len(), 2);
        assert!(c.contains(&1, 3) && c.contains(&3, 3) && !c.contains(&2, 3));
        c.remove(&1);
        assert!(c.insert(1, 4));
    }

    proptest! {
        /// Against a naive model (every key with its last time, evicting the oldest):
        /// the same answers, and never more than `capacity` keys.
        #[test]
        fn matches_a_naive_model(
            capacity in 1usize..6,
            ttl in 0i64..50,
            steps in proptest::collection::vec((0u8..10, 0i64..20), 1..200),
        ) {
            let mut cache = IdempotencyCache::new(capacity, ttl);
            let mut model: Vec<(u8, Nanos)> = Vec::new();
            let mut now = 0;
            for (key, dt) in steps {
                now += dt;
                model.retain(|&(_, seen)| now - seen <= ttl);
                let fresh = !model.iter().any(|&(k, _)| k == key);
                model.retain(|&(k, _)| k != key);
                model.push((key, now));
                while model.len() > capacity {
                    let oldest = model.iter().enumerate().min_by_key(|(_, &(k, t))| (t, k)).map(|(i, _)| i).unwrap();
                    model.remove(oldest);
                }
                prop_assert_eq!(cache.insert(key, now), fresh);
                prop_assert!(cache.len() <= capacity);
                prop_assert_eq!(cache.len(), model.len());
            }
        }
    }
}
