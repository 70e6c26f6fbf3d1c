//! Resolving routes: `models:` entries become one-target routes, `routes:` entries are
//! checked (providers, prices, weights, rule and fallback references, loops), policies are
//! layered (route over `defaults` over built-ins), and the built-in `auto` route is added.

use super::load::closest;
use super::route_schema::{
    Capability, CooldownEntry, FallbackOnEntry, HedgeAfterEntry, MatchEntry, RetriesEntry,
    RouteEntry, TargetEntry,
};
use super::schema::ConfigFile;
use super::ResolvedProvider;
use crate::api::Error;
use crate::providers::Preset;
use crate::resilience::{
    CooldownPolicy, Fallback, FallbackOn, HedgeAfter, HedgePolicy, RetryPolicy, RoutePolicy,
    RouteTimeouts,
};
use crate::routing::{builtin_price, AutoSpec, Caps, Match, Price, Rule, Strategy};
use crate::telemetry::{price_tables, Catalogue};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Duration;

/// A route ready to build: its targets and everything it does on failure.
#[derive(Debug, Clone, PartialEq)]
pub struct RouteSpec {
    pub name: String,
    pub aliases: Vec<String>,
    pub strategy: Strategy,
    pub targets: Vec<TargetSpec>,
    pub rules: Vec<Rule>,
    pub default: Option<String>,
    pub policy: RoutePolicy,
}

/// One target of a route.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetSpec {
    pub provider: String,
    pub model: String,
    pub weight: f64,
    pub caps: Caps,
    pub context_window: Option<u64>,
    pub price: Option<Price>,
    pub rpm: Option<u64>,
    pub tpm: Option<u64>,
    pub tags: Vec<String>,
}

impl TargetSpec {
    /// A target with no limits or declared capabilities (a `models:` entry, `provider/model`).
    pub fn plain(provider: &str, model: &str) -> TargetSpec {
        TargetSpec {
            provider: provider.to_string(),
            model: model.to_string(),
            weight: 1.0,
            caps: Caps::ALL,
            context_window: None,
            // Priced by the gateway from the catalogue and config `pricing:`.
            price: None,
            rpm: None,
            tpm: None,
            tags: Vec::new(),
        }
    }
}

/// The routes of a config and the policy of routes made on the fly (`provider/model`).
#[derive(Debug, Clone, Default)]
pub struct ResolvedRoutes {
    pub routes: Vec<RouteSpec>,
    pub defaults: RoutePolicy,
}

