//! The routing decision alone (no HTTP): weighted shares by chi-square, priority order,
//! lowest cost, least busy, usage-based headroom, capability filters, rules and `auto`.

use serde_json::{json, Value};
use std::sync::Arc;
use switchpoint_core::api::{from_json_value, ChatRequest};
use switchpoint_core::routing::{Features, Pick, Price, Rng, Route};
use switchpoint_core::{ErrorKind, Gateway, RequestContext};

fn gateway(routes: Value) -> Gateway {
    Gateway::from_value(json!({
        "providers": {
            "a": {"kind": "openai", "base_url": "http://127.0.0.1:9/v1", "api_key": "k"},
            "b": {"kind": "anthropic", "base_url": "http://127.0.0.1:9", "api_key": "k"}
        },
        "routes": routes
    }))
    .expect("valid config")
}

fn req(v: Value) -> ChatRequest {
    from_json_value(v).expect("request")
}

fn simple(model: &str) -> ChatRequest {
    req(json!({"model": model, "messages": [{"role": "user", "content": "hi"}]}))
}

/// The provider model the decision picked.
fn pick(gw: &Gateway, r: &ChatRequest, ctx: &RequestContext, rng: &mut Rng) -> String {
    let (route, p) = gw
        .router()
        .decide(&r.model, ctx, &Features::of(r), rng)
        .expect("decision");
    match p {
        Pick::Target(i) => route.slots[i].target.model.clone(),
        other => panic!("no target: {other:?}"),
    }
}

fn route(gw: &Gateway, name: &str) -> Arc<Route> {
    gw.router().route(name).expect("route")
}

#[test]
fn weighted_shares_pass_a_chi_square_test_over_10000_picks() {
    let gw = gateway(json!({"w": {"strategy": "weighted", "targets": [
        {"provider": "a", "model": "m1", "weight": 1},
        {"provider": "a", "model": "m2", "weight": 2},
        {"provider": "b", "model": "m3", "weight": 7}
    ]}}));
    let mut rng = Rng::seeded(0x5eed);
    let r = simple("w");
    let ctx = RequestContext::new();
    let mut counts = [0f64; 3];
    for _ in 0..10_000 {
        let m = pick(&gw, &r, &ctx, &mut rng);
        counts[m[1..].parse::<usize>().expect("index") - 1] += 1.0;
    }
    let expected = [1000.0, 2000.0, 7000.0];
    let chi2: f64 = counts
        .iter()
        .zip(expected)
        .map(|(o, e)| (o - e) * (o - e) / e)
        .sum();
    // df = 2, critical value at p = 0.001.
    assert!(chi2 < 13.816, "chi2 = {chi2}, counts {counts:?}");
}

#[test]
fn weighted_skips_resting_targets_and_keeps_the_others_ratio() {
    let gw = gateway(json!({"w": {"strategy": "weighted", "targets": [
        {"provider": "a", "model": "m1", "weight": 1},
        {"provider": "a", "model": "m2", "weight": 1},
        {"provider": "b", "model": "m3", "weight": 3}
    ]}}));
    let rt = route(&gw, "w");
    let now = gw.router().clock().now_ms();
    rt.slots[2].target.health.trip(
        now,
        std::time::Duration::from_secs(60),
        ErrorKind::Unavailable,
    );
    let mut rng = Rng::seeded(3);
    let (r, ctx) = (simple("w"), RequestContext::new());
    let mut m1 = 0;
    for _ in 0..4000 {
        match pick(&gw, &r, &ctx, &mut rng).as_str() {
            "m1" => m1 += 1,
            "m2" => {}
            other => panic!("resting target picked: {other}"),
        }
    }
    assert!((1800..2200).contains(&m1), "m1 got {m1} of 4000");
}

