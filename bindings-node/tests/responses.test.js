'use strict'
// The Responses API: gw.responses.create() natively (OpenAI) and translated (Anthropic),
// whole and streamed, with tools, switchpoint's fields, typed errors, aborts and records.

const test = require('node:test')
const assert = require('node:assert/strict')
const { Gateway, ResponseStream, Responses, RateLimitError, BadRequestError, APIConnectionError, APIUserAbortError } =
  require('..')
const { startMock } = require('./helpers/mock')

const TOOL = {
  type: 'function',
  name: 'get_weather',
  description: 'Weather for a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
}

function config(url) {
  return {
    providers: {
      native: { kind: 'openai', base_url: `${url}/v1`, api_key: 'sk-test', responses: 'native' },
      claude: { kind: 'anthropic', base_url: url, api_key: 'sk-ant-test' },
    },
    models: {
      gpt: { provider: 'native', model: 'gpt-4o' },
      sonnet: { provider: 'claude', model: 'claude-sonnet-4-5' },
    },
  }
}

let mock
let gw
test.before(async () => {
  mock = await startMock()
  gw = Gateway.fromConfig(config(mock.url))
})
test.after(() => mock.stop())
test.beforeEach(async () => {
  await mock.clearLog()
  await mock.clearScript()
})

async function last() {
  const log = await mock.log()
  assert.ok(log.length > 0, 'the mock saw no request')
  return log[log.length - 1]
}

test('a native Response has output_text, usage and facts, and the request went whole', async () => {
  assert.ok(gw.responses instanceof Responses)
  const r = await gw.responses.create({ model: 'gpt', input: 'hello typed responses', instructions: 'Be brief.' })
  assert.equal(r.object, 'response')
  assert.equal(r.status, 'completed')
  assert.equal(r.model, 'gpt-4o')
  assert.match(r.id, /^resp_mock_\d+$/)
  assert.equal(r.output_text, 'hello typed responses')
  assert.equal(r.output[0].type, 'message')
  assert.deepEqual(r.output[0].content[0], {
    type: 'output_text',
    text: 'hello typed responses',
    annotations: [],
    logprobs: [],
  })
  // The mock counts the instructions' words as input: 3 + 2.
  assert.deepEqual([r.usage.input_tokens, r.usage.output_tokens, r.usage.total_tokens], [5, 3, 8])
  assert.equal(r.usage.input_tokens_details.cached_tokens, 0)
  assert.equal(r.switchpoint.provider, 'native')
  // gpt-4o: 5 x $2.50 + 3 x $10 per 1M tokens.
  assert.equal(r.switchpoint.cost.usd, '0.0000425')
  const up = await last()
  assert.deepEqual([up.path, up.provider, up.stream], ['/v1/responses', 'openai', false])
  assert.equal(up.body.model, 'gpt-4o')
  assert.equal(up.body.instructions, 'Be brief.')
})

test('a translated tool call goes round trip with its result', async () => {
  const first = await gw.responses.create({ model: 'sonnet', input: 'use get_weather for Oslo', tools: [TOOL] })
  assert.equal(first.output_text, '')
  const call = first.output[0]
  assert.equal(call.type, 'function_call')
  assert.equal(call.name, 'get_weather')
  assert.match(call.call_id, /^toolu_mock_\d+$/)
  assert.deepEqual(JSON.parse(call.arguments), { city: 'use get_weather for Oslo' })
  assert.equal((await last()).path, '/v1/messages')
  const second = await gw.responses.create({
    model: 'sonnet',
    tools: [TOOL],
    input: [
      { role: 'user', content: 'use get_weather for Oslo' },
      ...first.output,
      { type: 'function_call_output', call_id: call.call_id, output: 'sunny' },
    ],
  })
  assert.equal(second.output_text, 'tool result: sunny')
  const sent = (await last()).body.messages
  assert.deepEqual(sent[1].content[0], {
    type: 'tool_use',
    id: call.call_id,
    name: 'get_weather',
    input: { city: 'use get_weather for Oslo' },
  })
  assert.equal(sent[2].content[0].tool_use_id, call.call_id)
})

for (const model of ['gpt', 'sonnet']) {
  test(`a ${model} stream yields the Responses events in order`, async () => {
    const stream = await gw.responses.create({ model, input: 'one two three', stream: true })
    assert.ok(stream instanceof ResponseStream)
    const events = []
    for await (const event of stream) events.push(event)
    const types = events.map((e) => e.type)
    assert.deepEqual(types.slice(0, 4), [
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
    ])
    assert.deepEqual(types.slice(-4), [
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ])
    assert.deepEqual(
      events.map((e) => e.sequence_number),
      events.map((_, i) => i),
    )
    const text = events
      .filter((e) => e.type === 'response.output_text.delta')
      .map((e) => e.delta)
      .join('')
    assert.equal(text, 'one two three')
    const done = events[events.length - 1].response
    assert.equal(done.status, 'completed')
    assert.deepEqual([done.usage.input_tokens, done.usage.output_tokens], [3, 3])
    assert.ok(done.switchpoint.cost.usd !== undefined)
    assert.equal(stream.switchpoint.provider, model === 'gpt' ? 'native' : 'claude')
  })
}

