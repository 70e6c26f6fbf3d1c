//! Conditional routing: rules matched on who asks and what the request needs, evaluated
//! before the strategy, each sending a request to a named route. Also the built-in `auto`
//! route's rules.

use super::Features;
use crate::gateway::RequestContext;
use serde_json::Value;

/// Conditions that must all hold (an empty list means "any").
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Match {
    /// The caller's tier is one of these.
    pub tier: Vec<String>,
    pub user: Vec<String>,
    pub team: Vec<String>,
    /// The caller's tags include at least one of these.
    pub tags: Vec<String>,
    /// Each key's value in the caller's metadata is one of the listed values.
    pub metadata: Vec<(String, Vec<Value>)>,
    pub has_tools: Option<bool>,
    pub has_images: Option<bool>,
    /// Asks for JSON output.
    pub json: Option<bool>,
    /// Asks for medium or high reasoning effort.
    pub reasoning: Option<bool>,
    /// Estimated prompt tokens strictly above / below.
    pub prompt_tokens_above: Option<u64>,
    pub prompt_tokens_below: Option<u64>,
}

fn one_of(allowed: &[String], actual: Option<&str>) -> bool {
    allowed.is_empty() || actual.is_some_and(|a| allowed.iter().any(|x| x == a))
}

fn flag(want: Option<bool>, actual: bool) -> bool {
    want.is_none_or(|w| w == actual)
}

impl Match {
    /// Whether a request from `ctx` with `f` meets every condition.
    pub fn matches(&self, ctx: &RequestContext, f: &Features) -> bool {
        one_of(&self.tier, ctx.tier.as_deref())
            && one_of(&self.user, ctx.user.as_deref())
            && one_of(&self.team, ctx.team.as_deref())
            && (self.tags.is_empty() || ctx.tags.iter().any(|t| self.tags.contains(t)))
            && self
                .metadata
                .iter()
                .all(|(k, vals)| ctx.metadata.get(k).is_some_and(|v| vals.contains(v)))
            && flag(self.has_tools, f.has_tools)
            && flag(self.has_images, f.has_images)
            && flag(self.json, f.json)
            && flag(self.reasoning, f.reasoning)
            && self.prompt_tokens_above.is_none_or(|n| f.prompt_tokens > n)
            && self.prompt_tokens_below.is_none_or(|n| f.prompt_tokens < n)
    }
}

/// When `when` holds, send the request to `route`.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub when: Match,
    /// A route, a model name or `provider/model`.
    pub route: String,
}

/// The built-in `auto` route's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct AutoSpec {
    /// Where short, simple prompts go.
    pub small: String,
    /// Where long, tool-using, image or reasoning-heavy prompts go.
    pub large: String,
    /// Prompts above this many (estimated) tokens go to `large`.
    pub long_prompt_tokens: u64,
    /// Caller tags that mark a reasoning-heavy workload.
    pub large_tags: Vec<String>,
}

impl Default for AutoSpec {
    fn default() -> Self {
        AutoSpec {
            small: "openai/gpt-4o-mini".into(),
            large: "openai/gpt-4o".into(),
            long_prompt_tokens: 2000,
            large_tags: vec!["reasoning".into(), "code".into(), "analysis".into()],
        }
    }
}

impl AutoSpec {
    /// The rules of the `auto` route; requests none of them match go to `small`.
    pub fn rules(&self) -> Vec<Rule> {
        let large = |when: Match| Rule {
            when,
            route: self.large.clone(),
        };
        let mut rules = vec![
            large(Match {
                has_tools: Some(true),
                ..Match::default()
            }),
            large(Match {
                has_images: Some(true),
                ..Match::default()
            }),
            large(Match {
                reasoning: Some(true),
                ..Match::default()
            }),
            large(Match {
                prompt_tokens_above: Some(self.long_prompt_tokens),
                ..Match::default()
            }),
        ];
        // An empty tag list would match every request.
        if !self.large_tags.is_empty() {
            rules.push(large(Match {
                tags: self.large_tags.clone(),
                ..Match::default()
            }));
        }
        rules
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(tier: &str, tags: &[&str]) -> RequestContext {
        let mut c = RequestContext::new();
        c.tier = Some(tier.into());
        c.tags = tags.iter().map(|t| t.to_string()).collect();
        c.metadata
            .insert("region".into(), Value::String("eu".into()));
        c
    }

    #[test]
    fn every_condition_must_hold() {
        let m = Match {
            tier: vec!["free".into()],
            tags: vec!["summarize".into(), "chat".into()],
            metadata: vec![("region".into(), vec![Value::String("eu".into())])],
            prompt_tokens_below: Some(100),
            ..Match::default()
        };
        let small = Features {
            prompt_tokens: 10,
            ..Features::default()
        };
        assert!(m.matches(&ctx("free", &["chat"]), &small));
        assert!(!m.matches(&ctx("pro", &["chat"]), &small));
        assert!(!m.matches(&ctx("free", &["code"]), &small));
        let big = Features {
            prompt_tokens: 100,
            ..Features::default()
        };
        assert!(!m.matches(&ctx("free", &["chat"]), &big));
        assert!(Match::default().matches(&RequestContext::new(), &big));
    }

    #[test]
    fn auto_sends_tools_and_long_prompts_to_large() {
        let auto = AutoSpec::default();
        let rules = auto.rules();
        let pick = |c: &RequestContext, f: &Features| {
            rules
                .iter()
                .find(|r| r.when.matches(c, f))
                .map_or(auto.small.as_str(), |r| r.route.as_str())
        };
        let plain = RequestContext::new();
        let short = Features {
            prompt_tokens: 20,
            ..Features::default()
        };
        assert_eq!(pick(&plain, &short), "openai/gpt-4o-mini");
        let tools = Features {
            has_tools: true,
            ..short
        };
        assert_eq!(pick(&plain, &tools), "openai/gpt-4o");
        let long = Features {
            prompt_tokens: 5000,
            ..short
        };
        assert_eq!(pick(&plain, &long), "openai/gpt-4o");
        assert_eq!(pick(&ctx("free", &["code"]), &short), "openai/gpt-4o");
    }
}
