'use strict'
// Observability from Node: metricsText() with exact counter values, usage() with its
// options and errors, onRecord() callbacks (fields, throwing callbacks, off()), and
// flushTelemetry().

const test = require('node:test')
const assert = require('node:assert/strict')
const { Gateway, BadRequestError } = require('..')
const { startMock } = require('./helpers/mock')

let mock
test.before(async () => {
  mock = await startMock()
})
test.after(() => mock.stop())
test.beforeEach(async () => {
  await mock.clearLog()
  await mock.clearScript()
})

/** A fresh gateway (fresh counters) with a priced model `house` (2 and 3 USD per 1M) and a cache. */
function gateway() {
  return Gateway.fromConfig({
    providers: { oai: { kind: 'openai', base_url: `${mock.url}/v1`, api_key: 'sk-test' } },
    models: { house: { provider: 'oai', model: 'house-model' } },
    pricing: { oai: { 'house-model': { input: '2', output: '3' } } },
    cache: { enabled: true },
  })
}

const ask = (content, fields = {}) => ({
  model: 'house',
  messages: [{ role: 'user', content }],
  user: 'u1',
  team: 'a',
  tags: ['faq'],
  ...fields,
})

/**
 * Known calls: a miss (4 + 4 tokens, 0.00002 USD), its repeat (a hit saving 0.00002), a
 * call the provider refuses (400) and a stream (2 + 2 tokens, 0.00001 USD).
 */
async function knownCalls(gw) {
  const first = await gw.chat.completions.create(ask('alpha beta gamma delta'))
  const hit = await gw.chat.completions.create(ask('alpha beta gamma delta'))
  await mock.pushScript([{ status: 400 }])
  const error = await gw.chat.completions.create(ask('refused')).catch((e) => e)
  assert.ok(error instanceof BadRequestError)
  const stream = await gw.chat.completions.create(
    ask('one two', { stream: true, stream_options: { include_usage: true } }),
  )
  for await (const _ of stream);
  return { first, hit, stream }
}

const LABELS = 'route="house",provider="oai",model="house",user="u1",team="a",tag="faq"'

test('metricsText() counts the calls that returned, exactly', async () => {
  const gw = gateway()
  await knownCalls(gw)
  // No flush: the scrape itself waits for records still queued.
  const text = gw.metricsText()
  const lines = new Set(text.split('\n'))
  for (const line of [
    `switchpoint_requests_total{${LABELS},status="ok",cache="miss"} 2`,
    `switchpoint_requests_total{${LABELS},status="ok",cache="hit"} 1`,
    `switchpoint_requests_total{${LABELS},status="bad_request",cache="miss"} 1`,
    `switchpoint_errors_total{${LABELS},kind="bad_request"} 1`,
    `switchpoint_tokens_total{${LABELS},type="prompt"} 6`,
    `switchpoint_tokens_total{${LABELS},type="completion"} 6`,
    `switchpoint_cost_usd_total{${LABELS}} 0.00003`,
    `switchpoint_cache_saved_usd_total{${LABELS}} 0.00002`,
    `switchpoint_request_duration_seconds_count{route="house",provider="oai",model="house",status="ok"} 3`,
    `switchpoint_request_duration_seconds_bucket{route="house",provider="oai",model="house",status="ok",le="+Inf"} 3`,
    `switchpoint_request_duration_seconds_count{route="house",provider="oai",model="house",status="bad_request"} 1`,
    `switchpoint_time_to_first_token_seconds_count{route="house",provider="oai",model="house"} 1`,
    'switchpoint_telemetry_dropped_total 0',
    'switchpoint_telemetry_observer_panics_total 0',
    '# TYPE switchpoint_requests_total counter',
    '# TYPE switchpoint_request_duration_seconds histogram',
  ]) {
    assert.ok(lines.has(line), `missing line ${line} in\n${text}`)
  }
  // No token series for kinds that never occurred, and every sample line is well formed.
  assert.doesNotMatch(text, /type="reasoning"/)
  const sample = /^[a-z_]+(\{([a-z_]+="[^"\\]*"(,|(?=\})))*\})? -?[0-9.e+-]+$/
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('# HELP ') || line.startsWith('# TYPE ')) continue
    assert.match(line, sample)
  }
  // A second scrape with no calls in between is identical but for nothing.
  assert.equal(gw.metricsText(), text)
})

