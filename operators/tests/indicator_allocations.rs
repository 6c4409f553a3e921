//! The indicators allocate nothing once made: feeding the whole standard set a bar, or a
//! quote to the quote features, touches the heap zero times. The counting allocator of
//! `allocation-counter` is this test binary's global allocator.

use bot4_operators::indicators::microstructure::{Quote, QuoteState};
use bot4_operators::indicators::set::IndicatorSet;
use bot4_operators::indicators::{Candle, Indicator};

/// Bar `i` of a deterministic zig-zag market: enough movement for every branch.
fn bar(i: i64) -> Candle {
    let swing = [0.0, 1.5, -0.75, 2.0, -3.0, 0.5, 0.0][(i % 7) as usize];
    let close = 250.0 + swing + (i / 7) as f64 * 0.1;
    Candle {
        ts: i * 300_000_000_000,
        open: close - swing / 2.0,
        high: close + 0.8,
        low: close - 1.1,
        close,
        volume: (i % 5) as f64 * 3.0,
    }
}

#[test]
fn the_indicator_set_allocates_nothing_per_bar() {
    let mut set = IndicatorSet::new();
    // Warm up first, past every window's first re-sum, so steady state is measured.
    for i in 0..500 {
        std::hint::black_box(set.update(&bar(i)));
    }
    let info = allocation_counter::measure(|| {
        for i in 500..5_500 {
            std::hint::black_box(set.update(&bar(i)));
        }
    });
    assert_eq!(info.count_total, 0, "{info:?}");
}

#[test]
fn quote_features_allocate_nothing() {
    let mut state = QuoteState::new();
    let info = allocation_counter::measure(|| {
        for i in 0..5_000 {
            let bid = 100.0 + (i % 13) as f64 * 0.01;
            let quote = Quote::new(bid, 1.0 + (i % 5) as f64, bid + 0.01, 2.0);
            std::hint::black_box(state.update(quote));
        }
    });
    assert_eq!(info.count_total, 0, "{info:?}");
}

#[test]
fn the_counter_sees_allocations() {
    // The zero above means something only if the counter counts.
    let info = allocation_counter::measure(|| {
        std::hint::black_box(vec![1u8; 64]);
    });
    assert!(info.count_total >= 1, "{info:?}");
}
