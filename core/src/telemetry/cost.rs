//! What one request cost, in exact decimals, split the way providers bill it.
//!
//! Every adapter reports usage in OpenAI's shape, so one rule covers all providers:
//! - `prompt_tokens` counts every prompt token, including those read from the provider's
//!   cache (`prompt_tokens_details.cached_tokens`) and, for Anthropic, those written to it
//!   (`cache_creation_tokens`; the adapter reports input + cache_read + cache_creation).
//!   Uncached input = prompt - cached - written, each part at its own rate. DeepSeek reports
//!   cache hits as `prompt_cache_hit_tokens`, read when `cached_tokens` is absent.
//! - `completion_tokens` counts every output token, reasoning included (OpenAI's reasoning
//!   tokens, Anthropic's thinking, Gemini's thoughts, which the Gemini adapter adds in).
//!   They are billed at the output rate unless the model has a separate reasoning rate.
//! - A long-context tier (Gemini Pro, Grok) prices the whole request when the prompt exceeds
//!   its threshold.

use super::pricing::Price;
use crate::api::Usage;
use rust_decimal::Decimal;
use serde::Serialize;

/// A request's cost in USD, by kind of token.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Cost {
    /// Uncached prompt tokens.
    pub input: Decimal,
    /// Prompt tokens read from the provider's cache.
    pub cached_input: Decimal,
    /// Prompt tokens written to the provider's cache.
    pub cache_write: Decimal,
    /// Completion tokens other than reasoning.
    pub output: Decimal,
    /// Reasoning tokens.
    pub reasoning: Decimal,
    /// The sum.
    pub total: Decimal,
}

/// The token counts cost is computed from, read from a response's usage.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct TokenSplit {
    pub prompt: u64,
    pub completion: u64,
    pub cached: u64,
    pub cache_write: u64,
    pub reasoning: u64,
}

impl TokenSplit {
    /// Reads the counts from unified usage (see the module doc for each provider's fields).
    pub fn from_usage(u: &Usage) -> TokenSplit {
        let details = u.prompt_tokens_details.as_ref();
        let cached = details
            .and_then(|d| d.cached_tokens)
            .map(|t| t.get())
            .or_else(|| {
                u.extra
                    .get("prompt_cache_hit_tokens")
                    .and_then(serde_json::Value::as_u64)
            })
            .unwrap_or(0);
        TokenSplit {
            prompt: u.prompt_tokens.get(),
            completion: u.completion_tokens.get(),
            cached,
            cache_write: details
                .and_then(|d| d.cache_creation_tokens)
                .map_or(0, |t| t.get()),
            reasoning: u.reasoning_tokens().get(),
        }
    }
}

const PER_MILLION: Decimal = Decimal::from_parts(1_000_000, 0, 0, false, 0);

/// The cost of `usage` at `price`.
pub fn cost(price: &Price, usage: &Usage) -> Cost {
    cost_of(price, TokenSplit::from_usage(usage))
}

/// The cost of these token counts at `price`.
pub fn cost_of(price: &Price, t: TokenSplit) -> Cost {
    let (input, output, cached_rate, write_rate) = match &price.long_context {
        Some(l) if t.prompt > l.above => (
            l.input,
            l.output,
            l.cached_input.or(price.cached_input).unwrap_or(l.input),
            l.cache_write.or(price.cache_write).unwrap_or(l.input),
        ),
        _ => (
            price.input,
            price.output,
            price.cached_input.unwrap_or(price.input),
            price.cache_write.unwrap_or(price.input),
        ),
    };
    let cached = t.cached.min(t.prompt);
    let written = t.cache_write.min(t.prompt - cached);
    let uncached = t.prompt - cached - written;
    let reasoning = t.reasoning.min(t.completion);
    let visible = t.completion - reasoning;
    let reasoning_rate = price.reasoning.unwrap_or(output);
    let at = |tokens: u64, rate: Decimal| Decimal::from(tokens) * rate / PER_MILLION;
    let mut c = Cost {
        input: at(uncached, input),
        cached_input: at(cached, cached_rate),
        cache_write: at(written, write_rate),
        output: at(visible, output),
        reasoning: at(reasoning, reasoning_rate),
        total: Decimal::ZERO,
    };
    c.total = c.input + c.cached_input + c.cache_write + c.output + c.reasoning;
    c.normalize()
}

impl Cost {
    /// Trailing zeros removed, so `0.0150` prints as `0.015` everywhere.
    fn normalize(mut self) -> Cost {
        for d in [
            &mut self.input,
            &mut self.cached_input,
            &mut self.cache_write,
            &mut self.output,
            &mut self.reasoning,
            &mut self.total,
        ] {
            *d = d.normalize();
        }
        self
    }
}

#[cfg(test)]
mod tests {
    //! Hand-computed figures from the published prices in core/data/models.yaml.
    use super::*;
    use crate::api::{CompletionTokensDetails, PromptTokensDetails, TokenCount};
    use crate::telemetry::pricing::Catalogue;
    use std::str::FromStr;

    fn dec(s: &str) -> Decimal {
        Decimal::from_str(s).expect("decimal")
    }

    fn usage(prompt: u64, completion: u64, cached: u64, written: u64, reasoning: u64) -> Usage {
        let mut u = Usage::new(prompt, completion);
        if cached > 0 || written > 0 {
            u.prompt_tokens_details = Some(PromptTokensDetails {
                cached_tokens: Some(TokenCount(cached)),
                cache_creation_tokens: (written > 0).then_some(TokenCount(written)),
                ..Default::default()
            });
        }
        if reasoning > 0 {
            u.completion_tokens_details = Some(CompletionTokensDetails {
                reasoning_tokens: Some(TokenCount(reasoning)),
                ..Default::default()
            });
        }
        u
    }