test('onRecord() receives each request record with its fields', async () => {
  const gw = gateway()
  const records = []
  const off = gw.onRecord((r) => records.push(r))
  const before = Date.now()
  const { first, stream } = await knownCalls(gw)
  assert.equal(await gw.flushTelemetry(), true)
  assert.equal(records.length, 4)
  const [miss, hit, failed, streamed] = records

  assert.equal(miss.id, first.id)
  assert.equal(miss.response_id, first.id)
  assert.equal(miss.call, 'chat')
  assert.deepEqual(
    [miss.model, miss.route, miss.provider, miss.provider_model, miss.provider_kind, miss.response_model],
    ['house', 'house', 'oai', 'house-model', 'openai', 'house-model'],
  )
  assert.ok(miss.started_at_ms >= before - 1 && miss.started_at_ms <= miss.ended_at_ms && miss.ended_at_ms <= Date.now())
  assert.ok(miss.latency_ms > 0)
  assert.deepEqual(miss.finish_reasons, ['stop'])
  assert.equal(miss.attempts.length, 1)
  assert.deepEqual([miss.attempts[0].provider, miss.attempts[0].status], ['oai', 'ok'])
  assert.deepEqual(miss.tokens, { prompt: 4, completion: 4, cached: 0, cache_write: 0, reasoning: 0 })
  assert.deepEqual(miss.cost, {
    input: '0.000008',
    cached_input: '0',
    cache_write: '0',
    output: '0.000012',
    reasoning: '0',
    total: '0.00002',
  })
  assert.deepEqual(miss.cache, { status: 'miss' })
  assert.deepEqual(miss.caller, { user: 'u1', team: 'a' })
  assert.deepEqual(miss.tags, ['faq'])
  assert.equal(miss.status, 'ok')
  assert.equal(miss.error_kind, undefined)
  assert.equal(miss.content, undefined)

  assert.deepEqual(hit.cache, { status: 'hit', saved_usd: '0.00002' })
  assert.deepEqual(hit.attempts, [])
  assert.equal(hit.cost, undefined)

  assert.deepEqual(
    [failed.status, failed.error_kind, failed.call, failed.provider, failed.route],
    ['error', 'bad_request', 'chat', 'oai', 'house'],
  )
  assert.equal(failed.cost, undefined)

  assert.equal(streamed.call, 'chat_stream')
  assert.match(streamed.id, /^chatcmpl-mock-\d+$/)
  assert.equal(streamed.response_id, streamed.id)
  assert.equal(stream.switchpoint.cache, 'miss')
  assert.ok(streamed.ttft_ms > 0 && streamed.ttft_ms <= streamed.latency_ms)
  assert.equal(streamed.cost.total, '0.00001')
  off()
})

test('a callback that throws is reported as a warning and changes nothing else', async () => {
  const gw = gateway()
  const warnings = []
  const defaultHandlers = process.listeners('warning')
  process.removeAllListeners('warning')
  const onWarning = (w) => warnings.push(w)
  process.on('warning', onWarning)
  try {
    let calls = 0
    const offThrowing = gw.onRecord(() => {
      calls++
      if (calls % 2) throw new Error(`callback bug ${calls}`)
      throw 'not even an Error' // eslint-disable-line no-throw-literal
    })
    const seen = []
    const offCounting = gw.onRecord((r) => seen.push(r.id))
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) => gw.chat.completions.create(ask(`throwing ${i}`))),
    )
    assert.deepEqual(
      answers.map((a) => a.choices[0].message.content),
      Array.from({ length: 10 }, (_, i) => `throwing ${i}`),
    )
    assert.equal(await gw.flushTelemetry(), true)
    await new Promise((r) => setImmediate(r)) // warnings are emitted on the next tick
    assert.equal(calls, 10)
    assert.deepEqual(seen.sort(), answers.map((a) => a.id).sort())
    assert.equal(warnings.length, 10)
    assert.equal(warnings[0].name, 'SwitchpointWarning')
    assert.equal(warnings[0].message, 'an onRecord callback threw: callback bug 1')
    assert.equal(warnings[0].cause.message, 'callback bug 1')
    assert.equal(warnings[1].message, 'an onRecord callback threw: not even an Error')
    // The gateway's own observers were not disturbed.
    assert.match(gw.metricsText(), /^switchpoint_telemetry_observer_panics_total 0$/m)
    assert.equal(gw.usage()[0].requests, 10)
    offThrowing()
    offCounting()
  } finally {
    process.off('warning', onWarning)
    for (const h of defaultHandlers) process.on('warning', h)
  }
})

