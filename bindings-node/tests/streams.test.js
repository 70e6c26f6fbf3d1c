'use strict'
// Leaving a stream early cancels the upstream request: the mock provider's log shows the
// client closed the connection before the response was complete.

const test = require('node:test')
const assert = require('node:assert/strict')
const sp = require('..')
const { Gateway } = sp
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

const words = Array.from({ length: 40 }, (_, i) => `w${i}`).join(' ')

/** A slow stream: 40 words, 20 ms apart (~800 ms in all). */
function slowStream(model = 'gpt', options) {
  return gw.chat.completions.create(
    { model, max_tokens: 100, messages: [{ role: 'user', content: words }], stream: true },
    options,
  )
}

async function closedEarly() {
  const log = await mock.waitForLog((l) => l.length === 1 && (l[0].client_closed_early || l[0].completed))
  assert.equal(log.length, 1)
  return log[0]
}

for (const model of ['gpt', 'sonnet', 'flash']) {
  test(`break in for-await closes the upstream (${model})`, async () => {
    await mock.pushScript([{ chunk_delay_ms: 20 }])
    const stream = await slowStream(model)
    let n = 0
    const t0 = Date.now()
    for await (const chunk of stream) {
      assert.equal(chunk.object, 'chat.completion.chunk')
      if (++n === 3) break
    }
    assert.ok(Date.now() - t0 < 500, 'break waited for the stream to finish')
    const entry = await closedEarly()
    assert.equal(entry.client_closed_early, true)
    assert.equal(entry.completed, false)
    assert.equal(entry.stream, true)
  })
}

test('return() on the iterator closes the upstream and ends the stream', async () => {
  await mock.pushScript([{ chunk_delay_ms: 20 }])
  const stream = await slowStream()
  const it = stream[Symbol.asyncIterator]()
  assert.equal((await it.next()).done, false)
  assert.deepEqual(await it.return(), { value: undefined, done: true })
  assert.deepEqual(await it.next(), { value: undefined, done: true })
  assert.equal((await closedEarly()).client_closed_early, true)
})

test('an exception inside the loop closes the upstream', async () => {
  await mock.pushScript([{ chunk_delay_ms: 20 }])
  const stream = await slowStream()
  await assert.rejects(async () => {
    for await (const _ of stream) throw new Error('consumer failed')
  }, /consumer failed/)
  assert.equal((await closedEarly()).client_closed_early, true)
})

test('stream.controller.abort() ends the loop with APIUserAbortError', async () => {
  await mock.pushScript([{ chunk_delay_ms: 20 }])
  const stream = await slowStream()
  let n = 0
  await assert.rejects(async () => {
    for await (const _ of stream) if (++n === 2) stream.controller.abort()
  }, sp.APIUserAbortError)
  assert.equal(n, 2)
  assert.equal((await closedEarly()).client_closed_early, true)
})

test('the AbortSignal given to create() also stops a stream being read', async () => {
  await mock.pushScript([{ chunk_delay_ms: 20 }])
  const ac = new AbortController()
  const stream = await slowStream('gpt', { signal: ac.signal })
  setTimeout(() => ac.abort(), 100)
  let n = 0
  await assert.rejects(async () => {
    for await (const _ of stream) n++
  }, sp.APIUserAbortError)
  assert.ok(n >= 1 && n < 40, `${n} chunks`)
  assert.equal((await closedEarly()).client_closed_early, true)
})

test('an abort before the first byte rejects the create() promise', async () => {
  const ac = new AbortController()
  const p = gw.chat.completions.create(
    { model: 'oai/gpt-4o-mini!delay_ms=1000', messages: [{ role: 'user', content: 'x' }], stream: true },
    { signal: ac.signal },
  )
  setTimeout(() => ac.abort(), 50)
  await assert.rejects(p, sp.APIUserAbortError)
  assert.equal((await closedEarly()).client_closed_early, true)
})

test('a stream read to the end completes upstream normally', async () => {
  const stream = await slowStream()
  let text = ''
  for await (const c of stream) text += c.choices[0]?.delta?.content ?? ''
  assert.equal(text, words)
  const entry = await closedEarly()
  assert.deepEqual([entry.completed, entry.client_closed_early], [true, false])
})