/// Builds every route from a parsed config (providers already resolved).
pub fn resolve_routes(
    cfg: &ConfigFile,
    providers: &HashMap<String, ResolvedProvider>,
    catalogue: &Catalogue,
) -> Result<ResolvedRoutes, Error> {
    let defaults = RoutePolicy {
        retries: retries(cfg.defaults.retries.as_ref(), RetryPolicy::default()),
        cooldown: cooldown(cfg.defaults.cooldown.as_ref(), CooldownPolicy::default()),
        ..RoutePolicy::default()
    };
    let provider_ok = |p: &str| providers.contains_key(p) || Preset::find(p).is_some();
    // Targets without a `price:` take the catalogue's, config `pricing:` included, looked up
    // under the provider's own name, preset and wire format.
    let price_of = |provider: &str, model: &str| -> Option<Price> {
        let names = match providers.get(provider) {
            Some(p) => price_tables(provider, &p.settings),
            None => vec![provider.to_string()],
        };
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        catalogue
            .lookup(&names, model)
            .map(Price::of)
            .or_else(|| builtin_price(model))
    };
    let known_providers: Vec<&str> = {
        let mut v: Vec<&str> = providers
            .keys()
            .map(String::as_str)
            .chain(Preset::names())
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    };

    let mut owner: HashMap<String, String> = HashMap::new();
    let mut claim = |name: &str, field: String| -> Result<(), Error> {
        if let Some(prev) = owner.insert(name.to_string(), field.clone()) {
            return Err(Error::config(
                field.clone(),
                format!("the name `{name}` is used by both `{prev}` and `{field}`"),
            ));
        }
        Ok(())
    };

    let mut routes = Vec::new();
    for (name, m) in &cfg.models {
        claim(name, format!("models.{name}"))?;
        for (i, a) in m.aliases.iter().enumerate() {
            if a != name {
                claim(a, format!("models.{name}.aliases[{i}]"))?;
            }
        }
        let model = m.model.clone().unwrap_or_else(|| name.clone());
        routes.push(RouteSpec {
            name: name.clone(),
            aliases: m.aliases.clone(),
            strategy: Strategy::Priority,
            targets: vec![TargetSpec {
                price: price_of(&m.provider, &model),
                ..TargetSpec::plain(&m.provider, &model)
            }],
            rules: Vec::new(),
            default: None,
            policy: defaults.clone(),
        });
    }
    for (name, r) in &cfg.routes {
        let at = |f: &str| format!("routes.{name}.{f}");
        claim(name, format!("routes.{name}"))?;
        for (i, a) in r.aliases.iter().enumerate() {
            claim(a, at(&format!("aliases[{i}]")))?;
        }
        let mut targets = Vec::with_capacity(r.targets.len());
        for (i, t) in r.targets.iter().enumerate() {
            targets.push(target(
                t,
                &at(&format!("targets[{i}]")),
                &provider_ok,
                &known_providers,
            )?);
        }
        for t in targets.iter_mut().filter(|t| t.price.is_none()) {
            t.price = price_of(&t.provider, &t.model);
        }
        check_route_shape(name, r, &targets)?;
        routes.push(RouteSpec {
            name: name.clone(),
            aliases: r.aliases.clone(),
            strategy: r.strategy,
            targets,
            rules: r
                .rules
                .iter()
                .map(|rule| Rule {
                    when: matcher(&rule.when),
                    route: rule.route.clone(),
                })
                .collect(),
            default: r.default.clone(),
            policy: policy(r, &defaults),
        });
    }

    let has_auto = owner.contains_key("auto");
    if let (true, Some(_)) = (has_auto, &cfg.auto) {
        return Err(Error::config(
            "auto",
            "`auto` settings configure the built-in `auto` route, but a route or model named `auto` is defined too; remove one",
        ));
    }
    let mut auto_spec = None;
    if !has_auto {
        let a = cfg.auto.clone().unwrap_or_default();
        let d = AutoSpec::default();
        let spec = AutoSpec {
            small: a.small.unwrap_or(d.small),
            large: a.large.unwrap_or(d.large),
            long_prompt_tokens: a.long_prompt_tokens.unwrap_or(d.long_prompt_tokens),
            large_tags: a.large_tags.unwrap_or(d.large_tags),
        };
        routes.push(RouteSpec {
            name: "auto".into(),
            aliases: Vec::new(),
            strategy: Strategy::Priority,
            targets: Vec::new(),
            rules: spec.rules(),
            default: Some(spec.small.clone()),
            policy: defaults.clone(),
        });
        auto_spec = Some(spec);
    }

    let names: HashSet<&str> = owner.keys().map(String::as_str).chain(["auto"]).collect();
    let check_ref = |target: &str, field: String| -> Result<(), Error> {
        if names.contains(target) {
            return Ok(());
        }
        if let Some((p, m)) = target.split_once('/') {
            if provider_ok(p) && !m.is_empty() {
                return Ok(());
            }
        }
        let mut sorted: Vec<&str> = names.iter().copied().collect();
        sorted.sort_unstable();
        let mut msg = format!("`{target}` is not a route, a model or `provider/model`");
        if let Some(s) = closest(target, sorted.iter().copied()) {
            msg.push_str(&format!("; did you mean `{s}`?"));
        }
        msg.push_str(&format!(" (known: {})", sorted.join(", ")));
        Err(Error::config(field, msg))
    };
    for (name, r) in &cfg.routes {
        for (i, rule) in r.rules.iter().enumerate() {
            check_ref(&rule.route, format!("routes.{name}.rules[{i}].route"))?;
        }
        if let Some(d) = &r.default {
            check_ref(d, format!("routes.{name}.default"))?;
        }
        for (i, f) in r.fallbacks.iter().enumerate() {
            for (j, to) in f.to.iter().enumerate() {
                check_ref(to, format!("routes.{name}.fallbacks[{i}].to[{j}]"))?;
            }
        }
    }
    if let Some(spec) = &auto_spec {
        check_ref(&spec.small, "auto.small".into())?;
        check_ref(&spec.large, "auto.large".into())?;
    }
    check_loops(&routes)?;
    Ok(ResolvedRoutes { routes, defaults })
}

