'use strict'
// Child process of memory.test.js: 20,000 warm-up calls, then 100,000 measured calls (chat,
// streams, early breaks, embeddings and errors mixed), printing the memory before and after
// as JSON. Run with --expose-gc.
const assert = require('node:assert/strict')
const { Gateway } = require('../..')
const { mockConfig } = require('../helpers/mock')

const url = process.env.MOCK_URL
const gw = Gateway.fromConfig(mockConfig(url))

/** Call number `i`: mostly plain chat, every 50th a stream, every 50th embeddings, every 100th an error. */
async function call(i) {
  if (i % 100 === 7) {
    const e = await gw.chat.completions.create({ model: 'no-such-model', messages: [{ role: 'user', content: 'x' }] }).then(
      () => null,
      (err) => err,
    )
    assert.equal(e?.kind, 'not_found')
    return
  }
  if (i % 50 === 3) {
    const r = await gw.embeddings.create({ model: 'embed-small', input: `text ${i}` })
    assert.equal(r.data.length, 1)
    return
  }
  if (i % 50 === 1) {
    const s = await gw.chat.completions.create({ model: 'gpt', messages: [{ role: 'user', content: `s ${i}` }], stream: true })
    let n = 0
    for await (const _ of s) if (++n === 2 && i % 100 === 1) break
    return
  }
  const r = await gw.chat.completions.create({ model: 'gpt', messages: [{ role: 'user', content: `call ${i}` }] })
  assert.equal(r.choices[0].message.content, `call ${i}`)
}

async function run(from, count, concurrency) {
  let next = from
  const end = from + count
  const worker = async () => {
    while (next < end) await call(next++)
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
}

async function settledMemory() {
  for (let i = 0; i < 3; i++) {
    global.gc()
    await new Promise((r) => setTimeout(r, 50))
  }
  return process.memoryUsage()
}

const clearLog = () => fetch(`${url}/_mock/log`, { method: 'DELETE' })

async function main() {
  await run(0, 20_000, 64)
  await clearLog()
  const before = await settledMemory()
  const t0 = Date.now()
  for (let done = 0; done < 100_000; done += 10_000) {
    await run(20_000 + done, 10_000, 64)
    // The mock keeps a log of every request; keep its memory (not ours) flat too.
    await clearLog()
  }
  const secs = (Date.now() - t0) / 1000
  const after = await settledMemory()
  process.stdout.write(JSON.stringify({ before, after, secs }) + '\n')
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