test('off() stops the deliveries at once and is idempotent', async () => {
  const gw = gateway()
  const kept = []
  const offKept = gw.onRecord((r) => kept.push(r))
  let removedCalls = 0
  let off = null
  off = gw.onRecord(() => {
    removedCalls++
    off() // inside the callback, while more records are on their way
  })
  await Promise.all(Array.from({ length: 30 }, (_, i) => gw.chat.completions.create(ask(`off ${i}`))))
  assert.equal(await gw.flushTelemetry(), true)
  assert.equal(removedCalls, 1)
  assert.equal(kept.length, 30)
  off()
  offKept()
  offKept()
  await gw.chat.completions.create(ask('after off'))
  assert.equal(await gw.flushTelemetry(), true)
  assert.equal(kept.length, 30)
  assert.equal(removedCalls, 1)
  assert.throws(() => gw.onRecord('not a function'), TypeError)
})

test('hundreds of records in a burst all arrive, in no time', async () => {
  const gw = gateway()
  const ids = new Set()
  const off = gw.onRecord((r) => ids.add(r.id))
  const answers = await Promise.all(Array.from({ length: 300 }, (_, i) => gw.chat.completions.create(ask(`burst ${i}`))))
  assert.equal(await gw.flushTelemetry(), true)
  assert.equal(ids.size, 300)
  for (const a of answers) assert.ok(ids.has(a.id))
  off()
})

test('records the event loop cannot take are dropped past 10,000, and that is said once', { timeout: 120_000 }, async () => {
  const gw = Gateway.fromConfig({
    providers: { oai: { kind: 'openai', base_url: `${mock.url}/v1`, api_key: 'sk-test' } },
    models: { house: { provider: 'oai', model: 'house-model' } },
    cache: { enabled: true },
    telemetry: { queue_size: 50_000 },
  })
  const warnings = []
  const defaultHandlers = process.listeners('warning')
  process.removeAllListeners('warning')
  const onWarning = (w) => warnings.push(w)
  process.on('warning', onWarning)
  try {
    let received = 0
    const off = gw.onRecord(() => received++)
    const body = ask('a hit, again and again')
    await gw.chat.completions.create(body)
    // Cache hits settle without an event loop turn: this loop never lets records in.
    const n = 10_300
    for (let i = 0; i < n; i++) await gw.chat.completions.create(body)
    assert.equal(gw.usage()[0].requests, n + 1)
    assert.equal(await gw.flushTelemetry(), true)
    await new Promise((r) => setImmediate(r))
    assert.ok(received >= 10_000 && received < n + 1, `${received} received`)
    const drops = warnings.filter((w) => /dropped before reaching an onRecord callback/.test(w.message))
    assert.equal(drops.length, 1, warnings.map((w) => w.message).join('\n'))
    assert.equal(drops[0].name, 'SwitchpointWarning')
    assert.match(drops[0].message, new RegExp(`^${n + 1 - received} request records were dropped`))
    // Once the loop turns again, records flow as before.
    await gw.chat.completions.create(body)
    assert.equal(await gw.flushTelemetry(), true)
    assert.equal(warnings.length, 1)
    off()
  } finally {
    process.off('warning', onWarning)
    for (const h of defaultHandlers) process.on('warning', h)
  }
})

