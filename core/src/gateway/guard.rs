//! Guardrails in the pipeline: input checks and host hooks after admission (stage 1),
//! output checks and hooks on the answer before it is returned (stage 5).

use super::{Engine, Gateway, RequestContext};
use crate::api::{ChatRequest, ChatResponse, Error};
use crate::policy::guardrails::{
    run_hooks_input, run_hooks_response, Action, Finding, GuardrailHook, HookCaller,
};
use crate::telemetry::Caller;
use arc_swap::ArcSwap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Host guardrail callbacks, shared by every configuration a gateway runs (they outlive
/// reloads), read without a lock on every request.
#[derive(Default)]
pub(crate) struct HookSet {
    list: ArcSwap<Vec<(u64, Arc<dyn GuardrailHook>)>>,
    /// How many hooks there are: what every request reads (one relaxed load, no guard).
    count: std::sync::atomic::AtomicUsize,
    next: AtomicU64,
    /// Findings of flag and redact rules so far (metrics).
    pub findings: AtomicU64,
}

impl std::fmt::Debug for HookSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HookSet")
            .field("hooks", &self.list.load().len())
            .finish()
    }
}

impl HookSet {
    fn hooks(&self) -> Vec<Arc<dyn GuardrailHook>> {
        self.list.load().iter().map(|(_, h)| h.clone()).collect()
    }

    fn is_empty(&self) -> bool {
        self.count.load(Ordering::Relaxed) == 0
    }
}

impl Gateway {
    /// Adds a host guardrail: it sees every request's messages (and every non-streamed
    /// answer's text) and may allow, rewrite or deny. Hooks run in the order added.
    pub fn add_guardrail(&self, hook: Arc<dyn GuardrailHook>) -> u64 {
        let set = &self.live.hooks;
        let id = set.next.fetch_add(1, Ordering::Relaxed) + 1;
        set.list.rcu(|l| {
            let mut l = Vec::clone(l);
            l.push((id, hook.clone()));
            l
        });
        set.count.store(set.list.load().len(), Ordering::Relaxed);
        id
    }

    /// Removes a host guardrail; false if it was not there.
    pub fn remove_guardrail(&self, id: u64) -> bool {
        let set = &self.live.hooks;
        let mut found = false;
        set.list.rcu(|l| {
            let kept: Vec<_> = l.iter().filter(|(i, _)| *i != id).cloned().collect();
            found = kept.len() != l.len();
            kept
        });
        set.count.store(set.list.load().len(), Ordering::Relaxed);
        found
    }
}

impl Engine {
    /// Whether anything checks this request's input.
    pub(super) fn guards_input(&self) -> bool {
        !self.inner.config.guardrails.is_empty() || !self.inner.hooks.is_empty()
    }

    /// Whether anything checks answers.
    pub(super) fn guards_output(&self) -> bool {
        self.inner.config.guardrails.checks_output() || !self.inner.hooks.is_empty()
    }

    /// The output guardrails a stream checks at its end (host hooks see only non-streamed
    /// answers: a stream's text has reached the caller before they could decide).
    pub(super) fn output_guard(&self) -> Option<crate::policy::guardrails::Guardrails> {
        let g = &self.inner.config.guardrails;
        g.checks_output().then(|| g.clone())
    }

    /// The request as the guardrails leave it (redacted or rewritten), or why it is refused.
    pub(super) async fn guard_input(
        &self,
        req: &ChatRequest,
        ctx: &RequestContext,
        caller: &Caller,
    ) -> Result<ChatRequest, Error> {
        let mut r = req.clone();
        let findings = self.inner.config.guardrails.check_input(&mut r)?;
        self.note(&findings);
        let hooks = self.inner.hooks.hooks();
        if !hooks.is_empty() {
            run_hooks_input(&hooks, &mut r, &hook_caller(&req.model, ctx, caller)).await?;
        }
        Ok(r)
    }

    /// Checks (and redacts or rewrites) a non-streamed answer.
    pub(super) async fn guard_output(
        &self,
        model: &str,
        resp: &mut ChatResponse,
        ctx: &RequestContext,
        caller: &Caller,
    ) -> Result<(), Error> {
        let findings = self.inner.config.guardrails.check_output(resp)?;
        self.note(&findings);
        let hooks = self.inner.hooks.hooks();
        if !hooks.is_empty() {
            run_hooks_response(&hooks, resp, &hook_caller(model, ctx, caller)).await?;
        }
        Ok(())
    }

    /// Flagged and redacted findings: counted and logged (rule and place, never the text).
    fn note(&self, findings: &[Finding]) {
        for f in findings {
            self.inner.hooks.findings.fetch_add(1, Ordering::Relaxed);
            let action = match f.action {
                Action::Block => "block",
                Action::Redact => "redact",
                Action::Flag => "flag",
            };
            tracing::warn!(rule = %f.rule, action, location = %f.location, "guardrail finding");
        }
    }
}

/// Who is asking, as hooks see it (the key's id, never the key).
fn hook_caller(model: &str, ctx: &RequestContext, caller: &Caller) -> HookCaller {
    HookCaller {
        model: model.to_string(),
        user: caller.user.clone(),
        team: caller.team.clone(),
        key_id: caller.key_id.clone(),
        tier: caller.tier.clone(),
        tags: ctx.tags.clone(),
        metadata: ctx.metadata.clone(),
    }
}
