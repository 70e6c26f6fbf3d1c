// A program written for the official `openai` npm package. openai-compat.test.js runs it as
// is against the mock provider, then with only the import and the constructor changed to
// switchpoint's, and checks both runs print the same thing.
import OpenAI, { APIError, RateLimitError } from 'openai'

const client = new OpenAI({ baseURL: `${process.env.MOCK_URL}/v1`, apiKey: 'sk-test-openai', maxRetries: 0 })

const model = 'gpt-4o-mini'
const out = []

// A plain completion.
const completion = await client.chat.completions.create({
  model,
  messages: [
    { role: 'system', content: 'You are terse.' },
    { role: 'user', content: 'Say hello to Node' },
  ],
  max_completion_tokens: 100,
})
const choice = completion.choices[0]
out.push(['chat', choice.message.role, choice.message.content, choice.finish_reason, completion.usage?.total_tokens])

// A stream, with usage at the end.
const stream = await client.chat.completions.create({
  model,
  messages: [{ role: 'user', content: 'stream these five words' }],
  stream: true,
  stream_options: { include_usage: true },
})
let text = ''
let streamed = 0
for await (const chunk of stream) {
  text += chunk.choices[0]?.delta?.content ?? ''
  if (chunk.usage) streamed = chunk.usage.completion_tokens
}
out.push(['stream', text, streamed])

// Leaving a stream early.
const early = await client.chat.completions.create({
  model,
  messages: [{ role: 'user', content: 'one two three four five six seven' }],
  stream: true,
})
let first = ''
for await (const chunk of early) {
  first += chunk.choices[0]?.delta?.content ?? ''
  if (first.includes('two')) break
}
out.push(['early break', first])

// Tools, and the tool result sent back.
const tools = [
  {
    type: 'function',
    function: {
      name: 'get_weather',
      description: 'Weather for a city',
      parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
    },
  },
]
const asked = { role: 'user', content: 'get_weather for Paris' }
const withTools = await client.chat.completions.create({ model, messages: [asked], tools })
const message = withTools.choices[0].message
const call = message.tool_calls[0]
out.push(['tool call', withTools.choices[0].finish_reason, call.type, call.function.name, JSON.parse(call.function.arguments)])
const answered = await client.chat.completions.create({
  model,
  messages: [asked, message, { role: 'tool', tool_call_id: call.id, content: 'sunny, 21 C' }],
  tools,
})
out.push(['tool result', answered.choices[0].message.content])

// Embeddings.
const embeddings = await client.embeddings.create({ model: 'text-embedding-3-small', input: ['alpha', 'beta'], dimensions: 4 })
out.push(['embeddings', embeddings.data.length, embeddings.data.map((d) => d.embedding.map((x) => x.toFixed(6)))])

// A rate limit, caught by class.
await fetch(`${process.env.MOCK_URL}/_mock/script`, { method: 'POST', body: JSON.stringify([{ status: 429, retry_after: 2 }]) })
try {
  await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'again' }] })
  out.push(['no error'])
} catch (err) {
  if (err instanceof RateLimitError) out.push(['rate limited', err.status, err instanceof APIError])
  else throw err
}

// Cancelled by the caller.
const controller = new AbortController()
const pending = client.chat.completions.create(
  { model, messages: [{ role: 'user', content: 'never mind' }] },
  { signal: controller.signal },
)
controller.abort()
try {
  await pending
  out.push(['not aborted'])
} catch (err) {
  out.push(['aborted', err.constructor.name])
}

console.log(JSON.stringify(out, null, 1))