test('usage() takes since as a Date or Unix ms and a groupBy', async () => {
  const gw = gateway()
  assert.deepEqual(gw.usage(), [])
  const start = Date.now()
  await knownCalls(gw)
  await gw.chat.completions.create(ask('from b', { user: 'u2', team: 'b', tags: [] }))
  // No flush: the query waits for records still queued.
  const total = gw.usage()
  assert.deepEqual(total, [
    {
      group: null,
      requests: 5,
      errors: 1,
      cache_hits: 1,
      prompt_tokens: 8,
      completion_tokens: 8,
      cached_tokens: 0,
      reasoning_tokens: 0,
      cost_usd: '0.00004',
      saved_usd: '0.00002',
    },
  ])
  assert.deepEqual(gw.usage({ since: 0, groupBy: 'total' }), total)
  assert.deepEqual(gw.usage({ since: new Date(start - 60_000) }), total)
  assert.deepEqual(gw.usage({ since: start - 60_000 }), total)
  // Since a time after every bucket: nothing.
  assert.deepEqual(gw.usage({ since: new Date(start + 3_600_000) }), [])
  assert.deepEqual(gw.usage({ since: start + 3_600_000, groupBy: 'team' }), [])

  const byTeam = gw.usage({ since: new Date(start - 60_000), groupBy: 'team' })
  assert.deepEqual(
    byTeam.map((r) => [r.group, r.requests, r.errors, r.cache_hits, r.cost_usd]),
    [
      ['a', 4, 1, 1, '0.00003'],
      ['b', 1, 0, 0, '0.00001'],
    ],
  )
  assert.deepEqual(
    gw.usage({ groupBy: 'tag' }).map((r) => [r.group, r.requests]),
    [
      ['faq', 4],
      [null, 1],
    ],
  )
  assert.deepEqual(
    gw.usage({ groupBy: 'user' }).map((r) => [r.group, r.requests, r.cost_usd]),
    [
      ['u1', 4, '0.00003'],
      ['u2', 1, '0.00001'],
    ],
  )
})

test('usage() refuses a bad groupBy, since or option with a BadRequestError', () => {
  const gw = gateway()
  assert.throws(
    () => gw.usage({ groupBy: 'weekday' }),
    (e) =>
      e instanceof BadRequestError &&
      e.param === 'group_by' &&
      e.message === 'group_by: unknown grouping `weekday`; allowed: total, user, team, model, route, provider, tag, key',
  )
  assert.throws(() => gw.usage({ groupBy: 7 }), (e) => e instanceof BadRequestError && e.param === 'group_by')
  for (const since of ['yesterday', NaN, Infinity, -1, new Date('not a date'), {}]) {
    assert.throws(() => gw.usage({ since }), (e) => e instanceof BadRequestError && e.param === 'since', String(since))
  }
  assert.throws(() => gw.usage({ group_by: 'team' }), (e) => e instanceof BadRequestError && e.param === 'group_by')
  assert.throws(() => gw.usage('team'), (e) => e instanceof BadRequestError)
  assert.deepEqual(gw.usage(undefined), [])
  assert.deepEqual(gw.usage(null), [])
  assert.deepEqual(gw.usage({ since: undefined, groupBy: undefined }), [])
})

test('flushTelemetry() resolves without blocking the event loop and checks its timeout', async () => {
  const gw = gateway()
  let ticked = false
  setImmediate(() => (ticked = true))
  assert.equal(await gw.flushTelemetry(), true)
  assert.ok(ticked)
  assert.equal(await gw.flushTelemetry(0.5e3), true)
  await assert.rejects(gw.flushTelemetry(-1), (e) => e instanceof BadRequestError && e.param === 'timeoutMs')
  await assert.rejects(gw.flushTelemetry('5s'), (e) => e instanceof BadRequestError && e.param === 'timeoutMs')
})
