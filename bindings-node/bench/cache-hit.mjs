// Benchmark (not a test): a response-cache hit through the Node binding, beside baselines
// measured in the same process, so the figures say what the hit itself adds.
//
//   npm run build:release && node bench/cache-hit.mjs          (from bindings-node/)
//   BENCH_CALLS=50000 BENCH_ROUNDS=7 node bench/cache-hit.mjs
//
// Every row is a sequential loop (concurrency 1) of awaited calls, timed one by one with
// process.hrtime; rounds alternate the rows so machine noise hits all alike, and the round
// with the median p50 is reported. The mock provider answers only the one miss that fills
// the cache (and the `miss` row).
import { createRequire } from 'node:module'
import os from 'node:os'

const require = createRequire(import.meta.url)
const { Gateway } = require('../index.js')
const native = require('../native.js')
const { startMock } = require('../tests/helpers/mock.js')

const CALLS = Number(process.env.BENCH_CALLS ?? 20000)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5)
const MISS_CALLS = Number(process.env.BENCH_MISS_CALLS ?? 2000)

if (native.buildProfile() !== 'release' && !process.env.BENCH_ALLOW_DEBUG) {
  console.error('the loaded addon is a debug build: run `npm run build:release` first (or set BENCH_ALLOW_DEBUG=1)')
  process.exit(2)
}

const mock = await startMock()
const config = {
  providers: { oai: { kind: 'openai', base_url: `${mock.url}/v1`, api_key: 'sk-bench' } },
  models: { gpt: { provider: 'oai', model: 'gpt-4o-mini' } },
  cache: { enabled: true, ttl: '1h' },
}
const gw = Gateway.fromConfig(config)
const withCallback = Gateway.fromConfig(config)
let records = 0
withCallback.onRecord(() => records++)

const body = { model: 'gpt', messages: [{ role: 'user', content: 'Say hello to the benchmark' }], team: 'bench' }
// A native gateway of its own for the raw rows (request and context as ready JSON text).
const raw = native.Gateway.fromJson(JSON.stringify(config))
const rawRequest = JSON.stringify({ model: 'gpt', messages: body.messages })
const rawContext = JSON.stringify({ team: 'bench' })

// Fill the caches (one miss each) and check that the rows measure what they say.
for (const g of [gw, withCallback]) {
  const miss = await g.chat.completions.create(body)
  const hit = await g.chat.completions.create(body)
  if (miss.switchpoint.cache !== 'miss' || hit.switchpoint.cache !== 'hit') throw new Error('the cache did not hit')
}
await raw.chat(rawRequest, rawContext)
if (JSON.parse(await raw.chat(rawRequest, rawContext)).switchpoint.cache !== 'hit') throw new Error('raw: no hit')

let missCount = 0
const rows = {
  // The floor of any async call through the addon: JS -> tokio task -> promise settled in JS.
  'baseline: empty native round trip': () => native.__panicForTests('noop'),
  // A call refused before any I/O (request parse, route lookup, error back to JS, class built).
  'baseline: unknown model (error path)': () => gw.chat.completions.create({ ...body, model: 'nope' }).catch(() => null),
  'cache hit, native call (JSON text in/out)': () => raw.chat(rawRequest, rawContext),
  'cache hit, gw.chat.completions.create': () => gw.chat.completions.create(body),
  'cache hit, with an onRecord callback': () => withCallback.chat.completions.create(body),
  // For scale: a miss, answered by the mock provider on loopback.
  'cache miss (mock provider, loopback)': () =>
    gw.chat.completions.create({ ...body, messages: [{ role: 'user', content: `miss ${missCount++}` }] }),
}

async function run(call, n) {
  const lat = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    // Let the event loop turn now and then, as a server does between requests (a hit
    // settles without one; record callbacks are delivered when it turns). Not timed.
    if (i % 100 === 0) await new Promise((resolve) => setImmediate(resolve))
    const t0 = process.hrtime.bigint()
    await call()
    lat[i] = Number(process.hrtime.bigint() - t0) / 1000
  }
  lat.sort()
  const pct = (p) => lat[Math.min(n - 1, Math.floor((p / 100) * n))]
  return { p50: pct(50), p99: pct(99) }
}

const names = Object.keys(rows)
const calls = (name) => (name.startsWith('cache miss') ? MISS_CALLS : CALLS)
for (const name of names) await run(rows[name], Math.min(calls(name), 2000)) // warm-up
const results = Object.fromEntries(names.map((n) => [n, []]))
for (let r = 0; r < ROUNDS; r++) {
  for (const name of names) results[name].push(await run(rows[name], calls(name)))
  await mock.clearLog()
}
await withCallback.flushTelemetry()
await mock.stop()
const expectedRecords = 2 + Math.min(CALLS, 2000) + ROUNDS * CALLS
if (records !== expectedRecords) throw new Error(`${records} records reached the callback, expected ${expectedRecords}`)

const median = (list) => list.sort((a, b) => a.p50 - b.p50)[Math.floor(list.length / 2)]
console.log(`node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), load ${os.loadavg()[0].toFixed(1)}`)
console.log(`addon build: ${native.buildProfile()}; median of ${ROUNDS} rounds of ${CALLS} calls (misses: ${MISS_CALLS}); concurrency 1`)
console.log(`records delivered to the callback: ${records}`)
console.log('')
console.log('what                                        |  p50 (µs) |  p99 (µs)')
console.log('------------------------------------------- | --------- | ---------')
for (const name of names) {
  const { p50, p99 } = median(results[name])
  console.log(`${name.padEnd(43)} | ${p50.toFixed(1).padStart(9)} | ${p99.toFixed(1).padStart(9)}`)
}
const hit = median(results['cache hit, gw.chat.completions.create']).p50
const floor = median(results['baseline: empty native round trip']).p50
console.log('')
console.log(`cache hit p50 ${hit.toFixed(1)} µs (target < 20 µs: ${hit < 20 ? 'met' : 'missed'}); ` +
  `${(hit - floor).toFixed(1)} µs above the empty round trip`)
