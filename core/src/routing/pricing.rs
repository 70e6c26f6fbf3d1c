//! Prices for `lowest_cost` routing: a target's configured price, else this small built-in
//! table of list prices (USD per million tokens, standard tier, no caching discounts).
//!
//! The telemetry stage will own the full price table; routing only needs relative prices,
//! and a configured `price:` always wins.

/// USD per million input and output tokens.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Price {
    pub input: f64,
    pub output: f64,
}

impl Price {
    /// The cost of a request with these token counts, in USD.
    #[inline]
    pub fn cost(&self, prompt: u64, completion: u64) -> f64 {
        (self.input * prompt as f64 + self.output * completion as f64) / 1e6
    }
}

/// List prices of well-known models, by model id prefix (longest match wins, so dated
/// snapshots like `gpt-4o-mini-2024-07-18` find their family).
const TABLE: &[(&str, f64, f64)] = &[
    ("gpt-4o", 2.50, 10.00),
    ("gpt-4o-mini", 0.15, 0.60),
    ("gpt-4.1", 2.00, 8.00),
    ("gpt-4.1-mini", 0.40, 1.60),
    ("gpt-4.1-nano", 0.10, 0.40),
    ("gpt-5", 1.25, 10.00),
    ("gpt-5-mini", 0.25, 2.00),
    ("gpt-5-nano", 0.05, 0.40),
    ("o3", 2.00, 8.00),
    ("o3-mini", 1.10, 4.40),
    ("o4-mini", 1.10, 4.40),
    ("claude-opus-4", 15.00, 75.00),
    ("claude-sonnet-4", 3.00, 15.00),
    ("claude-3-7-sonnet", 3.00, 15.00),
    ("claude-3-5-haiku", 0.80, 4.00),
    ("claude-haiku-4-5", 1.00, 5.00),
    ("gemini-2.5-pro", 1.25, 10.00),
    ("gemini-2.5-flash", 0.30, 2.50),
    ("gemini-2.5-flash-lite", 0.10, 0.40),
    ("gemini-2.0-flash", 0.10, 0.40),
    ("text-embedding-3-small", 0.02, 0.0),
    ("text-embedding-3-large", 0.13, 0.0),
];

/// The built-in price of a provider model id, if it is a known model.
pub fn builtin_price(model: &str) -> Option<Price> {
    TABLE
        .iter()
        .filter(|(prefix, _, _)| model.starts_with(prefix))
        .max_by_key(|(prefix, _, _)| prefix.len())
        .map(|&(_, input, output)| Price { input, output })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn longest_prefix_wins() {
        assert_eq!(
            builtin_price("gpt-4o-mini-2024-07-18"),
            Some(Price {
                input: 0.15,
                output: 0.60
            })
        );
        assert_eq!(builtin_price("gpt-4o").map(|p| p.input), Some(2.50));
        assert_eq!(builtin_price("my-finetune"), None);
    }

    #[test]
    fn cost_is_per_million() {
        let p = Price {
            input: 3.0,
            output: 15.0,
        };
        assert!((p.cost(1_000_000, 1_000_000) - 18.0).abs() < 1e-12);
    }
}