fn target(
    t: &TargetEntry,
    at: &str,
    provider_ok: &dyn Fn(&str) -> bool,
    known: &[&str],
) -> Result<TargetSpec, Error> {
    if !provider_ok(&t.provider) {
        let mut msg = format!(
            "provider `{}` is neither configured nor a preset",
            t.provider
        );
        if let Some(s) = closest(&t.provider, known.iter().copied()) {
            msg.push_str(&format!("; did you mean `{s}`?"));
        }
        msg.push_str(&format!(" (allowed: {})", known.join(", ")));
        return Err(Error::config(format!("{at}.provider"), msg));
    }
    if t.model.trim().is_empty() {
        return Err(Error::config(
            format!("{at}.model"),
            "`model` must name the provider's model id",
        ));
    }
    let weight = t.weight.unwrap_or(1.0);
    if !weight.is_finite() || weight < 0.0 {
        return Err(Error::config(
            format!("{at}.weight"),
            format!("weight must be a number >= 0, got {weight}"),
        ));
    }
    if let Some(p) = t.price {
        if !(p.input.is_finite() && p.output.is_finite() && p.input >= 0.0 && p.output >= 0.0) {
            return Err(Error::config(
                format!("{at}.price"),
                "prices must be numbers >= 0 (USD per million tokens)",
            ));
        }
    }
    for (v, f) in [
        (t.rpm, "rpm"),
        (t.tpm, "tpm"),
        (t.context_window, "context_window"),
    ] {
        if v == Some(0) {
            return Err(Error::config(
                format!("{at}.{f}"),
                format!("`{f}` must be at least 1"),
            ));
        }
    }
    let caps = t.capabilities.as_ref().map_or(Caps::ALL, |list| {
        list.iter().fold(Caps::NONE, |c, cap| {
            c.union(match cap {
                Capability::Tools => Caps::TOOLS,
                Capability::Vision => Caps::VISION,
                Capability::JsonSchema => Caps::JSON_SCHEMA,
            })
        })
    });
    Ok(TargetSpec {
        provider: t.provider.clone(),
        model: t.model.clone(),
        weight,
        caps,
        context_window: t.context_window,
        price: t.price.map(|p| Price {
            input: p.input,
            output: p.output,
        }),
        rpm: t.rpm,
        tpm: t.tpm,
        tags: t.tags.clone(),
    })
}

fn check_route_shape(name: &str, r: &RouteEntry, targets: &[TargetSpec]) -> Result<(), Error> {
    let at = |f: &str| format!("routes.{name}.{f}");
    if targets.is_empty() {
        if r.rules.is_empty() && r.default.is_none() {
            return Err(Error::config(
                at("targets"),
                format!(
                    "route `{name}` has no targets: give `targets`, or `rules` with a `default`"
                ),
            ));
        }
        if r.default.is_none() {
            return Err(Error::config(
                at("default"),
                format!("route `{name}` has rules but no targets: name a `default` route for requests no rule matches"),
            ));
        }
    }
    match r.strategy {
        Strategy::Weighted if !targets.is_empty() && targets.iter().all(|t| t.weight == 0.0) => {
            Err(Error::config(at("targets"), format!("route `{name}` is weighted but every weight is 0")))
        }
        Strategy::LowestCost => match targets.iter().position(|t| t.price.is_none()) {
            Some(i) => Err(Error::config(
                at(&format!("targets[{i}].price")),
                format!(
                    "route `{name}` picks the lowest cost, but `{}/{}` has no known price: set `price: {{input: <USD per 1M>, output: <USD per 1M>}}`",
                    targets[i].provider, targets[i].model
                ),
            )),
            None => Ok(()),
        },
        Strategy::UsageBased if !targets.is_empty() && targets.iter().all(|t| t.rpm.is_none() && t.tpm.is_none()) => {
            Err(Error::config(
                at("strategy"),
                format!("route `{name}` is usage_based but no target sets `rpm` or `tpm`"),
            ))
        }
        _ => Ok(()),
    }
}

