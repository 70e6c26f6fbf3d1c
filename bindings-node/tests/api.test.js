'use strict'
// The public API: construction, chat, streams, embeddings, switchpoint's own fields, facts.

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const sp = require('..')
const { Gateway, ChatCompletionStream, ConfigError } = sp
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

test('chat returns the OpenAI response shape with the gateway facts', async () => {
  const r = await gw.chat.completions.create({
    model: 'gpt',
    messages: [
      { role: 'system', content: 'be brief' },
      { role: 'user', content: 'hello there' },
    ],
  })
  assert.equal(r.object, 'chat.completion')
  assert.equal(r.model, 'gpt-4o-mini')
  assert.match(r.id, /^chatcmpl-mock-\d+$/)
  assert.equal(r.choices.length, 1)
  assert.deepEqual(r.choices[0].message, { role: 'assistant', content: 'hello there', refusal: null, annotations: [] })
  assert.equal(r.choices[0].finish_reason, 'stop')
  assert.deepEqual(
    { p: r.usage.prompt_tokens, c: r.usage.completion_tokens, t: r.usage.total_tokens },
    { p: 4, c: 2, t: 6 },
  )
  assert.equal(r.switchpoint.provider, 'oai')
  assert.equal(r.switchpoint.provider_model, 'gpt-4o-mini')
  assert.equal(r.switchpoint.model, 'gpt')
  assert.equal(r.switchpoint.attempts.length, 1)
  assert.equal(r.switchpoint.attempts[0].status, 'ok')
  assert.ok(r.switchpoint.latency_ms > 0)
  assert.ok(r.switchpoint.overhead_us > 0)
})

test('every wire format answers through the same call', async () => {
  for (const model of ['gpt', 'sonnet', 'flash', 'azure-gpt']) {
    const r = await gw.chat.completions.create({
      model,
      max_tokens: 50,
      messages: [{ role: 'user', content: `hi from ${model}` }],
    })
    assert.equal(r.choices[0].message.content, `hi from ${model}`, model)
    assert.equal(r.choices[0].finish_reason, 'stop', model)
  }
  const log = await mock.log()
  assert.deepEqual(
    log.map((e) => e.provider),
    ['openai', 'anthropic', 'gemini', 'azure'],
  )
})

test('tool calls come back assembled, with typed arguments', async () => {
  const r = await gw.chat.completions.create({
    model: 'gpt',
    messages: [{ role: 'user', content: 'weather in Paris' }],
    tools: [
      {
        type: 'function',
        function: {
          name: 'weather',
          parameters: { type: 'object', properties: { city: { type: 'string' }, days: { type: 'integer' } } },
        },
      },
    ],
    tool_choice: 'required',
  })
  const calls = r.choices[0].message.tool_calls
  assert.equal(r.choices[0].finish_reason, 'tool_calls')
  assert.equal(calls.length, 1)
  assert.equal(calls[0].type, 'function')
  assert.equal(calls[0].function.name, 'weather')
  assert.deepEqual(JSON.parse(calls[0].function.arguments), { city: 'weather in Paris', days: 42 })
  assert.match(calls[0].id, /^call_mock_\d+$/)
})

test('a stream yields OpenAI chunks, usage on request, and facts at the end', async () => {
  const stream = await gw.chat.completions.create({
    model: 'gpt',
    messages: [{ role: 'user', content: 'one two three' }],
    stream: true,
    stream_options: { include_usage: true },
  })
  assert.ok(stream instanceof ChatCompletionStream)
  assert.equal(stream.switchpoint, null)
  const chunks = []
  for await (const chunk of stream) chunks.push(chunk)
  assert.equal(chunks[0].object, 'chat.completion.chunk')
  assert.equal(chunks[0].choices[0].delta.role, 'assistant')
  const text = chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('')
  assert.equal(text, 'one two three')
  const finish = chunks.find((c) => c.choices[0]?.finish_reason)
  assert.equal(finish.choices[0].finish_reason, 'stop')
  const last = chunks[chunks.length - 1]
  assert.deepEqual(last.choices, [])
  assert.equal(last.usage.completion_tokens, 3)
  assert.equal(last.switchpoint.provider, 'oai')
  assert.equal(new Set(chunks.map((c) => c.id)).size, 1)
  assert.equal(stream.switchpoint.provider, 'oai')
  assert.ok(stream.switchpoint.ttft_ms > 0)
  assert.equal(stream.switchpoint.attempts[0].status, 'ok')
  assert.throws(() => stream[Symbol.asyncIterator](), /consumed stream/)
})

