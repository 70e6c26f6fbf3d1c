'use strict'
// Every error kind reaches JS as its class, with kind, status, provider, retryAfter, param, code.

const test = require('node:test')
const assert = require('node:assert/strict')
const sp = require('..')
const native = require('../native.js')
const { Gateway, SwitchpointError } = sp
const { startMock, mockConfig } = require('./helpers/mock')

let mock
let gw
test.before(async () => {
  mock = await startMock()
  gw = Gateway.fromConfig(mockConfig(mock.url))
})
test.after(() => mock.stop())
test.beforeEach(async () => {
  await mock.clearLog()
  await mock.clearScript()
})

const hi = (model = 'gpt', extra = {}) => ({ model, messages: [{ role: 'user', content: 'hi' }], ...extra })

/** Runs `call` with `faults` scripted; returns the error it rejected with. */
async function failure(faults, call) {
  if (faults) await mock.pushScript(faults)
  try {
    await call()
  } catch (e) {
    assert.ok(e instanceof SwitchpointError, `not a SwitchpointError: ${e}`)
    assert.ok(e instanceof Error)
    return e
  }
  assert.fail('expected the call to fail')
}

const chat = (body, options) => () => gw.chat.completions.create(body, options)

test('auth (401): AuthenticationError', async () => {
  const e = await failure(null, chat(hi('locked')))
  assert.equal(e.constructor, sp.AuthenticationError)
  assert.deepEqual([e.kind, e.status, e.provider, e.code], ['auth', 401, 'oai_badkey', 'invalid_api_key'])
  assert.equal(e.name, 'AuthenticationError')
})

test('permission_denied (403): PermissionDeniedError', async () => {
  const e = await failure([{ error: 'permission' }], chat(hi('sonnet', { max_tokens: 5 })))
  assert.equal(e.constructor, sp.PermissionDeniedError)
  assert.deepEqual([e.kind, e.status, e.provider, e.code], ['permission_denied', 403, 'claude', 'permission_error'])
})

test('not_found: unknown model (gateway) and 404 (provider)', async () => {
  const e1 = await failure(null, chat(hi('no-such-model')))
  assert.equal(e1.constructor, sp.NotFoundError)
  assert.deepEqual([e1.kind, e1.param, e1.status], ['not_found', 'model', undefined])
  const e2 = await failure([{ error: 'not_found' }], chat(hi('flash')))
  assert.equal(e2.constructor, sp.NotFoundError)
  assert.deepEqual([e2.status, e2.provider, e2.code], [404, 'gem', 'NOT_FOUND'])
})

test('rate_limited (429): RateLimitError with retryAfter in seconds', async () => {
  const e = await failure([{ status: 429, retry_after: 2 }], chat(hi()))
  assert.equal(e.constructor, sp.RateLimitError)
  assert.deepEqual([e.kind, e.status, e.provider, e.retryAfter], ['rate_limited', 429, 'oai', 2])
  const e2 = await failure([{ error: 'rate_limit', retry_after_ms: 1500 }], chat(hi()))
  assert.equal(e2.retryAfter, 1.5)
})

test('timeout: APIConnectionTimeoutError, a subclass of APIConnectionError', async () => {
  const e = await failure([{ delay_ms: 2000 }], chat(hi('gpt', { timeout: 0.2 })))
  assert.equal(e.constructor, sp.APIConnectionTimeoutError)
  assert.ok(e instanceof sp.APIConnectionError)
  assert.deepEqual([e.kind, e.provider], ['timeout', 'oai'])
})

test('connection: APIConnectionError for a reset and for a stream cut mid-way', async () => {
  const e = await failure([{ reset: true }], chat(hi()))
  assert.equal(e.constructor, sp.APIConnectionError)
  assert.deepEqual([e.kind, e.provider], ['connection', 'oai'])
  await mock.pushScript([{ cut_after: 3 }])
  const stream = await gw.chat.completions.create({ ...hi(), messages: [{ role: 'user', content: 'a b c d e f' }], stream: true })
  let chunks = 0
  const e2 = await failure(null, async () => {
    for await (const _ of stream) chunks++
  })
  assert.equal(e2.constructor, sp.APIConnectionError)
  assert.ok(chunks >= 2, `only ${chunks} chunks before the cut`)
  assert.equal(stream.switchpoint.attempts[0].status, 'error')
  assert.equal(stream.switchpoint.attempts[0].error, 'connection')
})

test('bad_request: BadRequestError from the provider and from validation', async () => {
  const e = await failure([{ error: 'bad_request' }], chat(hi()))
  assert.equal(e.constructor, sp.BadRequestError)
  assert.deepEqual([e.kind, e.status], ['bad_request', 400])
  const e2 = await failure(null, chat(hi('gpt', { temperature: 7 })))
  assert.equal(e2.constructor, sp.BadRequestError)
  assert.equal(e2.param, 'temperature')
})

