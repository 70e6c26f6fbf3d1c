// Benchmark (not a test): switchpoint vs the official `openai` package, both calling the same
// mock provider on loopback, side by side in one run. Prints per-call latency p50/p99 and
// requests per second at concurrency 1 and 256.
//
//   npm run build:release && node bench/bench.mjs            (from bindings-node/)
//   BENCH_CALLS_C1=3000 BENCH_CALLS_C256=30000 BENCH_ROUNDS=3 node bench/bench.mjs
//
// Each (client, concurrency) cell runs BENCH_ROUNDS rounds, alternating the two clients so
// machine noise hits both alike, after a warm-up; the round with the median throughput is
// reported.
import { createRequire } from 'node:module'
import { performance } from 'node:perf_hooks'
import fs from 'node:fs'
import os from 'node:os'
import OpenAI from 'openai'

const require = createRequire(import.meta.url)
const { Gateway } = require('../index.js')
const native = require('../native.js')
const { startMock } = require('../tests/helpers/mock.js')

const env = (name, fallback) => Number(process.env[name] ?? fallback)
const CALLS = { 1: env('BENCH_CALLS_C1', 2000), 256: env('BENCH_CALLS_C256', 20000) }
const ROUNDS = env('BENCH_ROUNDS', 3)
const MODEL = 'gpt-4o-mini'
const body = { model: MODEL, messages: [{ role: 'user', content: 'Say hello to the benchmark' }] }

if (native.buildProfile() !== 'release' && !process.env.BENCH_ALLOW_DEBUG) {
  console.error('the loaded addon is a debug build: run `npm run build:release` first (or set BENCH_ALLOW_DEBUG=1)')
  process.exit(2)
}

const openaiVersion = JSON.parse(
  fs.readFileSync(new URL('../node_modules/openai/package.json', import.meta.url), 'utf8'),
).version

const mock = await startMock()
const clients = {
  switchpoint: Gateway.fromConfig({
    providers: { openai: { kind: 'openai', base_url: `${mock.url}/v1`, api_key: 'sk-bench' } },
    models: { [MODEL]: { provider: 'openai' } },
  }),
  openai: new OpenAI({ baseURL: `${mock.url}/v1`, apiKey: 'sk-bench', maxRetries: 0 }),
}

/** `calls` chat completions with `concurrency` in flight; latencies in ms and wall seconds. */
async function run(client, calls, concurrency) {
  const latencies = new Float64Array(calls)
  let next = 0
  const worker = async () => {
    while (next < calls) {
      const i = next++
      const t0 = performance.now()
      const r = await client.chat.completions.create(body)
      latencies[i] = performance.now() - t0
      if (r.choices[0].message.content !== 'Say hello to the benchmark') throw new Error('wrong answer')
    }
  }
  const start = performance.now()
  await Promise.all(Array.from({ length: concurrency }, worker))
  const wall = (performance.now() - start) / 1000
  latencies.sort()
  const pct = (p) => latencies[Math.min(calls - 1, Math.floor((p / 100) * calls))]
  return { p50: pct(50), p99: pct(99), rps: calls / wall }
}

const results = {}
for (const concurrency of [1, 256]) {
  const calls = CALLS[concurrency]
  for (const name of Object.keys(clients)) await run(clients[name], Math.min(calls, 2000), concurrency) // warm-up
  const rounds = { switchpoint: [], openai: [] }
  for (let r = 0; r < ROUNDS; r++) {
    for (const name of Object.keys(clients)) {
      rounds[name].push(await run(clients[name], calls, concurrency))
      await mock.clearLog()
    }
  }
  for (const name of Object.keys(clients)) {
    const sorted = rounds[name].sort((a, b) => a.rps - b.rps)
    results[`${name}@${concurrency}`] = sorted[Math.floor(sorted.length / 2)]
  }
}
await mock.stop()

const f = (x, d = 3) => x.toFixed(d).padStart(9)
console.log(`switchpoint vs openai ${openaiVersion}, node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'})`)
console.log(`mock provider on loopback; addon build: ${native.buildProfile()}; median of ${ROUNDS} rounds; calls per round: c=1 ${CALLS[1]}, c=256 ${CALLS[256]}`)
console.log('')
console.log('concurrency | client      |  p50 (ms) |  p99 (ms) |     req/s')
console.log('----------- | ----------- | --------- | --------- | ---------')
for (const concurrency of [1, 256]) {
  for (const name of ['switchpoint', 'openai']) {
    const r = results[`${name}@${concurrency}`]
    console.log(`${String(concurrency).padStart(11)} | ${name.padEnd(11)} | ${f(r.p50)} | ${f(r.p99)} | ${f(r.rps, 0)}`)
  }
}
console.log('')
for (const concurrency of [1, 256]) {
  const s = results[`switchpoint@${concurrency}`]
  const o = results[`openai@${concurrency}`]
  console.log(
    `c=${concurrency}: p50 ratio switchpoint/openai = ${(s.p50 / o.p50).toFixed(2)}x (target <= 0.5x); ` +
      `throughput ratio = ${(s.rps / o.rps).toFixed(2)}x${concurrency === 256 ? ' (target >= 2x)' : ''}`,
  )
}
