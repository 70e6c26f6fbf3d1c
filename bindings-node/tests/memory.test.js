'use strict'
// 100,000 calls (chat, streams, embeddings, errors and aborts mixed in) grow the process's
// RSS by less than 20 MiB after warm-up: nothing per call is leaked on either side.

const test = require('node:test')
const assert = require('node:assert/strict')
const v8 = require('node:v8')
const vm = require('node:vm')
const { Gateway } = require('..')
const { startMock, mockConfig } = require('./helpers/mock')

if (typeof global.gc !== 'function') {
  // Same as running with --expose-gc.
  v8.setFlagsFromString('--expose-gc')
  global.gc = vm.runInNewContext('gc')
}

let mock
let gw
test.before(async () => {
  mock = await startMock()
  gw = Gateway.fromConfig(mockConfig(mock.url))
})
test.after(() => mock.stop())

/** Call number `i`: mostly plain chat, every 50th a stream, every 50th embeddings, every 100th an error. */
async function call(i) {
  if (i % 100 === 7) {
    await gw.chat.completions.create({ model: 'no-such-model', messages: [{ role: 'user', content: 'x' }] }).catch((e) => {
      if (e.kind !== 'not_found') throw e
    })
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
  if (r.choices[0].message.content !== `call ${i}`) throw new Error(`wrong answer for ${i}`)
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

const mib = (bytes) => (bytes / 2 ** 20).toFixed(1)

test('100,000 calls grow RSS by less than 20 MiB', { timeout: 400_000 }, async () => {
  // Warm-up: V8 sizes its young generation, allocators and the connection pool fill their
  // caches; all of that plateaus within the first ~20,000 calls.
  await run(0, 20_000, 64)
  await mock.clearLog()
  const before = await settledMemory()
  const t0 = Date.now()
  for (let done = 0; done < 100_000; done += 10_000) {
    await run(20_000 + done, 10_000, 64)
    // The mock keeps a log of every request; keep its memory (not ours) flat too.
    await mock.clearLog()
  }
  const secs = (Date.now() - t0) / 1000
  const after = await settledMemory()
  const growthMiB = (after.rss - before.rss) / 2 ** 20
  console.log(
    `# 100,000 calls in ${secs.toFixed(1)} s; RSS ${mib(before.rss)} -> ${mib(after.rss)} MiB ` +
      `(growth ${growthMiB.toFixed(2)} MiB; V8 heap total ${mib(before.heapTotal)} -> ${mib(after.heapTotal)}, ` +
      `used ${mib(before.heapUsed)} -> ${mib(after.heapUsed)})`,
  )
  assert.ok(growthMiB < 20, `RSS grew by ${growthMiB.toFixed(2)} MiB`)
})
