//! Stage 1 (policy): a request's key, limits and budgets, checked once its route is known
//! (a budget reserves the most the route's dearest target could charge).

use super::Engine;
use crate::api::{EmbeddingRequest, Error, Usage};
use crate::gateway::RequestContext;
use crate::policy::{Admitted, Request};
use crate::routing::{Features, Selected};
use rust_decimal::Decimal;

/// Output tokens assumed for a budget reservation when neither the request nor the model
/// catalogue gives a cap.
const DEFAULT_OUTPUT_CAP: u64 = 4096;

impl Engine {
    /// Admits a chat request under the policy in force.
    pub(super) async fn admit_policy(
        &self,
        model: &str,
        sel: &Selected,
        features: &Features,
        ctx: &RequestContext,
    ) -> Result<Admitted, Error> {
        let policy = &self.inner.policy;
        if !policy.is_active() {
            return Ok(Admitted::default());
        }
        let worst = || self.worst_cost(sel, features.prompt_tokens, features.max_output);
        // Boxed (only when a policy is on): the admission's state would otherwise make every
        // request's future larger, and futures are moved whole.
        Box::pin(policy.admit(Request {
            model,
            route: &sel.route.name,
            ctx,
            tokens: features.context_needed(),
            worst_cost: &worst,
        }))
        .await
    }

    /// Admits an embeddings request (its tokens are its inputs' estimate; no output).
    pub(super) async fn admit_embed(
        &self,
        req: &EmbeddingRequest,
        sel: &Selected,
        ctx: &RequestContext,
    ) -> Result<Admitted, Error> {
        let policy = &self.inner.policy;
        if !policy.is_active() {
            return Ok(Admitted::default());
        }
        let tokens = serde_json::to_string(&req.input)
            .map(|t| (t.len() as u64).div_ceil(4))
            .unwrap_or(0);
        let worst = || self.worst_cost(sel, tokens, Some(0));
        policy
            .admit(Request {
                model: &req.model,
                route: &sel.route.name,
                ctx,
                tokens,
                worst_cost: &worst,
            })
            .await
    }

    /// The most a request could cost on any of the route's targets: its prompt plus its
    /// output cap (the request's, else the model's, else a default) at each target's price.
    fn worst_cost(&self, sel: &Selected, prompt: u64, cap: Option<u64>) -> Decimal {
        let t = &self.inner.telemetry;
        sel.route
            .slots
            .iter()
            .filter_map(|slot| {
                let target = &slot.target;
                let names: Vec<&str> = match self.inner.pricing_names.get(&target.provider.name) {
                    Some(n) => n.iter().map(String::as_str).collect(),
                    None => vec![target.provider.name.as_str()],
                };
                let info = t.model_info(&names, &target.model)?;
                let out = cap.or(info.max_output).unwrap_or(DEFAULT_OUTPUT_CAP);
                t.cost(&names, &target.model, &Usage::new(prompt, out))
                    .map(|c| c.total)
            })
            .max()
            .unwrap_or(Decimal::ZERO)
    }
}
