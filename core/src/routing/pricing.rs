//! Prices for `lowest_cost` routing: a target's configured price, else the model catalogue's
//! (USD per million tokens, standard tier, no caching discounts). Routing only needs relative
//! prices; a configured `price:` always wins.

use crate::telemetry::{Catalogue, ModelInfo};
use rust_decimal::prelude::ToPrimitive;

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

/// The catalogue price of a provider model id at any provider (`core/data/models.yaml`),
/// for targets made on the fly; configured routes are priced per provider by the gateway.
pub fn builtin_price(model: &str) -> Option<Price> {
    Catalogue::builtin().lookup_any(model).map(Price::of)
}

impl Price {
    /// The routing view of a catalogue price (relative prices only, so floats suffice).
    pub fn of(info: &ModelInfo) -> Price {
        Price {
            input: info.price.input.to_f64().unwrap_or(f64::INFINITY),
            output: info.price.output.to_f64().unwrap_or(f64::INFINITY),
        }
    }
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