#[test]
fn zero_weight_targets_are_standby_only() {
    let gw = gateway(json!({"w": {"strategy": "weighted", "targets": [
        {"provider": "a", "model": "main", "weight": 1},
        {"provider": "b", "model": "standby", "weight": 0}
    ]}}));
    let (r, ctx) = (simple("w"), RequestContext::new());
    let mut rng = Rng::seeded(9);
    for _ in 0..200 {
        assert_eq!(pick(&gw, &r, &ctx, &mut rng), "main");
    }
    let rt = route(&gw, "w");
    let now = gw.router().clock().now_ms();
    rt.slots[0]
        .target
        .health
        .trip(now, std::time::Duration::from_secs(5), ErrorKind::Timeout);
    assert_eq!(pick(&gw, &r, &ctx, &mut rng), "standby");
}

#[test]
fn priority_takes_the_first_available_in_order() {
    let gw = gateway(json!({"p": {"targets": [
        {"provider": "a", "model": "first"},
        {"provider": "b", "model": "second"}
    ]}}));
    let (r, ctx) = (simple("p"), RequestContext::new());
    let mut rng = Rng::seeded(1);
    assert_eq!(pick(&gw, &r, &ctx, &mut rng), "first");
    let rt = route(&gw, "p");
    let now = gw.router().clock().now_ms();
    rt.slots[0].target.health.trip(
        now,
        std::time::Duration::from_secs(5),
        ErrorKind::RateLimited,
    );
    assert_eq!(pick(&gw, &r, &ctx, &mut rng), "second");
    rt.slots[1].target.health.trip(
        now,
        std::time::Duration::from_secs(2),
        ErrorKind::Unavailable,
    );
    let (_, p) = gw
        .router()
        .decide("p", &ctx, &Features::of(&r), &mut rng)
        .expect("decision");
    match p {
        Pick::Resting { until_ms } => assert!(until_ms >= now + 2000 && until_ms <= now + 2001),
        other => panic!("expected Resting, got {other:?}"),
    }
}

#[test]
fn lowest_cost_uses_prices_and_the_token_estimate() {
    // `cheap_in` is cheap on input, `cheap_out` on output: which wins depends on the request.
    let gw = gateway(json!({"c": {"strategy": "lowest_cost", "targets": [
        {"provider": "a", "model": "cheap_out", "price": {"input": 10.0, "output": 1.0}},
        {"provider": "b", "model": "cheap_in", "price": {"input": 1.0, "output": 10.0}},
        {"provider": "a", "model": "gpt-4o-mini"}
    ]}}));
    let ctx = RequestContext::new();
    let mut rng = Rng::seeded(1);
    // Long prompt, short answer: input dominates.
    let long = req(json!({"model": "c", "max_tokens": 10,
        "messages": [{"role": "user", "content": "x".repeat(40_000)}]}));
    assert_eq!(pick(&gw, &long, &ctx, &mut rng), "gpt-4o-mini");
    // The built-in table prices gpt-4o-mini at 0.15/0.60: cheaper than both for any mix.
    let gw = gateway(json!({"c": {"strategy": "lowest_cost", "targets": [
        {"provider": "a", "model": "cheap_out", "price": {"input": 10.0, "output": 1.0}},
        {"provider": "b", "model": "cheap_in", "price": {"input": 1.0, "output": 10.0}}
    ]}}));
    assert_eq!(pick(&gw, &long, &ctx, &mut rng), "cheap_in");
    let short = req(json!({"model": "c", "max_tokens": 4000,
        "messages": [{"role": "user", "content": "hi"}]}));
    assert_eq!(pick(&gw, &short, &ctx, &mut rng), "cheap_out");
}

#[test]
fn lowest_cost_reads_the_catalogue_per_provider_and_config_pricing() {
    // The same model id at two providers: the config's `pricing:` makes `b`'s copy cheaper
    // than the catalogue's price for `a`'s; an unpriced id becomes routable through it.
    let gw = Gateway::from_value(json!({
        "providers": {
            "a": {"kind": "openai", "base_url": "http://127.0.0.1:9/v1", "api_key": "k"},
            "b": {"kind": "openai", "base_url": "http://127.0.0.1:8/v1", "api_key": "k"}
        },
        "pricing": {
            "b": {"gpt-4o": {"input": "0.01", "output": "0.02"}},
            "a": {"house": {"input": "1", "output": "1"}}
        },
        "routes": {"c": {"strategy": "lowest_cost", "targets": [
            {"provider": "a", "model": "gpt-4o"},
            {"provider": "b", "model": "gpt-4o"},
            {"provider": "a", "model": "house"}
        ]}}
    }))
    .expect("valid config");
    let rt = route(&gw, "c");
    let prices: Vec<_> = rt.slots.iter().map(|s| s.price).collect();
    assert_eq!(
        prices,
        vec![
            Some(Price {
                input: 2.5,
                output: 10.0
            }),
            Some(Price {
                input: 0.01,
                output: 0.02
            }),
            Some(Price {
                input: 1.0,
                output: 1.0
            }),
        ]
    );
    let mut rng = Rng::seeded(3);
    let (_, p) = gw
        .router()
        .decide(
            "c",
            &RequestContext::new(),
            &Features::of(&simple("c")),
            &mut rng,
        )
        .expect("decision");
    assert!(matches!(p, Pick::Target(1)), "{p:?}");
}

