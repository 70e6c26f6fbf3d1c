'use strict'
// 1,000 requests in flight at once, each answered with its own content; the event loop stays
// responsive meanwhile (calls run on the core's runtime, not on the JS thread).

const test = require('node:test')
const assert = require('node:assert/strict')
const { Gateway } = require('..')
const { startMock, mockConfig } = require('./helpers/mock')

let mock
let gw
test.before(async () => {
  mock = await startMock()
  gw = Gateway.fromConfig(mockConfig(mock.url))
})
test.after(() => mock.stop())

test('1,000 concurrent chat completions with Promise.all', async () => {
  await mock.clearLog()
  const models = ['gpt', 'sonnet', 'flash', 'azure-gpt']
  const results = await Promise.all(
    Array.from({ length: 1000 }, (_, i) =>
      gw.chat.completions.create({
        model: models[i % models.length],
        max_tokens: 10,
        messages: [{ role: 'user', content: `request ${i}` }],
      }),
    ),
  )
  assert.equal(results.length, 1000)
  results.forEach((r, i) => {
    assert.equal(r.choices[0].message.content, `request ${i}`)
    assert.equal(r.switchpoint.model, models[i % models.length])
  })
  const log = await mock.log()
  assert.equal(log.length, 1000)
  assert.equal(new Set(log.map((e) => JSON.stringify(e.body))).size, 1000)
})

test('the event loop keeps running while 500 delayed calls are in flight', async () => {
  let ticks = 0
  const timer = setInterval(() => ticks++, 10)
  const calls = Array.from({ length: 500 }, (_, i) =>
    gw.chat.completions.create({ model: 'oai/gpt-4o-mini!delay_ms=300', messages: [{ role: 'user', content: `${i}` }] }),
  )
  const results = await Promise.all(calls)
  clearInterval(timer)
  assert.equal(results[499].choices[0].message.content, '499')
  assert.ok(ticks >= 10, `the event loop only ticked ${ticks} times in 300+ ms`)
})

test('concurrent streams and embeddings interleave correctly', async () => {
  const streams = Array.from({ length: 50 }, async (_, i) => {
    const s = await gw.chat.completions.create({
      model: i % 2 ? 'gpt' : 'flash',
      messages: [{ role: 'user', content: `stream ${i} of many words` }],
      stream: true,
    })
    let text = ''
    for await (const c of s) text += c.choices[0]?.delta?.content ?? ''
    return text
  })
  const embeds = Array.from({ length: 50 }, (_, i) => gw.embeddings.create({ model: 'embed-small', input: `e${i}` }))
  const texts = await Promise.all(streams)
  texts.forEach((t, i) => assert.equal(t, `stream ${i} of many words`))
  const vecs = await Promise.all(embeds)
  assert.equal(new Set(vecs.map((v) => v.data[0].embedding.join(','))).size, 50)
})