test('streamed tool-call arguments arrive in fragments and assemble', async () => {
  const stream = await gw.responses.create({
    model: 'gpt',
    input: 'call it',
    tools: [TOOL],
    tool_choice: 'required',
    stream: true,
  })
  const events = []
  for await (const e of stream) events.push(e)
  const fragments = events.filter((e) => e.type === 'response.function_call_arguments.delta').map((e) => e.delta)
  assert.ok(fragments.length >= 2)
  const done = events.find((e) => e.type === 'response.function_call_arguments.done')
  assert.equal(done.arguments, '{"city":"call it"}')
  assert.equal(fragments.join(''), done.arguments)
  assert.equal(done.name, 'get_weather')
})

test('user and metadata reach the provider and the records; switchpoint fields do not', async () => {
  const local = Gateway.fromConfig(config(mock.url))
  const records = []
  const off = local.onRecord((r) => records.push(r))
  const r = await local.responses.create({
    model: 'gpt',
    input: 'x',
    user: 'u-42',
    metadata: { job: 'nightly' },
    team: 'search',
    tags: ['batch'],
  })
  assert.deepEqual(r.metadata, { job: 'nightly' })
  const body = (await last()).body
  assert.equal(body.user, 'u-42')
  assert.deepEqual(body.metadata, { job: 'nightly' })
  assert.equal(body.team, undefined)
  assert.equal(body.tags, undefined)
  assert.ok(await local.flushTelemetry())
  off()
  assert.equal(records.length, 1)
  assert.equal(records[0].call, 'responses')
  assert.deepEqual([records[0].caller.user, records[0].caller.team], ['u-42', 'search'])
  assert.deepEqual(records[0].tags, ['batch'])
  assert.deepEqual([records[0].tokens.prompt, records[0].tokens.completion], [1, 1])
})

test('provider errors and refusals are typed', async () => {
  await mock.pushScript([{ status: 429, retry_after: 2 }])
  await assert.rejects(gw.responses.create({ model: 'sonnet', input: 'hi' }), (e) => {
    assert.ok(e instanceof RateLimitError)
    assert.deepEqual([e.status, e.provider, e.retryAfter], [429, 'claude', 2])
    return true
  })
  await assert.rejects(
    gw.responses.create({ model: 'sonnet', input: 'again', previous_response_id: 'resp_1' }),
    (e) => e instanceof BadRequestError && e.param === 'previous_response_id',
  )
  await assert.rejects(gw.responses.create({ model: 'gpt' }), (e) => e instanceof BadRequestError && e.param === 'input')
  const native = await gw.responses.create({ model: 'gpt', input: 'again', previous_response_id: 'resp_1' })
  assert.equal(native.status, 'completed')
})

test('a cut stream yields response.failed, then throws the connection error', async () => {
  await mock.pushScript([{ cut_after: 4 }])
  const stream = await gw.responses.create({ model: 'gpt', input: 'one two three four five six', stream: true })
  const seen = []
  await assert.rejects(
    (async () => {
      for await (const e of stream) seen.push(e.type)
    })(),
    (e) => e instanceof APIConnectionError,
  )
  assert.equal(seen[0], 'response.created')
  assert.equal(seen[seen.length - 1], 'response.failed')
})

test('breaking out of a stream or aborting it cancels the upstream request', async () => {
  await mock.pushScript([{ chunk_delay_ms: 300 }])
  const stream = await gw.responses.create({ model: 'gpt', input: 'a b c d e f g h', stream: true })
  for await (const e of stream) {
    assert.equal(e.type, 'response.created')
    break
  }
  let log = await mock.waitForLog((l) => l.some((e) => e.client_closed_early))
  assert.equal(log[log.length - 1].client_closed_early, true)

  await mock.clearLog()
  await mock.pushScript([{ chunk_delay_ms: 300 }])
  const controller = new AbortController()
  const aborted = await gw.responses.create(
    { model: 'sonnet', input: 'a b c d e f g h', stream: true },
    { signal: controller.signal },
  )
  await assert.rejects(
    (async () => {
      for await (const e of aborted) {
        if (e.type === 'response.created') controller.abort()
      }
    })(),
    (e) => e instanceof APIUserAbortError,
  )
  log = await mock.waitForLog((l) => l.some((e) => e.client_closed_early))
  assert.equal(log[log.length - 1].client_closed_early, true)
})