#[test]
fn lowest_cost_without_a_price_is_a_config_error_naming_the_target() {
    let err = Gateway::from_value(json!({
        "providers": {"a": {"kind": "openai", "base_url": "http://127.0.0.1:9/v1", "api_key": "k"}},
        "routes": {"c": {"strategy": "lowest_cost", "targets": [
            {"provider": "a", "model": "gpt-4o"},
            {"provider": "a", "model": "my-finetune"}
        ]}}
    }))
    .expect_err("must fail");
    assert_eq!(err.kind, ErrorKind::Config);
    assert_eq!(err.param.as_deref(), Some("routes.c.targets[1].price"));
    assert!(err.message.contains("a/my-finetune"), "{}", err.message);
}

#[test]
fn least_busy_avoids_targets_with_requests_in_flight() {
    let gw = gateway(json!({"l": {"strategy": "least_busy", "targets": [
        {"provider": "a", "model": "m1"},
        {"provider": "a", "model": "m2"},
        {"provider": "b", "model": "m3"}
    ]}}));
    let rt = route(&gw, "l");
    let now = gw.router().clock().now_ms();
    let _busy: Vec<_> = (0..3)
        .map(|_| {
            rt.slots[0]
                .target
                .health
                .acquire(now, false)
                .expect("lease")
        })
        .chain((0..1).map(|_| {
            rt.slots[2]
                .target
                .health
                .acquire(now, false)
                .expect("lease")
        }))
        .collect();
    let (r, ctx) = (simple("l"), RequestContext::new());
    let mut rng = Rng::seeded(5);
    for _ in 0..50 {
        assert_eq!(pick(&gw, &r, &ctx, &mut rng), "m2");
    }
    drop(_busy);
    // Ties are broken at random, so every idle target gets traffic.
    let mut seen = std::collections::HashSet::new();
    for _ in 0..200 {
        seen.insert(pick(&gw, &r, &ctx, &mut rng));
    }
    assert_eq!(seen.len(), 3);
}

#[test]
fn usage_based_prefers_headroom_and_skips_targets_at_their_limit() {
    let gw = gateway(json!({"u": {"strategy": "usage_based", "targets": [
        {"provider": "a", "model": "small", "rpm": 10},
        {"provider": "b", "model": "big", "rpm": 100}
    ]}}));
    let rt = route(&gw, "u");
    let now = gw.router().clock().now_ms();
    // 5 of 10 used (50% left) vs 20 of 100 (80% left): `big` has more headroom.
    for _ in 0..5 {
        drop(rt.slots[0].target.health.acquire(now, false));
    }
    for _ in 0..20 {
        drop(rt.slots[1].target.health.acquire(now, false));
    }
    let (r, ctx) = (simple("u"), RequestContext::new());
    let mut rng = Rng::seeded(2);
    assert_eq!(pick(&gw, &r, &ctx, &mut rng), "big");
    // 90 of 100 (10% left) vs 5 of 10 (50%): now `small`.
    for _ in 0..70 {
        drop(rt.slots[1].target.health.acquire(now, false));
    }
    assert_eq!(pick(&gw, &r, &ctx, &mut rng), "small");
    // `small` at its limit is never picked.
    for _ in 0..5 {
        drop(rt.slots[0].target.health.acquire(now, false));
    }
    assert_eq!(pick(&gw, &r, &ctx, &mut rng), "big");
}