fn matcher(m: &MatchEntry) -> Match {
    Match {
        tier: m.tier.clone(),
        user: m.user.clone(),
        team: m.team.clone(),
        tags: m.tags.clone(),
        metadata: m
            .metadata
            .iter()
            .map(|(k, v)| {
                let vals = match v {
                    serde_json::Value::Array(a) => a.clone(),
                    other => vec![other.clone()],
                };
                (k.clone(), vals)
            })
            .collect(),
        has_tools: m.has_tools,
        has_images: m.has_images,
        json: m.json,
        reasoning: m.reasoning,
        prompt_tokens_above: m.prompt_tokens_above,
        prompt_tokens_below: m.prompt_tokens_below,
    }
}

fn retries(e: Option<&RetriesEntry>, base: RetryPolicy) -> RetryPolicy {
    let Some(e) = e else { return base };
    RetryPolicy {
        max: e.max.unwrap_or(base.max),
        backoff: e.backoff.unwrap_or(base.backoff),
        max_backoff: e.max_backoff.unwrap_or(base.max_backoff),
        max_retry_after: e.max_retry_after.unwrap_or(base.max_retry_after),
    }
}

fn cooldown(e: Option<&CooldownEntry>, base: CooldownPolicy) -> CooldownPolicy {
    let Some(e) = e else { return base };
    CooldownPolicy {
        failures: e.failures.unwrap_or(base.failures).max(1),
        window: e.window.unwrap_or(base.window),
        duration: e.duration.unwrap_or(base.duration),
        max_duration: e.max_duration.unwrap_or(base.max_duration),
        wait: e.wait.unwrap_or(base.wait),
    }
}

fn policy(r: &RouteEntry, defaults: &RoutePolicy) -> RoutePolicy {
    RoutePolicy {
        retries: retries(r.retries.as_ref(), defaults.retries),
        cooldown: cooldown(r.cooldown.as_ref(), defaults.cooldown),
        timeouts: RouteTimeouts {
            attempt: r.timeouts.and_then(|t| t.attempt),
            total: r.timeouts.and_then(|t| t.total),
        },
        hedge: r.hedge.map(|h| HedgePolicy {
            after: match h.after {
                None => HedgeAfter::Quantile(0.95),
                Some(HedgeAfterEntry::Quantile(q)) => HedgeAfter::Quantile(q),
                Some(HedgeAfterEntry::Fixed(d)) => HedgeAfter::Fixed(d),
            },
            initial: h.initial.unwrap_or(Duration::from_secs(1)),
        }),
        fallbacks: r
            .fallbacks
            .iter()
            .map(|f| Fallback {
                on: if f.on.is_empty() {
                    vec![FallbackOn::Retryable]
                } else {
                    f.on.iter()
                        .map(|o| match o {
                            FallbackOnEntry::Retryable => FallbackOn::Retryable,
                            FallbackOnEntry::Any => FallbackOn::Any,
                            FallbackOnEntry::Kind(k) => FallbackOn::Kind(*k),
                        })
                        .collect()
                },
                to: f.to.clone(),
            })
            .collect(),
        stream_resume: r.stream_resume,
    }
}