    fn price(provider: &str, model: &str) -> Price {
        Catalogue::builtin()
            .lookup(&[provider], model)
            .expect("priced")
            .price
            .clone()
    }

    #[test]
    fn openai_cached_and_reasoning_tokens() {
        // gpt-5: $1.25 in, $0.125 cached, $10 out. prompt 10,000 of which 4,000 cached;
        // completion 3,000 of which 2,000 reasoning (billed as output).
        // 6,000 x 1.25/1M = 0.0075; 4,000 x 0.125/1M = 0.0005; 1,000 x 10/1M = 0.01;
        // 2,000 x 10/1M = 0.02; total 0.038.
        let c = cost(
            &price("openai", "gpt-5"),
            &usage(10_000, 3_000, 4_000, 0, 2_000),
        );
        assert_eq!(c.input, dec("0.0075"));
        assert_eq!(c.cached_input, dec("0.0005"));
        assert_eq!(c.output, dec("0.01"));
        assert_eq!(c.reasoning, dec("0.02"));
        assert_eq!(c.total, dec("0.038"));
        assert_eq!(c.total.to_string(), "0.038");
    }

    #[test]
    fn anthropic_cache_reads_and_writes() {
        // claude-sonnet-4: $3 in, $0.30 read, $3.75 write, $15 out. Adapter usage:
        // prompt 1,000 + 50,000 read + 20,000 written = 71,000; output 500.
        // 1,000 x 3 = 0.003; 50,000 x 0.30 = 0.015; 20,000 x 3.75 = 0.075; 500 x 15 = 0.0075.
        let c = cost(
            &price("anthropic", "claude-sonnet-4-20250514"),
            &usage(71_000, 500, 50_000, 20_000, 0),
        );
        assert_eq!(
            (c.input, c.cached_input, c.cache_write, c.output),
            (dec("0.003"), dec("0.015"), dec("0.075"), dec("0.0075"))
        );
        assert_eq!(c.total, dec("0.1005"));
    }

    #[test]
    fn gemini_cached_content_thoughts_and_long_context() {
        // gemini-2.5-flash: $0.30 in, $0.03 cached, $2.50 out. promptTokenCount 2,000 of
        // which 1,000 cached; candidates 100 + thoughts 400 = completion 500.
        // 1,000 x 0.30 = 0.0003; 1,000 x 0.03 = 0.00003; 500 x 2.50 = 0.00125.
        let c = cost(
            &price("gemini", "gemini-2.5-flash"),
            &usage(2_000, 500, 1_000, 0, 400),
        );
        assert_eq!(c.total, dec("0.00158"));
        assert_eq!(c.reasoning, dec("0.001"));
        // gemini-2.5-pro above 200k prompt tokens: the whole request at $2.50 / $15.
        // 250,000 x 2.50 = 0.625; 1,000 x 15 = 0.015.
        let c = cost(
            &price("gemini", "gemini-2.5-pro"),
            &usage(250_000, 1_000, 0, 0, 0),
        );
        assert_eq!(c.total, dec("0.64"));
        // At exactly 200k the standard tier applies: 200,000 x 1.25 = 0.25; 1,000 x 10 = 0.01.
        let c = cost(
            &price("gemini", "gemini-2.5-pro"),
            &usage(200_000, 1_000, 0, 0, 0),
        );
        assert_eq!(c.total, dec("0.26"));
    }

    #[test]
    fn deepseek_cache_hits_from_its_own_field() {
        // deepseek-flash (peak): $0.30 miss, $0.006 hit, $1.20 out.
        // 10,000 prompt, 8,000 hits: 2,000 x 0.30 = 0.0006; 8,000 x 0.006 = 0.000048;
        // 1,000 x 1.20 = 0.0012.
        let mut u = Usage::new(10_000, 1_000);
        u.extra
            .insert("prompt_cache_hit_tokens".into(), serde_json::json!(8_000));
        let c = cost(&price("deepseek", "deepseek-chat"), &u);
        assert_eq!(c.total, dec("0.001848"));
    }

    #[test]
    fn separate_reasoning_rate_and_no_cache_rate() {
        let p = Price {
            input: dec("1"),
            output: dec("2"),
            cached_input: None,
            cache_write: None,
            reasoning: Some(dec("3")),
            long_context: None,
        };
        // Cached tokens without a cached rate are billed as input: 1,000,000 x 1 = 1.
        let c = cost(&p, &usage(1_000_000, 1_000_000, 400_000, 0, 250_000));
        assert_eq!(c.input + c.cached_input, dec("1"));
        // 750,000 x 2 = 1.5; 250,000 x 3 = 0.75.
        assert_eq!((c.output, c.reasoning), (dec("1.5"), dec("0.75")));
        assert_eq!(c.total, dec("3.25"));
    }

    #[test]
    fn inconsistent_usage_never_underflows() {
        let c = cost(&price("openai", "gpt-4o"), &usage(10, 5, 50, 0, 9));
        // Cached is capped at prompt, reasoning at completion.
        assert_eq!(c.cached_input, dec("0.0000125"));
        assert_eq!(c.reasoning, dec("0.00005"));
        assert_eq!(c.input, Decimal::ZERO);
    }

    #[test]
    fn sums_of_many_small_costs_do_not_drift() {
        // 1,000,000 requests of 1 token at gpt-4o-mini's $0.15/1M add up to exactly $0.15.
        let p = price("openai", "gpt-4o-mini");
        let one = cost(&p, &usage(1, 0, 0, 0, 0)).total;
        let mut sum = Decimal::ZERO;
        for _ in 0..1_000_000 {
            sum += one;
        }
        assert_eq!(sum, dec("0.15"));
    }
}