#[test]
fn capability_filters_skip_targets_and_name_what_failed() {
    let gw = gateway(json!({"cap": {"targets": [
        {"provider": "a", "model": "text-only", "capabilities": [], "context_window": 100000},
        {"provider": "b", "model": "tools-small", "capabilities": ["tools"], "context_window": 1000},
        {"provider": "a", "model": "full", "capabilities": ["tools", "vision", "json_schema"], "context_window": 8000}
    ]}}));
    let ctx = RequestContext::new();
    let mut rng = Rng::seeded(1);
    let tool = |text: &str| {
        req(
            json!({"model": "cap", "messages": [{"role": "user", "content": text}],
            "tools": [{"type": "function", "function": {"name": "f"}}]}),
        )
    };
    assert_eq!(pick(&gw, &tool("hi"), &ctx, &mut rng), "tools-small");
    // ~2500 tokens: too long for tools-small, fits full.
    assert_eq!(
        pick(&gw, &tool(&"y".repeat(10_000)), &ctx, &mut rng),
        "full"
    );
    // ~25000 tokens with tools: nothing fits.
    let r = tool(&"y".repeat(100_000));
    let sel = gw
        .router()
        .select("cap", &ctx, &Features::of(&r))
        .expect("route");
    let f = Features::of(&r);
    assert_eq!(sel.route.plan(f).next(1, &mut rng), Pick::NoFit);
    let err = sel.route.no_fit_error(&f);
    assert_eq!(err.kind, ErrorKind::BadRequest);
    assert_eq!(err.param.as_deref(), Some("tools"));
    assert!(
        err.message.contains("`a/text-only` lacks tools"),
        "{}",
        err.message
    );
    assert!(
        err.message
            .contains("`b/tools-small` has a 1000-token context window"),
        "{}",
        err.message
    );
    // Only the window failing: context_window_exceeded.
    let long = req(json!({"model": "cap", "max_tokens": 200000,
        "messages": [{"role": "user", "content": "hi"}]}));
    let err = sel.route.no_fit_error(&Features::of(&long));
    assert_eq!(err.kind, ErrorKind::ContextWindowExceeded);
    assert_eq!(err.param.as_deref(), Some("max_tokens"));
}

#[test]
fn rules_route_by_tier_tags_metadata_and_request_features() {
    let gw = Gateway::from_value(json!({
        "providers": {"a": {"kind": "openai", "base_url": "http://127.0.0.1:9/v1", "api_key": "k"}},
        "models": {
            "small": {"provider": "a", "model": "small-m"},
            "big": {"provider": "a", "model": "big-m"},
            "eu": {"provider": "a", "model": "eu-m"},
            "json": {"provider": "a", "model": "json-m"}
        },
        "routes": {"front": {
            "rules": [
                {"when": {"metadata": {"region": ["eu", "ch"]}}, "route": "eu"},
                {"when": {"tier": "free", "prompt_tokens_below": 1000}, "route": "small"},
                {"when": {"tags": ["summarize", "code"]}, "route": "big"},
                {"when": {"json": true}, "route": "json"},
                {"when": {"has_tools": true}, "route": "big"}
            ],
            "default": "small"
        }}
    }))
    .expect("config");
    let mut rng = Rng::seeded(1);
    let ctx = |v: Value| -> RequestContext { from_json_value(v).expect("context") };
    let r = simple("front");
    assert_eq!(
        pick(&gw, &r, &ctx(json!({"tier": "free"})), &mut rng),
        "small-m"
    );
    assert_eq!(
        pick(
            &gw,
            &r,
            &ctx(json!({"tier": "pro", "tags": ["code"]})),
            &mut rng
        ),
        "big-m"
    );
    assert_eq!(
        pick(
            &gw,
            &r,
            &ctx(json!({"tier": "free", "metadata": {"region": "ch"}})),
            &mut rng
        ),
        "eu-m"
    );
    let json_req = req(
        json!({"model": "front", "messages": [{"role": "user", "content": "x"}],
        "response_format": {"type": "json_object"}}),
    );
    assert_eq!(
        pick(&gw, &json_req, &ctx(json!({"tier": "pro"})), &mut rng),
        "json-m"
    );
    assert_eq!(
        pick(&gw, &r, &ctx(json!({"tier": "pro"})), &mut rng),
        "small-m"
    );
    let sel = gw
        .router()
        .select(
            "front",
            &ctx(json!({"tags": ["summarize"]})),
            &Features::of(&r),
        )
        .expect("select");
    assert_eq!(sel.route.name, "big");
    assert_eq!(sel.via, ["front"]);
}

