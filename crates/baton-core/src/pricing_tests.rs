use super::*;
use proptest::prelude::*;

fn sonnet() -> ModelPrice {
    ModelPrice {
        input: Usd(3_000_000),
        cached_input: Usd(300_000),
        cache_write: Usd(3_750_000),
        output: Usd(15_000_000),
        reasoning: Usd::ZERO,
    }
}

fn table() -> PriceTable {
    PriceTable {
        version: "test-1".into(),
        models: [("claude-sonnet-4".to_string(), sonnet())].into(),
    }
}

#[test]
fn a_cost_is_tokens_times_the_price_per_million_in_micro_dollars() {
    let tokens = Tokens {
        input: 2_000,
        cached_input: 10_000,
        cache_write: 1_000,
        output: 500,
        reasoning: 0,
    };
    // 2000*3 + 10000*0.3 + 1000*3.75 + 500*15 = 6000 + 3000 + 3750 + 7500 micro-dollars.
    assert_eq!(sonnet().cost(&tokens), Usd(20_250));
    assert_eq!(Usd(20_250).to_string(), "$0.0203");
}

#[test]
fn routes_and_dates_find_the_models_price() {
    let table = table();
    for name in [
        "claude-sonnet-4",
        "Claude-Sonnet-4",
        "anthropic/claude-sonnet-4",
        "openrouter/anthropic/claude-sonnet-4",
        "claude-sonnet-4-20250514",
    ] {
        assert_eq!(
            table.price(name).map(|(n, _)| n),
            Some("claude-sonnet-4"),
            "{name}"
        );
    }
    assert!(table.price("gpt-unknown").is_none());
}

#[test]
fn unknown_cost_is_never_zero() {
    let tokens = Tokens {
        input: 10,
        ..Tokens::default()
    };
    assert_eq!(
        settle_cost(None, Some("mystery-model"), Some(&tokens), &table()),
        (None, CostBasis::Unknown)
    );
    assert_eq!(
        settle_cost(None, None, None, &table()),
        (None, CostBasis::Unknown)
    );
    assert_eq!(
        settle_cost(Some(Usd(7)), Some("mystery-model"), None, &table()),
        (Some(Usd(7)), CostBasis::Reported)
    );
    assert_eq!(
        settle_cost(None, Some("claude-sonnet-4"), Some(&tokens), &table()),
        (Some(Usd(30)), CostBasis::Priced)
    );
}

#[test]
fn dollars_print_with_four_decimals_under_a_dollar_and_two_above() {
    assert_eq!(Usd(0).to_string(), "$0.0000");
    assert_eq!(Usd(2_600).to_string(), "$0.0026");
    assert_eq!(Usd(12_500_000).to_string(), "$12.50");
    assert_eq!(Usd(1_999_999).to_string(), "$2.00");
    assert_eq!(Usd::from_dollars(0.0026), Some(Usd(2_600)));
    assert_eq!(Usd::from_dollars(-1.0), None);
    assert_eq!(Usd::from_dollars(f64::NAN), None);
}

#[test]
fn an_override_table_replaces_prices_and_names_both_versions() {
    let cheaper = PriceTable {
        version: "mine".into(),
        models: [(
            "claude-sonnet-4".to_string(),
            ModelPrice {
                input: Usd(1_000_000),
                ..sonnet()
            },
        )]
        .into(),
    };
    let merged = table().overlaid(cheaper);
    assert_eq!(merged.version, "test-1+mine");
    assert_eq!(
        merged.price("claude-sonnet-4").map(|(_, p)| p.input),
        Some(Usd(1_000_000))
    );
}

proptest! {
    #[test]
    fn the_cost_of_a_sum_is_the_sum_of_the_costs_within_rounding(
        a in 0u64..10_000_000, b in 0u64..10_000_000, c in 0u64..10_000_000, d in 0u64..10_000_000,
    ) {
        let x = Tokens { input: a, output: b, ..Tokens::default() };
        let y = Tokens { input: c, output: d, ..Tokens::default() };
        let whole = sonnet().cost(&x.add(&y)).0;
        let parts = sonnet().cost(&x).0 + sonnet().cost(&y).0;
        prop_assert!(whole.abs_diff(parts) <= 1);
    }
}
