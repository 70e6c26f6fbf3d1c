'use strict'
// Keys, the audit log, reload, rate limits and budgets through the public Node API.

const test = require('node:test')
const assert = require('node:assert/strict')
const {
  Gateway,
  AuthenticationError,
  BadRequestError,
  BudgetExceededError,
  ConfigError,
  NotFoundError,
  RateLimitError,
  RateLimitExceededError,
} = require('..')
const { startMock } = require('./helpers/mock')

let mock
test.before(async () => {
  mock = await startMock()
})
test.after(() => mock.stop())

/** One openai provider on the mock, serving `gpt` as `model`, plus the policy sections. */
function config(policy = {}, { apiKey = 'sk-provider-a', model = 'gpt-4o-mini' } = {}) {
  return {
    providers: { oai: { kind: 'openai', base_url: `${mock.url}/v1`, api_key: apiKey } },
    models: { gpt: { provider: 'oai', model } },
    defaults: { timeouts: { total: 10 } },
    ...policy,
  }
}

const hello = (extra = {}) => ({ model: 'gpt', messages: [{ role: 'user', content: 'hello there' }], ...extra })

test('keys: create, list, get, update, revoke; a revoked key is refused; audit names the actors', async () => {
  const gw = new Gateway({ config: config({ virtual_keys: { required: true } }) })
  const created = await gw.keys.create(
    {
      key: 'sk-node-test-key-000000001',
      name: 'search',
      user: 'svc-search',
      team: 'search',
      models: ['gpt'],
      limits: { rpm: 100 },
      metadata: { owner: 'ana' },
    },
    { actor: 'admin@example.com' },
  )
  assert.equal(created.key, 'sk-node-test-key-000000001')
  assert.match(created.id, /^key-[0-9a-f]{16}$/)
  assert.equal(created.source, 'api')
  assert.equal(created.revoked, false)
  assert.equal(created.revision, 1)
  assert.equal(created.created_by, 'admin@example.com')
  assert.deepEqual(created.models, ['gpt'])
  assert.deepEqual(created.limits, { rpm: 100 })
  assert.deepEqual(created.metadata, { owner: 'ana' })

  // A generated key when none is given, with the default actor.
  const generated = await gw.keys.create({ name: 'batch' })
  assert.match(generated.key, /^sk-sp-[0-9a-f]{48}$/)
  assert.equal(generated.created_by, 'api')

  const listed = await gw.keys.list()
  assert.deepEqual(listed.map((k) => k.id).sort(), [created.id, generated.id].sort())
  for (const k of listed) assert.equal('key' in k, false, 'a listed key never carries its value')
  assert.doesNotMatch(JSON.stringify(listed), /sk-node-test-key|sk-sp-/)

  const got = await gw.keys.get(created.id)
  assert.equal(got.name, 'search')
  assert.equal('key' in got, false)

  // The key works; it identifies the caller.
  const ok = await gw.chat.completions.create(hello({ apiKey: created.key }))
  assert.equal(ok.choices[0].message.content, 'hello there')

  const updated = await gw.keys.update(created.id, { team: 'research', metadata: null }, { actor: 'bob' })
  assert.equal(updated.revision, 2)
  assert.equal(updated.team, 'research')
  assert.equal(updated.metadata, undefined)

  const revoked = await gw.keys.revoke(created.id, { actor: 'carol' })
  assert.equal(revoked.revoked, true)
  assert.equal(revoked.revision, 3)
  await assert.rejects(gw.chat.completions.create(hello({ apiKey: created.key })), (e) => {
    assert.ok(e instanceof AuthenticationError)
    assert.equal(e.kind, 'auth')
    assert.equal(e.code, 'key_revoked')
    assert.equal(e.status, 401)
    return true
  })
  // The other key still works.
  await gw.chat.completions.create(hello({ apiKey: generated.key }))

  const audit = await gw.audit()
  assert.deepEqual(
    audit.map((r) => [r.action, r.actor, r.target]),
    [
      ['key_created', 'admin@example.com', created.id],
      ['key_created', 'api', generated.id],
      ['key_updated', 'bob', created.id],
      ['key_revoked', 'carol', created.id],
    ],
  )
  assert.deepEqual(audit[2].details, { team: 'research', metadata: null })
  assert.doesNotMatch(JSON.stringify(audit), /sk-node-test-key|sk-sp-/)
  for (const r of audit) assert.equal(typeof r.at_ms, 'number')
  // `since` as a Date or Unix ms: nothing after the future, everything since the first.
  assert.deepEqual(await gw.audit(new Date(Date.now() + 60_000)), [])
  assert.equal((await gw.audit(audit[1].at_ms)).length >= 3, true)
})