/// Rules and defaults must not send a request around in a circle.
fn check_loops(routes: &[RouteSpec]) -> Result<(), Error> {
    let mut by_name: BTreeMap<&str, &RouteSpec> = BTreeMap::new();
    for r in routes {
        by_name.insert(&r.name, r);
        for a in &r.aliases {
            by_name.insert(a, r);
        }
    }
    let edges = |r: &RouteSpec| -> Vec<String> {
        r.rules
            .iter()
            .map(|x| x.route.clone())
            .chain(r.default.clone())
            .collect()
    };
    // Depth-first search with colours: 1 = on the current path, 2 = done.
    fn visit<'a>(
        name: &str,
        by_name: &BTreeMap<&'a str, &'a RouteSpec>,
        edges: &dyn Fn(&RouteSpec) -> Vec<String>,
        colour: &mut HashMap<String, u8>,
        path: &mut Vec<String>,
    ) -> Result<(), Error> {
        let Some(r) = by_name.get(name) else {
            return Ok(());
        };
        match colour.get(&r.name) {
            Some(2) => return Ok(()),
            Some(1) => {
                path.push(r.name.clone());
                let start = path.iter().position(|p| *p == r.name).unwrap_or(0);
                return Err(Error::config(
                    format!("routes.{}.rules", r.name),
                    format!(
                        "rules send requests in a loop: {}",
                        path[start..].join(" -> ")
                    ),
                ));
            }
            _ => {}
        }
        colour.insert(r.name.clone(), 1);
        path.push(r.name.clone());
        for next in edges(r) {
            visit(&next, by_name, edges, colour, path)?;
        }
        path.pop();
        colour.insert(r.name.clone(), 2);
        Ok(())
    }
    let mut colour = HashMap::new();
    for r in routes {
        visit(&r.name, &by_name, &edges, &mut colour, &mut Vec::new())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{parse_text, resolve, Source};

    fn load(yaml: &str) -> Result<Vec<RouteSpec>, Error> {
        Ok(resolve(parse_text(yaml, &Source::Text)?, &|_| None)?.routes)
    }

    #[test]
    fn policies_layer_route_over_defaults_over_built_ins() {
        let routes = load(
            "providers:\n  p: {kind: openai, base_url: 'http://x', api_key: k}\n\
             defaults:\n  retries: {max: 2, backoff: 1s}\n  cooldown: {failures: 5}\n\
             models:\n  m: {provider: p, model: mm}\n\
             routes:\n  r:\n    targets: [{provider: p, model: a}]\n    retries: {backoff: 50ms}\n    cooldown: {duration: 1m, wait: 2s}\n    hedge: {after: p90}\n",
        )
        .expect("valid");
        let m = routes.iter().find(|r| r.name == "m").expect("model route");
        assert_eq!(m.policy.retries.max, 2);
        assert_eq!(m.policy.retries.backoff, Duration::from_secs(1));
        assert_eq!(m.policy.cooldown.failures, 5);
        assert_eq!(m.targets, vec![TargetSpec::plain("p", "mm")]);
        let r = routes.iter().find(|r| r.name == "r").expect("route");
        assert_eq!(r.policy.retries.max, 2);
        assert_eq!(r.policy.retries.backoff, Duration::from_millis(50));
        assert_eq!(r.policy.retries.max_retry_after, Duration::from_secs(30));
        assert_eq!(r.policy.cooldown.failures, 5);
        assert_eq!(r.policy.cooldown.duration, Duration::from_secs(60));
        assert_eq!(r.policy.cooldown.wait, Duration::from_secs(2));
        assert_eq!(
            r.policy.hedge.map(|h| h.after),
            Some(HedgeAfter::Quantile(0.9))
        );
        let auto = routes
            .iter()
            .find(|r| r.name == "auto")
            .expect("built-in auto");
        assert_eq!(auto.default.as_deref(), Some("openai/gpt-4o-mini"));
    }

    #[test]
    fn a_route_may_not_reuse_a_model_name_or_name_a_missing_route() {
        let e = load(
            "providers:\n  p: {kind: openai, base_url: 'http://x', api_key: k}\n\
             models:\n  m: {provider: p, aliases: [fast]}\n\
             routes:\n  r: {aliases: [fast], targets: [{provider: p, model: a}]}\n",
        )
        .expect_err("duplicate");
        assert_eq!(e.param.as_deref(), Some("routes.r.aliases[0]"));
        assert!(e.message.contains("models.m.aliases[0]"), "{}", e.message);
        let e = load(
            "providers:\n  p: {kind: openai, base_url: 'http://x', api_key: k}\n\
             auto: {small: tiny, large: p/big}\n",
        )
        .expect_err("unknown small");
        assert_eq!(e.param.as_deref(), Some("auto.small"));
    }
}