#[test]
fn the_auto_route_sends_simple_prompts_small_and_demanding_ones_large() {
    let gw = Gateway::from_value(json!({
        "providers": {"a": {"kind": "openai", "base_url": "http://127.0.0.1:9/v1", "api_key": "k"}},
        "models": {
            "mini": {"provider": "a", "model": "mini-m"},
            "max": {"provider": "a", "model": "max-m"}
        },
        "auto": {"small": "mini", "large": "max", "long_prompt_tokens": 500}
    }))
    .expect("config");
    let mut rng = Rng::seeded(1);
    let ctx = RequestContext::new();
    let msg = |text: String, extra: Value| {
        let mut v = json!({"model": "auto", "messages": [{"role": "user", "content": text}]});
        if let (Value::Object(m), Value::Object(e)) = (&mut v, extra) {
            m.extend(e);
        }
        req(v)
    };
    assert_eq!(
        pick(&gw, &msg("hi".into(), json!({})), &ctx, &mut rng),
        "mini-m"
    );
    assert_eq!(
        pick(&gw, &msg("x".repeat(4000), json!({})), &ctx, &mut rng),
        "max-m"
    );
    assert_eq!(
        pick(
            &gw,
            &msg("hi".into(), json!({"reasoning_effort": "high"})),
            &ctx,
            &mut rng
        ),
        "max-m"
    );
    assert_eq!(
        pick(
            &gw,
            &msg(
                "hi".into(),
                json!({"tools": [{"type": "function", "function": {"name": "f"}}]})
            ),
            &ctx,
            &mut rng
        ),
        "max-m"
    );
    let coder: RequestContext = from_json_value(json!({"tags": ["code"]})).expect("ctx");
    assert_eq!(
        pick(&gw, &msg("hi".into(), json!({})), &coder, &mut rng),
        "max-m"
    );
}

#[test]
fn config_errors_name_the_path_and_suggest() {
    let base = |routes: Value| {
        Gateway::from_value(json!({
            "providers": {"oai": {"kind": "openai", "base_url": "http://127.0.0.1:9/v1", "api_key": "k"}},
            "models": {"gpt": {"provider": "oai", "model": "g"}},
            "routes": routes
        }))
        .expect_err("must fail")
    };
    let e = base(
        json!({"r": {"strategy": "wieghted", "targets": [{"provider": "oai", "model": "x"}]}}),
    );
    assert_eq!(e.param.as_deref(), Some("routes.r.strategy"));
    assert!(
        e.message.contains("did you mean `weighted`"),
        "{}",
        e.message
    );
    let e = base(json!({"r": {"targets": [{"provider": "oia", "model": "x"}]}}));
    assert_eq!(e.param.as_deref(), Some("routes.r.targets[0].provider"));
    assert!(e.message.contains("did you mean `oai`"), "{}", e.message);
    let e = base(json!({"r": {"targets": [{"provider": "oai", "model": "x"}],
        "fallbacks": [{"on": ["context_window_exceded"], "to": "gpt"}]}}));
    assert_eq!(e.param.as_deref(), Some("routes.r.fallbacks[0].on[0]"));
    assert!(
        e.message.contains("did you mean `context_window_exceeded`"),
        "{}",
        e.message
    );
    let e = base(json!({"r": {"targets": [{"provider": "oai", "model": "x"}],
        "fallbacks": [{"to": "gtp"}]}}));
    assert_eq!(e.param.as_deref(), Some("routes.r.fallbacks[0].to[0]"));
    assert!(e.message.contains("did you mean `gpt`"), "{}", e.message);
    let e = base(
        json!({"r": {"rules": [{"when": {"tier": "x"}, "route": "s"}], "default": "s"},
        "s": {"rules": [{"route": "r"}], "default": "gpt"}}),
    );
    assert!(e.message.contains("loop"), "{}", e.message);
    let e = base(json!({"gpt": {"targets": [{"provider": "oai", "model": "x"}]}}));
    assert_eq!(e.param.as_deref(), Some("routes.gpt"));
    let e = base(json!({"r": {"rules": [{"when": {"tier": "x"}, "route": "gpt"}]}}));
    assert_eq!(e.param.as_deref(), Some("routes.r.default"));
    let e = base(json!({"r": {"targets": [{"provider": "oai", "model": "x"}],
        "cooldown": {"failurs": 2}}}));
    assert!(
        e.message.contains("did you mean `failures`"),
        "{}",
        e.message
    );
    let e = base(json!({"r": {"targets": [{"provider": "oai", "model": "x"}],
        "hedge": {"after": "p200"}}}));
    assert!(e.message.contains("invalid hedge delay"), "{}", e.message);
}