test('keys: errors are typed and name the field', async () => {
  const gw = new Gateway({ config: config({ virtual_keys: { keys: [{ key: 'sk-config-key-0000000001', name: 'cfg' }] } }) })
  await assert.rejects(gw.keys.get('key-0000000000000000'), NotFoundError)
  await assert.rejects(gw.keys.create({ nme: 'typo' }), (e) => {
    assert.ok(e instanceof BadRequestError)
    assert.equal(e.param, 'nme')
    assert.match(e.message, /unknown field `nme`/)
    return true
  })
  await assert.rejects(gw.keys.create({ budgets: [{ period: 'fortnight', limit_usd: 1 }] }), BadRequestError)
  await assert.rejects(gw.keys.create([]), (e) => e instanceof BadRequestError && e.param === 'spec')
  await assert.rejects(gw.keys.create({}, { actr: 'x' }), (e) => e instanceof BadRequestError && e.param === 'actr')
  await assert.rejects(gw.keys.get(42), (e) => e instanceof BadRequestError && e.param === 'id')
  await assert.rejects(gw.audit('yesterday'), (e) => e instanceof BadRequestError && e.param === 'since')
  // Config keys change only by reloading config.
  const [cfgKey] = await gw.keys.list()
  assert.equal(cfgKey.source, 'config')
  assert.equal(cfgKey.name, 'cfg')
  await assert.rejects(gw.keys.revoke(cfgKey.id), (e) => e instanceof BadRequestError && e.param === 'id')
})

test('keys: expires_at takes a Date', async () => {
  const gw = new Gateway({ config: config({ virtual_keys: { required: true } }) })
  const at = new Date(Date.now() + 3_600_000)
  const k = await gw.keys.create({ expires_at: at })
  assert.equal(k.expires_at_ms, at.getTime())
  const past = await gw.keys.create({ expires_at: new Date(Date.now() - 1000) })
  await assert.rejects(gw.chat.completions.create(hello({ apiKey: past.key })), (e) => {
    assert.ok(e instanceof AuthenticationError)
    assert.equal(e.code, 'key_expired')
    return true
  })
})

test('reload swaps the provider key and model while calls continue, none failing', async () => {
  const gw = new Gateway({ config: config() })
  await mock.clearLog()
  let stop = false
  let done = 0
  const failures = []
  const worker = async () => {
    while (!stop) {
      try {
        const r = await gw.chat.completions.create(hello())
        assert.equal(r.choices[0].message.content, 'hello there')
        done++
      } catch (e) {
        failures.push(e)
      }
    }
  }
  const workers = Array.from({ length: 8 }, worker)
  while (done < 50) await new Promise((r) => setTimeout(r, 5))
  await gw.reload(config({}, { apiKey: 'sk-provider-b', model: 'gpt-4o' }), { actor: 'deployer' })
  const atReload = done
  while (done < atReload + 50) await new Promise((r) => setTimeout(r, 5))
  stop = true
  await Promise.all(workers)
  assert.deepEqual(failures, [])
  // Both configs served calls during the run, each model with its own provider key.
  const seen = new Set((await mock.log()).map((e) => `${e.model} ${e.headers.authorization}`))
  assert.deepEqual([...seen].sort(), ['gpt-4o Bearer sk-provider-b', 'gpt-4o-mini Bearer sk-provider-a'])

  // Calls made after reload() resolved reach the new model with the new key.
  await mock.clearLog()
  await gw.chat.completions.create(hello())
  const [entry] = await mock.log()
  assert.equal(entry.model, 'gpt-4o')
  assert.equal(entry.headers.authorization, 'Bearer sk-provider-b')

  // The reload is audited.
  const audit = await gw.audit()
  assert.deepEqual(
    audit.map((r) => [r.action, r.actor]),
    [['config_reloaded', 'deployer']],
  )
})