test('a stream without include_usage has no usage chunk', async () => {
  const stream = await gw.chat.completions.create({
    model: 'sonnet',
    max_tokens: 20,
    messages: [{ role: 'user', content: 'a b' }],
    stream: true,
  })
  const chunks = []
  for await (const chunk of stream) chunks.push(chunk)
  assert.ok(chunks.every((c) => c.choices.length === 1 && c.usage == null))
  assert.equal(chunks.map((c) => c.choices[0].delta.content ?? '').join(''), 'a b')
})

test('tee() gives two readers the same chunks', async () => {
  const stream = await gw.chat.completions.create({
    model: 'gpt',
    messages: [{ role: 'user', content: 'x y z' }],
    stream: true,
  })
  const [a, b] = stream.tee()
  const read = async (it) => {
    let s = ''
    for await (const c of it) s += c.choices[0]?.delta?.content ?? ''
    return s
  }
  assert.deepEqual(await Promise.all([read(a), read(b)]), ['x y z', 'x y z'])
})

test('embeddings, one input and several, with dimensions', async () => {
  const one = await gw.embeddings.create({ model: 'embed-small', input: 'hello' })
  assert.equal(one.object, 'list')
  assert.equal(one.data.length, 1)
  assert.equal(one.data[0].object, 'embedding')
  assert.equal(one.data[0].embedding.length, 8)
  const norm = Math.hypot(...one.data[0].embedding)
  assert.ok(Math.abs(norm - 1) < 1e-6, `not normalized: ${norm}`)
  assert.equal(one.usage.prompt_tokens, 1)
  assert.equal(one.switchpoint.provider, 'oai')
  const many = await gw.embeddings.create({ model: 'embed-small', input: ['a b', 'c'], dimensions: 4 })
  assert.deepEqual(
    many.data.map((d) => [d.index, d.embedding.length]),
    [
      [0, 4],
      [1, 4],
    ],
  )
  assert.equal(many.usage.total_tokens, 3)
})

test("switchpoint's own fields go to the context, OpenAI's (and user) to the provider", async () => {
  const r = await gw.chat.completions.create({
    model: 'gpt',
    messages: [{ role: 'user', content: 'ctx' }],
    user: 'u-42',
    metadata: { job: 'nightly' },
    tags: ['summarize'],
    team: 'search',
    tier: 'pro',
    apiKey: 'sk-virtual-1',
    timeout: 5,
  })
  assert.equal(r.choices[0].message.content, 'ctx')
  const [entry] = await mock.log()
  assert.equal(entry.body.user, 'u-42')
  for (const own of ['tags', 'team', 'tier', 'apiKey', 'api_key', 'timeout', 'metadata']) {
    assert.equal(entry.body[own], undefined, `${own} leaked to the provider`)
  }
  // The virtual key never replaces the provider key.
  assert.equal(entry.headers.authorization, 'Bearer sk-test-openai')
})

test('a cache option the binding does not know is a BadRequestError naming it', async () => {
  await assert.rejects(
    gw.chat.completions.create({ model: 'gpt', messages: [{ role: 'user', content: 'x' }], cache: { ttl: 5, skip: true } }),
    (e) => e instanceof sp.BadRequestError && e.param === 'cache.skip',
  )
  assert.equal((await mock.log()).length, 0)
})

test('the body timeout (seconds) and the options timeout (ms) both bound the call', async () => {
  const slow = { model: 'oai/gpt-4o-mini!delay_ms=1500', messages: [{ role: 'user', content: 'x' }] }
  let t0 = Date.now()
  await assert.rejects(gw.chat.completions.create({ ...slow, timeout: 0.2 }), sp.APIConnectionTimeoutError)
  assert.ok(Date.now() - t0 < 1200)
  t0 = Date.now()
  await assert.rejects(gw.chat.completions.create(slow, { timeout: 200 }), sp.APIConnectionTimeoutError)
  assert.ok(Date.now() - t0 < 1200)
})