#[test]
fn lowest_cost_on_a_large_route_matches_a_brute_force_minimum() {
    let mut rng = Rng::seeded(77);
    let targets: Vec<Value> = (0..1000)
        .map(|i| {
            json!({"provider": "a", "model": format!("m{i}"),
                "price": {"input": (rng.below(5000) as f64) / 100.0, "output": (rng.below(9000) as f64) / 100.0}})
        })
        .collect();
    let gw = gateway(json!({"c": {"strategy": "lowest_cost", "targets": targets}}));
    let rt = route(&gw, "c");
    let now = gw.router().clock().now_ms();
    for s in rt.slots.iter().step_by(3) {
        s.health.trip(
            now,
            std::time::Duration::from_secs(60),
            ErrorKind::Unavailable,
        );
    }
    let ctx = RequestContext::new();
    for (prompt_chars, max_tokens) in [
        (10, 1),
        (100, 5000),
        (40_000, 10),
        (4_000, 4_000),
        (0, 100_000),
    ] {
        let r = req(json!({"model": "c", "max_tokens": max_tokens,
            "messages": [{"role": "user", "content": "z".repeat(prompt_chars)}]}));
        let f = Features::of(&r);
        let (p, c) = (f.prompt_tokens, f.completion_estimate());
        let brute = rt
            .slots
            .iter()
            .enumerate()
            .filter(|(i, _)| i % 3 != 0)
            .map(|(_, s)| s.price.expect("priced").cost(p, c))
            .fold(f64::INFINITY, f64::min);
        let (_, pick) = gw
            .router()
            .decide("c", &ctx, &f, &mut rng)
            .expect("decision");
        let Pick::Target(i) = pick else {
            panic!("no pick")
        };
        assert_ne!(i % 3, 0, "a resting target was picked");
        assert_eq!(rt.slots[i].price.expect("priced").cost(p, c), brute);
    }
}

#[test]
fn least_busy_on_a_large_route_samples_and_avoids_busy_targets() {
    let targets: Vec<Value> = (0..1000)
        .map(|i| json!({"provider": "a", "model": format!("m{i}")}))
        .collect();
    let gw = gateway(json!({"l": {"strategy": "least_busy", "targets": targets}}));
    let rt = route(&gw, "l");
    let now = gw.router().clock().now_ms();
    // 900 targets have a request in flight; 100 are idle.
    let _busy: Vec<_> = rt
        .slots
        .iter()
        .take(900)
        .map(|s| s.health.acquire(now, false).expect("lease"))
        .collect();
    let (r, ctx) = (simple("l"), RequestContext::new());
    let mut rng = Rng::seeded(11);
    let mut idle = 0;
    for _ in 0..1000 {
        let m = pick(&gw, &r, &ctx, &mut rng);
        if m[1..].parse::<usize>().expect("index") >= 900 {
            idle += 1;
        }
    }
    // Best of 32 random targets misses all 100 idle ones with probability 0.9^32 = 3.4%.
    assert!(idle >= 930, "{idle} of 1000 picks went to idle targets");
}
