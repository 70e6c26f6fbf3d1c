'use strict'
// The `cache` option of create(): each control (noRead, noStore, ttl, refresh, namespace)
// checked against what reached the mock provider (its request log), the cache facts, and
// the errors for a misspelt or invalid option.

const test = require('node:test')
const assert = require('node:assert/strict')
const { Gateway, BadRequestError } = require('..')
const { startMock, mockConfig } = require('./helpers/mock')

let mock
let gw
test.before(async () => {
  mock = await startMock()
  gw = Gateway.fromConfig({ ...mockConfig(mock.url), cache: { enabled: true, ttl: '1h' } })
})
test.after(() => mock.stop())
test.beforeEach(async () => {
  await mock.clearLog()
  await mock.clearScript()
})

let prompts = 0
/** A request no other test asks, with switchpoint fields merged in. */
function ask(fields = {}) {
  prompts++
  return { model: 'gpt', messages: [{ role: 'user', content: `cache test prompt ${prompts}` }], team: 'a', ...fields }
}

/** Sends `body` and returns [cache status, response id, upstream calls it made]. */
async function send(body) {
  const before = (await mock.log()).length
  const r = await gw.chat.completions.create(body)
  const after = (await mock.log()).length
  return [r.switchpoint.cache, r.id, after - before]
}

/** [cache status, upstream calls] of a send() result. */
const withoutId = ([status, , calls]) => [status, calls]

test('without options: a miss that calls the provider, then a hit that does not', async () => {
  const body = ask()
  assert.deepEqual(await send(body).then(withoutId), ['miss', 1])
  const r = await gw.chat.completions.create(body)
  assert.equal(r.switchpoint.cache, 'hit')
  assert.equal(r.switchpoint.attempts.length, 0)
  assert.equal(r.switchpoint.cost.usd, '0')
  assert.equal(r.switchpoint.cost.saved_usd, '0.000003')
  assert.equal((await mock.log()).length, 1)
  // The option never reaches the provider.
  const body2 = ask({ cache: { ttl: 60 } })
  await send(body2)
  const log = await mock.log()
  assert.equal(log.at(-1).body.cache, undefined)
  assert.deepEqual(Object.keys(log.at(-1).body).sort(), ['messages', 'model'])
})

test('noRead asks the provider although an answer is stored, and still stores its answer', async () => {
  const body = ask()
  const [, firstId] = await send(body)
  const [status, bypassId, calls] = await send({ ...body, cache: { noRead: true } })
  assert.deepEqual([status, calls], ['bypass', 1])
  assert.notEqual(bypassId, firstId)
  // The bypassing call's answer replaced the stored one.
  const [hit, hitId, none] = await send(body)
  assert.deepEqual([hit, hitId, none], ['hit', bypassId, 0])
})

test('noStore answers (from the cache when it can) but never stores', async () => {
  const body = ask()
  assert.deepEqual(await send({ ...body, cache: { noStore: true } }).then(withoutId), ['miss', 1])
  assert.deepEqual(await send({ ...body, cache: { noStore: true } }).then(withoutId), ['miss', 1])
  // Nothing was stored: a plain call misses too, and stores.
  const [, storedId] = await send(body)
  const [status, id, calls] = await send({ ...body, cache: { noStore: true } })
  assert.deepEqual([status, id, calls], ['hit', storedId, 0])
})

test('noRead and noStore together: the cache is neither read nor written', async () => {
  const body = ask()
  await send(body)
  const [status, , calls] = await send({ ...body, cache: { noRead: true, noStore: true } })
  assert.deepEqual([status, calls], ['bypass', 1])
  const log = await mock.log()
  assert.equal(log.length, 2)
})

test('ttl (seconds) bounds how long this answer is served', async () => {
  const body = ask({ cache: { ttl: 0.3 } })
  assert.equal((await send(body))[0], 'miss')
  assert.deepEqual(await send(body).then(withoutId), ['hit', 0])
  await new Promise((r) => setTimeout(r, 500))
  assert.deepEqual(await send(body).then(withoutId), ['miss', 1])
})

test('refresh asks the provider again and replaces the stored answer', async () => {
  const body = ask()
  const [, oldId] = await send(body)
  const [status, newId, calls] = await send({ ...body, cache: { refresh: true } })
  assert.deepEqual([status, calls], ['bypass', 1])
  assert.notEqual(newId, oldId)
  const [hit, id, none] = await send(body)
  assert.deepEqual([hit, id, none], ['hit', newId, 0])
})

test('namespace keeps answers apart inside the caller own cache', async () => {
  const body = ask()
  const [, plainId] = await send(body)
  const [v1, v1Id, v1Calls] = await send({ ...body, cache: { namespace: 'v1' } })
  assert.deepEqual([v1, v1Calls], ['miss', 1])
  assert.deepEqual(await send({ ...body, cache: { namespace: 'v2' } }).then(withoutId), ['miss', 1])
  assert.deepEqual(await send({ ...body, cache: { namespace: 'v1' } }), ['hit', v1Id, 0])
  assert.deepEqual(await send(body), ['hit', plainId, 0])
  // Another team's namespace of the same name is not the same cache.
  assert.deepEqual(await send({ ...body, team: 'b', cache: { namespace: 'v1' } }).then(withoutId), ['miss', 1])
})

test('streams honour the options too', async () => {
  const body = ask({ stream: true })
  const drain = async (b) => {
    const s = await gw.chat.completions.create(b)
    let text = ''
    for await (const c of s) text += c.choices[0]?.delta.content ?? ''
    return [s.switchpoint.cache, text]
  }
  const prompt = body.messages[0].content
  assert.deepEqual(await drain({ ...body, cache: { noStore: true } }), ['miss', prompt])
  assert.deepEqual(await drain(body), ['miss', prompt])
  assert.deepEqual(await drain(body), ['hit', prompt])
  assert.deepEqual(await drain({ ...body, cache: { refresh: true } }), ['bypass', prompt])
  assert.equal((await mock.log()).length, 3)
})

test('a misspelt or invalid option is a BadRequestError naming it, before anything is sent', async () => {
  const cases = [
    [{ noread: true }, 'cache.noread', /unknown field `noread`, expected one of `noRead`, `noStore`, `ttl`, `refresh`, `namespace`/],
    [{ no_store: true }, 'cache.no_store', /unknown field `no_store`/],
    ['yes', 'cache', /expected an object/],
    [null, 'cache', /expected an object/],
    [{ ttl: -1 }, 'cache.ttl', /non-negative number of seconds, got -1/],
    [{ noRead: 'yes' }, 'cache.no_read', /invalid type/],
    [{ namespace: 7 }, 'cache.namespace', /invalid type/],
  ]
  for (const [cache, param, message] of cases) {
    await assert.rejects(gw.chat.completions.create(ask({ cache })), (e) => {
      assert.ok(e instanceof BadRequestError, `${JSON.stringify(cache)}: ${e}`)
      assert.equal(e.param, param, JSON.stringify(cache))
      assert.match(e.message, message)
      return true
    })
  }
  // An option left undefined is no option.
  assert.equal((await send(ask({ cache: { noRead: undefined } })))[0], 'miss')
  assert.equal((await mock.log()).length, 1)
})

test('embeddings accept the option (their answers are not cached)', async () => {
  const r = await gw.embeddings.create({ model: 'embed-small', input: 'x', cache: { noStore: true } })
  assert.equal(r.data.length, 1)
  assert.equal(r.switchpoint.cache, undefined)
  assert.equal((await mock.log()).at(-1).body.cache, undefined)
})