test('context_window_exceeded: ContextWindowExceededError, a subclass of BadRequestError', async () => {
  const e = await failure([{ error: 'context_window' }], chat(hi()))
  assert.equal(e.constructor, sp.ContextWindowExceededError)
  assert.ok(e instanceof sp.BadRequestError)
  assert.deepEqual([e.kind, e.status, e.code], ['context_window_exceeded', 400, 'context_length_exceeded'])
})

test('content_filtered: ContentFilteredError', async () => {
  const e = await failure([{ error: 'content_filter' }], chat(hi('azure-gpt')))
  assert.equal(e.constructor, sp.ContentFilteredError)
  assert.deepEqual([e.kind, e.status, e.provider], ['content_filtered', 400, 'az'])
})

test('unavailable (5xx, overloaded): InternalServerError', async () => {
  const e = await failure([{ status: 503 }], chat(hi()))
  assert.equal(e.constructor, sp.InternalServerError)
  assert.deepEqual([e.kind, e.status], ['unavailable', 503])
  const e2 = await failure([{ error: 'overloaded' }], chat(hi('sonnet', { max_tokens: 5 })))
  assert.deepEqual([e2.constructor, e2.status], [sp.InternalServerError, 529])
})

test('invalid_response: InvalidResponseError', async () => {
  const e = await failure([{ malformed: true }], chat(hi()))
  assert.equal(e.constructor, sp.InvalidResponseError)
  assert.deepEqual([e.kind, e.provider], ['invalid_response', 'oai'])
})

test('config: ConfigError', () => {
  assert.throws(
    () => Gateway.fromConfig({ models: { m: { provider: 'nowhere' } } }),
    (e) => e.constructor === sp.ConfigError && e.kind === 'config' && typeof e.param === 'string',
  )
})

test('cancelled: an AbortSignal rejects with APIUserAbortError and closes the upstream', async () => {
  const ac = new AbortController()
  const p = gw.chat.completions.create(hi('oai/gpt-4o-mini!delay_ms=1000'), { signal: ac.signal })
  setTimeout(() => ac.abort(), 50)
  const t0 = Date.now()
  const e = await failure(null, () => p)
  assert.ok(Date.now() - t0 < 500, 'the abort did not end the call promptly')
  assert.equal(e.constructor, sp.APIUserAbortError)
  assert.equal(e.kind, 'cancelled')
  const log = await mock.waitForLog((l) => l[0]?.client_closed_early)
  assert.equal(log[0].client_closed_early, true)
  // Already aborted: rejected before anything is sent.
  const e2 = await failure(null, chat(hi(), { signal: AbortSignal.abort() }))
  assert.equal(e2.constructor, sp.APIUserAbortError)
  // Embeddings take a signal too.
  const ac3 = new AbortController()
  const p3 = gw.embeddings.create({ model: 'oai/text-embedding-3-small!delay_ms=1000', input: 'x' }, { signal: ac3.signal })
  ac3.abort()
  assert.equal((await failure(null, () => p3)).constructor, sp.APIUserAbortError)
})

test('internal: a panic in the sync or async part is InternalError with code panic', async () => {
  process.env.RUST_BACKTRACE = '0' // keep the deliberate panics' report short
  const asyncPanic = await native.__panicForTests('async')
  const e = sp.__errorFromPayload(asyncPanic)
  assert.equal(e.constructor, sp.InternalError)
  assert.deepEqual([e.kind, e.code], ['internal', 'panic'])
  assert.match(e.message, /deliberate panic/)
  let thrown
  try {
    native.__panicForTests('sync')
  } catch (x) {
    thrown = sp.__errorFromPayload(x)
  }
  assert.equal(thrown.constructor, sp.InternalError)
  assert.equal(thrown.code, 'panic')
  // The process is still healthy after both panics.
  const r = await gw.chat.completions.create(hi())
  assert.equal(r.choices[0].message.content, 'hi')
})

test('kinds the core does not produce yet map to their classes', () => {
  const cases = [
    ['budget_exceeded', sp.BudgetExceededError, sp.SwitchpointError],
    ['rate_limit_exceeded', sp.RateLimitExceededError, sp.RateLimitError],
    ['policy_denied', sp.PolicyDeniedError, sp.SwitchpointError],
  ]
  for (const [kind, cls, parent] of cases) {
    const e = sp.__errorFromPayload({ kind, message: 'm', retryAfter: 1.25, code: 'c' })
    assert.equal(e.constructor, cls)
    assert.ok(e instanceof parent)
    assert.deepEqual([e.kind, e.message, e.retryAfter, e.code, e.name], [kind, 'm', 1.25, 'c', cls.name])
  }
})

test('every core kind has exactly one class, and the classes carry their kind', () => {
  const kinds = native.errorKinds()
  assert.equal(kinds.length, 17)
  const seen = new Set()
  for (const kind of kinds) {
    const e = sp.__errorFromPayload({ kind, message: kind })
    assert.equal(e.kind, kind)
    assert.equal(e.constructor.kind, kind)
    assert.ok(!seen.has(e.constructor))
    seen.add(e.constructor)
  }
  assert.equal(sp.APIError, sp.SwitchpointError)
  assert.equal(Gateway.RateLimitError, sp.RateLimitError)
})