test('reload: a bad config is refused with ConfigError and the old config stays', async () => {
  const gw = new Gateway({ config: config() })
  await assert.rejects(gw.reload({ providers: { oai: { kind: 'nope' } } }), ConfigError)
  await assert.rejects(gw.reload('providers: [1, 2'), ConfigError)
  await assert.rejects(gw.reload(42), ConfigError)
  await assert.rejects(gw.reload(config(), { actor: 7 }), BadRequestError)
  const r = await gw.chat.completions.create(hello())
  assert.equal(r.choices[0].message.content, 'hello there')
  // YAML text works as well.
  await gw.reload(`providers:\n  oai: { kind: openai, base_url: "${mock.url}/v1", api_key: sk-yaml }\nmodels:\n  gpt: { provider: oai, model: yaml-model }\n`)
  await mock.clearLog()
  await gw.chat.completions.create(hello())
  assert.equal((await mock.log())[0].model, 'yaml-model')
})

test('a rate-limit refusal is a RateLimitExceededError with retryAfter', async () => {
  const gw = new Gateway({ config: config({ limits: [{ scope: 'user', rpm: 2 }] }) })
  await gw.chat.completions.create(hello({ user: 'u1' }))
  await gw.chat.completions.create(hello({ user: 'u1' }))
  await mock.clearLog()
  await assert.rejects(gw.chat.completions.create(hello({ user: 'u1' })), (e) => {
    assert.ok(e instanceof RateLimitExceededError)
    assert.ok(e instanceof RateLimitError, 'a subclass of RateLimitError, as in openai')
    assert.equal(e.kind, 'rate_limit_exceeded')
    assert.equal(e.code, 'rpm')
    assert.equal(e.status, 429)
    assert.equal(typeof e.retryAfter, 'number')
    assert.ok(e.retryAfter > 0 && e.retryAfter <= 60, `retryAfter ${e.retryAfter}`)
    return true
  })
  assert.deepEqual(await mock.log(), [], 'refused before any provider')
  // Another user has their own window.
  await gw.chat.completions.create(hello({ user: 'u2' }))
})

test('a budget refusal is a BudgetExceededError with retryAfter', async () => {
  const gw = new Gateway({
    config: config({
      // $0.001 per token: a 100-token output cap alone is worth $0.10 of worst case.
      pricing: { oai: { 'gpt-4o-mini': { input: '1000', output: '1000', max_output: 1000 } } },
      budgets: [{ scope: 'user', period: 'day', limit_usd: '0.05' }],
    }),
  })
  const fits = await gw.chat.completions.create(hello({ user: 'u1', max_tokens: 5 }))
  // 2 prompt and 2 completion words at $0.001 each.
  assert.equal(fits.switchpoint.cost.usd, '0.004')
  await assert.rejects(gw.chat.completions.create(hello({ user: 'u1', max_tokens: 100 })), (e) => {
    assert.ok(e instanceof BudgetExceededError)
    assert.equal(e.kind, 'budget_exceeded')
    assert.equal(e.code, 'budget_day')
    assert.equal(e.status, 429)
    assert.equal(typeof e.retryAfter, 'number')
    assert.ok(e.retryAfter > 0, `retryAfter ${e.retryAfter}`)
    return true
  })
})

test(
  "a budget refusal's retryAfter is the end of the period (the next UTC midnight for a day)",
  async () => {
    const gw = new Gateway({
      config: config({
        pricing: { oai: { 'gpt-4o-mini': { input: '1000', output: '1000', max_output: 1000 } } },
        budgets: [{ scope: 'gateway', period: 'day', limit_usd: '0' }],
      }),
    })
    await assert.rejects(gw.chat.completions.create(hello()), (e) => {
      assert.ok(e instanceof BudgetExceededError)
      const toMidnight = (new Date().setUTCHours(24, 0, 0, 0) - Date.now()) / 1000
      assert.ok(Math.abs(e.retryAfter - toMidnight) < 5, `retryAfter ${e.retryAfter} s, the day ends in ${toMidnight} s`)
      return true
    })
  },
)
