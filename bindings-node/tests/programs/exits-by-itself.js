'use strict'
// Child process of exit.test.js: makes calls of every sort, then ends its work. It must exit
// by itself: nothing the binding holds (a registered onRecord callback or guardrail included) may keep
// the event loop alive.
const { Gateway } = require('../..')

async function main() {
  const url = process.env.MOCK_URL
  const gw = Gateway.fromConfig({
    providers: { oai: { kind: 'openai', base_url: `${url}/v1`, api_key: 'sk-test' } },
    models: { gpt: { provider: 'oai', model: 'gpt-4o-mini' } },
  })
  // A record callback that is never removed must not keep the process alive either.
  let records = 0
  gw.onRecord(() => records++)
  // Nor must a guardrail that is never removed (it sees every request and answer).
  let checks = 0
  gw.addGuardrail(async () => {
    checks++
  })
  const hi = { model: 'gpt', messages: [{ role: 'user', content: 'hi' }] }
  await Promise.all(Array.from({ length: 20 }, () => gw.chat.completions.create(hi)))
  const stream = await gw.chat.completions.create({ ...hi, stream: true })
  for await (const _ of stream) break
  // A stream that is never read nor closed.
  await gw.chat.completions.create({ ...hi, stream: true })
  await gw.embeddings.create({ model: 'oai/text-embedding-3-small', input: 'x' })
  await gw.chat.completions.create({ ...hi, model: 'nope' }).catch(() => {})
  const ac = new AbortController()
  const slow = gw.chat.completions.create({ ...hi, model: 'oai/gpt-4o-mini!delay_ms=5000' }, { signal: ac.signal })
  ac.abort()
  await slow.catch(() => {})
  await gw.flushTelemetry()
  const delivered = records
  const checked = checks
  gw.metricsText()
  gw.usage({ groupBy: 'team' })
  // The last await: its record is still on its way to the callback as the script ends.
  await gw.chat.completions.create(hi)
  process.stdout.write(`done ${Date.now()} records ${delivered} checks ${checked}\n`)
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
