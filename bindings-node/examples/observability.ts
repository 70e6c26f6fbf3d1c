// Cache controls, cost facts, metrics, usage queries and record callbacks, typed with the
// package's declarations (`tsc --strict --noEmit` checks it; tests/typescript.test.js).
// Run it (after tsc) with SWITCHPOINT_CONFIG pointing at a config that defines `gpt`, or
// as is against http://127.0.0.1:8080/v1.
import { BadRequestError, Gateway } from 'switchpoint'
import type {
  ByteSize,
  CacheConfig,
  CacheOptions,
  CacheStatus,
  ChatCompletion,
  CostFact,
  DurationValue,
  GatewayConfig,
  GroupBy,
  PriceConfig,
  RecordCache,
  RecordCaller,
  RecordContent,
  RecordCost,
  RecordTokens,
  RequestRecord,
  RouteCacheConfig,
  SemanticCacheConfig,
  TelemetryConfig,
  UsageOptions,
  UsageRow,
} from 'switchpoint'

const hour: DurationValue = '1h'
const size: ByteSize = '64MiB'
const semantic: SemanticCacheConfig = { embedding_model: 'embed', threshold: 0.95, max_entries: 1000 }
const faq: RouteCacheConfig = { shared: true, ttl: 86_400, semantic }
const cache: CacheConfig = { enabled: true, max_bytes: size, ttl: hour, routes: { faq, creative: { enabled: false } } }
const telemetry: TelemetryConfig = {
  queue_size: 10_000,
  metrics: { max_label_values: 100 },
  usage: { bucket: '1m', retention: '24h' },
  record_content: false,
}
const price: PriceConfig = { input: '2.50', cached_input: '1.25', output: 10, capabilities: ['tools'] }
const config: GatewayConfig = {
  providers: { oai: { kind: 'openai', base_url: 'http://127.0.0.1:8080/v1', api_key: 'sk-local' } },
  models: { gpt: { provider: 'oai', model: 'gpt-4o-mini' } },
  cache,
  telemetry,
  pricing: { oai: { 'gpt-4o-mini': price } },
}
const gw = process.env.SWITCHPOINT_CONFIG ? Gateway.fromFile(process.env.SWITCHPOINT_CONFIG) : Gateway.fromConfig(config)

function describeRecord(r: RequestRecord): string {
  const tokens: RecordTokens = r.tokens
  const cost: RecordCost | undefined = r.cost
  const cacheOutcome: RecordCache = r.cache
  const caller: RecordCaller = r.caller
  const content: RecordContent | undefined = r.content
  const outcome = r.status === 'ok' ? 'ok' : `failed (${r.error_kind})`
  return (
    `${r.call} ${r.route} via ${r.provider}: ${outcome} in ${r.latency_ms.toFixed(1)} ms, ` +
    `${tokens.prompt}+${tokens.completion} tokens, ${cost?.total ?? 'unpriced'} USD, ` +
    `cache ${cacheOutcome.status} (saved ${cacheOutcome.saved_usd ?? '0'}), ` +
    `team ${caller.team ?? '-'}${content ? `, asked ${content.prompt.length} chars` : ''}`
  )
}

function describeCost(response: ChatCompletion): string {
  const status: CacheStatus | undefined = response.switchpoint?.cache
  const cost: CostFact | undefined = response.switchpoint?.cost
  return `cache ${status ?? 'off'}: paid ${cost?.usd ?? '?'} USD, saved ${cost?.saved_usd ?? '0'} USD`
}

async function main(): Promise<void> {
  const off: () => void = gw.onRecord((record) => console.log(describeRecord(record)))
  const ask = { model: 'gpt', messages: [{ role: 'user' as const, content: 'What is switchpoint?' }], team: 'docs' }

  const fresh: CacheOptions = { refresh: true, ttl: 600, namespace: 'v2' }
  console.log(describeCost(await gw.chat.completions.create({ ...ask, cache: fresh })))
  console.log(describeCost(await gw.chat.completions.create({ ...ask, cache: { namespace: 'v2' } })))
  const skip: CacheOptions = { noRead: true, noStore: true }
  console.log(describeCost(await gw.chat.completions.create({ ...ask, cache: skip })))

  const byTeam: UsageOptions = { since: new Date(Date.now() - 3_600_000), groupBy: 'team' }
  const rows: UsageRow[] = gw.usage(byTeam)
  for (const row of rows) {
    console.log(`${row.group ?? '(none)'}: ${row.requests} requests, ${row.errors} errors, ${row.cache_hits} hits, ${row.cost_usd} USD (saved ${row.saved_usd})`)
  }
  const groups: GroupBy[] = ['total', 'user', 'model', 'route', 'provider', 'tag', 'key']
  for (const groupBy of groups) console.log(groupBy, gw.usage({ since: 0, groupBy }).length)
  try {
    gw.usage({ groupBy: 'weekday' as GroupBy })
  } catch (err) {
    if (err instanceof BadRequestError) console.log('bad', err.param)
  }

  const text: string = gw.metricsText()
  console.log(text.split('\n').filter((line) => line.startsWith('switchpoint_requests_total')).join('\n'))
  const flushed: boolean = await gw.flushTelemetry(2000)
  console.log('flushed', flushed)
  off()
}

main().catch((err: unknown) => {
  console.error(err)
  process.exitCode = 1
})
