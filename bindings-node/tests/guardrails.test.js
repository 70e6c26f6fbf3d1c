'use strict'
// Host guardrails: JS functions that allow, deny or rewrite requests and answers.

const test = require('node:test')
const assert = require('node:assert/strict')
const { Gateway, BadRequestError, ConfigError, InternalError, PolicyDeniedError } = require('..')
const { startMock } = require('./helpers/mock')

let mock
test.before(async () => {
  mock = await startMock()
})
test.after(() => mock.stop())

function gateway(policy = {}) {
  return new Gateway({
    config: {
      providers: { oai: { kind: 'openai', base_url: `${mock.url}/v1`, api_key: 'sk-provider' } },
      models: { gpt: { provider: 'oai', model: 'gpt-4o-mini' } },
      defaults: { timeouts: { total: 10 } },
      ...policy,
    },
  })
}

const ask = (content, extra = {}) => ({ model: 'gpt', messages: [{ role: 'user', content }], ...extra })
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

/** The user text the mock received in the last request. */
async function upstreamPrompt() {
  const log = await mock.log()
  return log[log.length - 1].body.messages.map((m) => m.content)
}

test('allow: the hook sees the request and the answer, with who is asking', async () => {
  const gw = gateway({ virtual_keys: { keys: [{ key: 'sk-guardrail-test-key-001', team: 'search', tier: 'pro' }] } })
  const events = []
  const id = gw.addGuardrail((event) => {
    events.push(event)
  })
  assert.equal(typeof id, 'number')
  const r = await gw.chat.completions.create(
    ask('hello there', { user: 'u1', apiKey: 'sk-guardrail-test-key-001', tags: ['chat'], metadata: { run: '7' } }),
  )
  assert.equal(r.choices[0].message.content, 'hello there')
  const [keyInfo] = await gw.keys.list()
  const who = { model: 'gpt', user: 'u1', team: 'search', tier: 'pro', key_id: keyInfo.id, tags: ['chat'], metadata: { run: '7' } }
  assert.deepEqual(events, [
    { stage: 'input', messages: [{ role: 'user', content: 'hello there' }], ...who },
    { stage: 'output', content: 'hello there', ...who },
  ])
  assert.doesNotMatch(JSON.stringify(events), /sk-guardrail-test-key/, 'a hook never sees the key itself')
})

test('every allow form lets the call through: undefined, null, true, {action: allow}, promises of them', async () => {
  for (const answer of [undefined, null, true, { action: 'allow' }]) {
    const gw = gateway()
    gw.addGuardrail(() => answer)
    gw.addGuardrail(async () => {
      await sleep(1)
      return answer
    })
    const r = await gw.chat.completions.create(ask('fine'))
    assert.equal(r.choices[0].message.content, 'fine', `answer ${JSON.stringify(answer)}`)
  }
})

test('deny: PolicyDeniedError with the reason, before any provider', async () => {
  const gw = gateway()
  gw.addGuardrail((event) =>
    event.stage === 'input' && event.messages.some((m) => m.content.includes('secret'))
      ? { action: 'deny', reason: 'no secrets please' }
      : null,
  )
  await mock.clearLog()
  await assert.rejects(gw.chat.completions.create(ask('tell me the secret')), (e) => {
    assert.ok(e instanceof PolicyDeniedError)
    assert.equal(e.kind, 'policy_denied')
    assert.equal(e.code, 'guardrail_hook')
    assert.equal(e.message, 'a guardrail hook denied the request: no secrets please')
    return true
  })
  assert.deepEqual(await mock.log(), [])
  // A bare `false` denies too, from a promise as well.
  const gw2 = gateway()
  gw2.addGuardrail(async () => false)
  await assert.rejects(gw2.chat.completions.create(ask('x')), (e) => {
    assert.ok(e instanceof PolicyDeniedError)
    assert.equal(e.message, 'a guardrail hook denied the request: no reason given')
    return true
  })
})

test('rewrite: the provider receives the rewritten prompt; hooks run in order, each on the previous result', async () => {
  const gw = gateway()
  const seenBySecond = []
  gw.addGuardrail((event) => {
    if (event.stage !== 'input') return null
    const messages = event.messages.map((m) => ({ ...m, content: m.content.replaceAll('Project Heron', 'the project') }))
    return { action: 'rewrite', messages }
  })
  gw.addGuardrail(async (event) => {
    if (event.stage === 'input') seenBySecond.push(event.messages[0].content)
  })
  await mock.clearLog()
  const r = await gw.chat.completions.create(ask('status of Project Heron?'))
  assert.deepEqual(await upstreamPrompt(), ['status of the project?'])
  assert.equal(r.choices[0].message.content, 'status of the project?')
  assert.deepEqual(seenBySecond, ['status of the project?'])
})