test('fromFile, fromConfig(YAML text) and new Gateway({config}) build the same gateway', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sp-node-'))
  const file = path.join(dir, 'switchpoint.yaml')
  const yaml = [
    'providers:',
    '  oai:',
    '    kind: openai',
    `    base_url: ${mock.url}/v1`,
    '    api_key: env:SP_NODE_TEST_KEY',
    'models:',
    '  gpt:',
    '    provider: oai',
    '    model: gpt-4o-mini',
  ].join('\n')
  fs.writeFileSync(file, yaml)
  process.env.SP_NODE_TEST_KEY = 'sk-from-env'
  for (const g of [Gateway.fromFile(file), Gateway.fromConfig(yaml), new Gateway({ configFile: file })]) {
    await mock.clearLog()
    const r = await g.chat.completions.create({ model: 'gpt', messages: [{ role: 'user', content: 'yaml' }] })
    assert.equal(r.choices[0].message.content, 'yaml')
    const [entry] = await mock.log()
    assert.equal(entry.headers.authorization, 'Bearer sk-from-env')
  }
  fs.rmSync(dir, { recursive: true })
})

test('config errors are ConfigError naming the field, thrown by the constructor', () => {
  assert.throws(
    () => Gateway.fromConfig({ providers: { oai: { kind: 'openai', base_url: 'http://x', api_key: 'k', colour: 1 } } }),
    (e) => e instanceof ConfigError && e.kind === 'config' && /colour/.test(e.message),
  )
  assert.throws(() => Gateway.fromFile('/nonexistent/switchpoint.yaml'), ConfigError)
  assert.throws(() => Gateway.fromConfig('providers: [1, 2'), ConfigError)
  assert.throws(() => new Gateway({ config: {}, configFile: 'x' }), ConfigError)
  assert.throws(() => Gateway.fromConfig(42), ConfigError)
})

test('zero-config: new Gateway() needs no file', () => {
  const g = new Gateway()
  assert.equal(typeof g.chat.completions.create, 'function')
  assert.equal(typeof Gateway.fromEnv().embeddings.create, 'function')
})

test('bad bodies reject (never throw synchronously)', async () => {
  const p = gw.chat.completions.create(null)
  assert.ok(p instanceof Promise)
  await assert.rejects(p, sp.BadRequestError)
  const cyclic = { model: 'gpt', messages: [] }
  cyclic.self = cyclic
  await assert.rejects(gw.chat.completions.create(cyclic), (e) => e instanceof sp.BadRequestError && /circular/i.test(e.message))
  await assert.rejects(
    gw.chat.completions.create({ model: 'gpt', messages: [{ role: 'robot', content: 'x' }] }),
    (e) => e instanceof sp.BadRequestError && e.param === 'messages[0].role',
  )
})

test('health() shows a failing target beside its healthy backup', async () => {
  const routed = Gateway.fromConfig({
    providers: { oai: { kind: 'openai', base_url: `${mock.url}/v1`, api_key: 'k' } },
    routes: {
      r: {
        strategy: 'priority',
        targets: [
          { provider: 'oai', model: 'primary!status=503' },
          { provider: 'oai', model: 'backup' },
        ],
      },
    },
  })
  const r = await routed.chat.completions.create({ model: 'r', messages: [{ role: 'user', content: 'fail over' }] })
  assert.deepEqual(
    r.switchpoint.attempts.map((a) => [a.provider_model, a.status, a.error]),
    [['primary!status=503', 'error', 'unavailable'], ['backup', 'ok', undefined]],
  )
  const health = Object.fromEntries(routed.health().map((t) => [t.model, t]))
  assert.equal(health.backup.state, 'healthy')
  assert.equal(health.backup.failures, 0)
  assert.equal(health['primary!status=503'].failures, 1)
  assert.deepEqual(health['primary!status=503'].routes, ['r'])
  assert.ok(health['primary!status=503'].error_rate > 0)
})
