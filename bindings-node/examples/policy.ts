// Virtual keys, budgets, rate limits, guardrails, reload and the audit log, typed with the package's
// declarations (`tsc --strict --noEmit` checks it; tests/typescript.test.js). Run it (after
// tsc) against http://127.0.0.1:8080/v1, or with OPENAI_BASE_URL pointing at another
// OpenAI-compatible server.
import { AuthenticationError, BudgetExceededError, Gateway, PolicyDeniedError, RateLimitExceededError } from 'switchpoint'
import type {
  AdminOptions,
  AuditAction,
  AuditRecord,
  BlockedPattern,
  BudgetConfig,
  BudgetPeriod,
  CreatedKey,
  GatewayConfig,
  Guardrail,
  GuardrailAction,
  GuardrailEvent,
  GuardrailsConfig,
  GuardrailStage,
  GuardrailVerdict,
  KeyBudget,
  KeyBudgetInfo,
  KeyInfo,
  KeyPatch,
  KeySettings,
  LimitConfig,
  LimitValues,
  PiiConfig,
  PiiKind,
  PolicyScope,
  StateConfig,
  VirtualKeyConfig,
  VirtualKeysConfig,
} from 'switchpoint'

const baseUrl = process.env.OPENAI_BASE_URL ?? 'http://127.0.0.1:8080/v1'
// Memory is the default; `{ backend: 'redis', redis: { url: 'env:REDIS_URL' } }` shares
// keys, counters and budgets between processes.
const state: StateConfig = { backend: 'memory', on_unavailable: 'closed' }
const appKey: VirtualKeyConfig = { key: 'env:APP_KEY', name: 'app', team: 'search', models: ['gpt*'] }
const virtualKeys: VirtualKeysConfig = { required: true, keys: process.env.APP_KEY ? [appKey] : [] }
const scope: PolicyScope = 'team'
const month: BudgetPeriod = 'month'
const teamBudget: BudgetConfig = { scope, id: 'search', period: month, limit_usd: '500', soft_limit_usd: 400 }
const perKey: LimitConfig = { scope: 'key', rpm: 60, tpm: 100_000, in_flight: 8 }
const both: GuardrailStage[] = ['input', 'output']
const block: GuardrailAction = 'block'
const codename: BlockedPattern = { name: 'codename', pattern: '(?i)project\\s+falcon', mode: block, on: both }
const kinds: PiiKind[] = ['email', 'card', 'api_key']
const pii: PiiConfig = { mode: 'redact', kinds, overrides: { card: 'block' } }
const guardrails: GuardrailsConfig = { max_prompt_chars: 20_000, blocked_patterns: [codename], pii }

function config(model: string): GatewayConfig {
  return {
    providers: { oai: { kind: 'openai', base_url: baseUrl, api_key: 'env:OPENAI_API_KEY' } },
    models: { gpt: { provider: 'oai', model } },
    state,
    virtual_keys: virtualKeys,
    budgets: [teamBudget],
    limits: [perKey],
    guardrails,
  }
}

// A guardrail in JS: sees each request's messages and each answer's text.
const noLaunchCodes: Guardrail = async (event: GuardrailEvent): Promise<GuardrailVerdict> => {
  if (event.stage === 'input') {
    if (JSON.stringify(event.messages).includes('launch codes')) return { action: 'deny', reason: 'no launch codes' }
    return null
  }
  const content = event.content ?? ''
  return content.includes('Heron') ? { action: 'rewrite', content: content.replaceAll('Heron', 'the project') } : true
}

async function main(): Promise<void> {
  const gw = new Gateway({ config: config('gpt-4o-mini') })
  const ops: AdminOptions = { actor: 'ops@example.com' }
  const guard = gw.addGuardrail(noLaunchCodes)

  const daily: KeyBudget = { period: 'day', limit_usd: 5 }
  const limits: LimitValues = { rpm: 30 }
  const settings: KeySettings = {
    name: 'batch-jobs',
    user: 'svc-batch',
    team: 'search',
    models: ['gpt'],
    budgets: [daily],
    limits,
    expires_at: new Date(Date.now() + 7 * 86_400_000),
    metadata: { owner: 'ana' },
  }
  const created: CreatedKey = await gw.keys.create(settings, ops)
  console.log('hand this to the app once:', created.key, 'id', created.id)

  const all: KeyInfo[] = await gw.keys.list()
  for (const k of all) {
    const budgets: KeyBudgetInfo[] = k.budgets ?? []
    console.log(k.id, k.source, k.revoked, budgets.map((b) => `${b.limit_usd}/${b.period}`).join(', '))
  }
  const patch: KeyPatch = { limits: { rpm: 120 }, metadata: null }
  const updated: KeyInfo = await gw.keys.update(created.id, patch, ops)
  console.log('revision', updated.revision, (await gw.keys.get(created.id)).limits?.rpm)

  try {
    await gw.chat.completions.create({ model: 'gpt', messages: [{ role: 'user', content: 'hi' }], apiKey: created.key })
  } catch (err) {
    if (err instanceof RateLimitExceededError) console.log('slow down for', err.retryAfter, 's')
    else if (err instanceof BudgetExceededError) console.log('budget', err.code, 'resets in', err.retryAfter, 's')
    else if (err instanceof AuthenticationError) console.log('key refused:', err.code)
    else if (err instanceof PolicyDeniedError) console.log('guardrail:', err.code, err.message)
    else throw err
  }

  await gw.keys.revoke(created.id, ops)
  gw.removeGuardrail(guard)
  // A new model, keys, budgets and limits at once; calls in flight finish on the old config.
  await gw.reload(config('gpt-4o'), ops)

  const since = new Date(Date.now() - 3_600_000)
  const log: AuditRecord[] = await gw.audit(since)
  const changes: AuditAction[] = log.map((r) => r.action)
  console.log(changes.join(', '), log.map((r) => `${r.actor} ${r.target ?? ''} ${JSON.stringify(r.details ?? null)}`))
}

main().catch((err: unknown) => {
  console.error(err)
  process.exitCode = 1
})