test('output rewrite: the caller gets the rewritten answer', async () => {
  const gw = gateway()
  gw.addGuardrail(async (event) => {
    if (event.stage !== 'output') return true
    await sleep(5)
    return { action: 'rewrite', content: event.content.toUpperCase() }
  })
  const r = await gw.chat.completions.create(ask('quiet words'))
  assert.deepEqual(await upstreamPrompt(), ['quiet words'])
  assert.equal(r.choices[0].message.content, 'QUIET WORDS')
  // An output deny refuses the answer.
  const gw2 = gateway()
  gw2.addGuardrail((event) => (event.stage === 'output' ? { action: 'deny', reason: 'not today' } : null))
  await assert.rejects(gw2.chat.completions.create(ask('x')), (e) => {
    assert.ok(e instanceof PolicyDeniedError)
    assert.equal(e.code, 'guardrail_hook')
    assert.match(e.message, /not today$/)
    return true
  })
})

test('a hook that throws fails the call with InternalError and its message; the process goes on', async () => {
  const cases = [
    [
      () => {
        throw new Error('hook exploded')
      },
      'hook exploded',
    ],
    [
      async () => {
        await sleep(1)
        throw new TypeError('async hook exploded')
      },
      'async hook exploded',
    ],
    [() => Promise.reject(new Error('rejected')), 'rejected'],
    [
      () => {
        throw 'a bare string' // eslint-disable-line no-throw-literal
      },
      'a bare string',
    ],
    [
      (event) => {
        if (event.stage === 'output') throw new RangeError('only the answer fails')
      },
      'only the answer fails',
    ],
    [() => ({ action: 'allow', n: 10n }), 'Do not know how to serialize a BigInt'],
  ]
  for (const [hook, message] of cases) {
    const gw = gateway()
    gw.addGuardrail(hook)
    await assert.rejects(gw.chat.completions.create(ask('x')), (e) => {
      assert.ok(e instanceof InternalError, `${e.name}: ${e.message}`)
      assert.equal(e.kind, 'internal')
      assert.equal(e.code, 'guardrail_hook_failed')
      assert.equal(e.message, message)
      return true
    })
  }
  // The process is fine and a gateway without the hook still answers.
  const r = await gateway().chat.completions.create(ask('still alive'))
  assert.equal(r.choices[0].message.content, 'still alive')
})

test('an answer the gateway cannot use is a ConfigError with code guardrail_hook_invalid', async () => {
  const gw = gateway()
  gw.addGuardrail(() => ({ action: 'block' }))
  await assert.rejects(gw.chat.completions.create(ask('x')), (e) => {
    assert.ok(e instanceof ConfigError)
    assert.equal(e.code, 'guardrail_hook_invalid')
    assert.match(e.message, /action `block`/)
    return true
  })
})

test('removeGuardrail stops a hook; hooks stay across reloads', async () => {
  const gw = gateway()
  let calls = 0
  const id = gw.addGuardrail(() => {
    calls++
  })
  await gw.chat.completions.create(ask('one'))
  assert.equal(calls, 2)
  await gw.reload({
    providers: { oai: { kind: 'openai', base_url: `${mock.url}/v1`, api_key: 'sk-provider' } },
    models: { gpt: { provider: 'oai', model: 'gpt-4o' } },
  })
  await gw.chat.completions.create(ask('two'))
  assert.equal(calls, 4)
  assert.equal(gw.removeGuardrail(id), true)
  assert.equal(gw.removeGuardrail(id), false)
  assert.equal(gw.removeGuardrail(12345), false)
  await gw.chat.completions.create(ask('three'))
  assert.equal(calls, 4)
  assert.throws(() => gw.removeGuardrail('1'), BadRequestError)
  assert.throws(() => gw.removeGuardrail(-1), BadRequestError)
  assert.throws(() => gw.addGuardrail({}), TypeError)
})

test('slow async hooks do not block the event loop: 50 calls with 100 ms hooks overlap', async () => {
  const gw = gateway()
  let inFlight = 0
  let most = 0
  gw.addGuardrail(async (event) => {
    if (event.stage !== 'input') return
    inFlight++
    most = Math.max(most, inFlight)
    await sleep(100)
    inFlight--
  })
  let ticks = 0
  const timer = setInterval(() => ticks++, 10)
  const started = Date.now()
  const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => gw.chat.completions.create(ask(`n${i}`))))
  const took = Date.now() - started
  clearInterval(timer)
  assert.deepEqual(
    answers.map((r) => r.choices[0].message.content),
    Array.from({ length: 50 }, (_, i) => `n${i}`),
  )
  assert.equal(most, 50, 'every hook call was pending at once')
  assert.ok(took < 2000, `took ${took} ms`)
  assert.ok(ticks >= 5, `the event loop turned only ${ticks} times`)
})
