// Uses every public name of the `switchpoint` package, so `tsc --strict --noEmit` (npm run
// typecheck; tests/typescript.test.js) proves the declarations are complete and precise.
// It is also a tour of the API: compile it with tsc and run it with SWITCHPOINT_CONFIG
// pointing at a config file that defines the models `gpt` and `embed`.
import {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIUserAbortError,
  AuthenticationError,
  BadRequestError,
  BudgetExceededError,
  Chat,
  ChatCompletionStream,
  Completions,
  ConfigError,
  ContentFilteredError,
  ContextWindowExceededError,
  Embeddings,
  Gateway,
  InternalError,
  InternalServerError,
  InvalidResponseError,
  Keys,
  NotFoundError,
  PermissionDeniedError,
  PolicyDeniedError,
  RateLimitError,
  RateLimitExceededError,
  Responses,
  ResponseStream,
  SwitchpointError,
} from 'switchpoint'
import type {
  AttemptFact,
  ChatCompletion,
  ChatCompletionAssistantMessageParam,
  ChatCompletionChoice,
  ChatCompletionChunk,
  ChatCompletionChunkChoice,
  ChatCompletionChunkDelta,
  ChatCompletionChunkIterator,
  ChatCompletionChunkToolCall,
  ChatCompletionContentPart,
  ChatCompletionContentPartFile,
  ChatCompletionContentPartImage,
  ChatCompletionContentPartInputAudio,
  ChatCompletionContentPartText,
  ChatCompletionCreateParams,
  ChatCompletionCreateParamsBase,
  ChatCompletionCreateParamsNonStreaming,
  ChatCompletionCreateParamsStreaming,
  ChatCompletionDeveloperMessageParam,
  ChatCompletionMessage,
  ChatCompletionMessageParam,
  ChatCompletionMessageToolCall,
  ChatCompletionNamedToolChoice,
  ChatCompletionRole,
  ChatCompletionStreamOptions,
  ChatCompletionSystemMessageParam,
  ChatCompletionTool,
  ChatCompletionToolChoiceOption,
  ChatCompletionToolMessageParam,
  ChatCompletionUserMessageParam,
  CompletionTokensDetails,
  CompletionUsage,
  CreateEmbeddingResponse,
  Embedding,
  EmbeddingCreateParams,
  EmbeddingUsage,
  ErrorKind,
  FinishReason,
  FunctionDefinition,
  FunctionParameters,
  GatewayConfig,
  GatewayOptions,
  JsonObject,
  JsonValue,
  ModelConfig,
  PromptTokensDetails,
  ProviderConfig,
  RequestOptions,
  ResponseFormat,
  SwitchpointErrorFields,
  SwitchpointFacts,
  SwitchpointRequestFields,
  TargetHealth,
  TimeoutsConfig,
} from 'switchpoint'

const timeouts: TimeoutsConfig = { connect: 2, total: '30s' }
const provider: ProviderConfig = { kind: 'openai', base_url: 'http://127.0.0.1:8080/v1', api_key: 'env:OPENAI_API_KEY', timeouts }
const model: ModelConfig = { provider: 'oai', model: 'gpt-4o-mini', aliases: ['fast'] }
const config: GatewayConfig = { providers: { oai: provider }, models: { gpt: model }, defaults: { timeouts } }
const options: GatewayOptions = { config }

const gw: Gateway = process.env.SWITCHPOINT_CONFIG ? Gateway.fromFile(process.env.SWITCHPOINT_CONFIG) : new Gateway(options)
const viaYaml: Gateway = Gateway.fromConfig('models: {}')
const zeroConfig: Gateway = Gateway.fromEnv()
const chat: Chat = gw.chat
const completions: Completions = chat.completions
const embeddings: Embeddings = gw.embeddings
const responses: Responses = gw.responses
// Virtual keys, budgets, limits, reload and the audit log in full: examples/policy.ts.
const keys: Keys = gw.keys

const schema: FunctionParameters = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] }
const fn: FunctionDefinition = { name: 'get_weather', description: 'Weather for a city', parameters: schema, strict: true }
const tool: ChatCompletionTool = { type: 'function', function: fn }
const named: ChatCompletionNamedToolChoice = { type: 'function', function: { name: 'get_weather' } }
const choice: ChatCompletionToolChoiceOption = Math.random() > 0.5 ? named : 'auto'
const role: ChatCompletionRole = 'user'

const text: ChatCompletionContentPartText = { type: 'text', text: 'What is in this image?' }
const image: ChatCompletionContentPartImage = { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA', detail: 'low' } }
const audio: ChatCompletionContentPartInputAudio = { type: 'input_audio', input_audio: { data: 'AAAA', format: 'wav' } }
const file: ChatCompletionContentPartFile = { type: 'file', file: { file_id: 'file-1' } }
const parts: ChatCompletionContentPart[] = [text, image, audio, file]

const system: ChatCompletionSystemMessageParam = { role: 'system', content: 'Be brief.' }
const developer: ChatCompletionDeveloperMessageParam = { role: 'developer', content: [text] }
const user: ChatCompletionUserMessageParam = { role, content: parts } as ChatCompletionUserMessageParam
const call: ChatCompletionMessageToolCall = { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }
const assistant: ChatCompletionAssistantMessageParam = { role: 'assistant', content: null, tool_calls: [call] }
const toolResult: ChatCompletionToolMessageParam = { role: 'tool', tool_call_id: 'call_1', content: 'sunny' }
const messages: ChatCompletionMessageParam[] = [system, developer, user, assistant, toolResult]

const format: ResponseFormat = { type: 'json_schema', json_schema: { name: 'weather', schema, strict: true } }
const streamOptions: ChatCompletionStreamOptions = { include_usage: true }
const own: SwitchpointRequestFields = { apiKey: 'vk-team-a', team: 'search', tier: 'pro', tags: ['chat'], timeout: 30 }
const base: ChatCompletionCreateParamsBase = { model: 'gpt', messages, tools: [tool], tool_choice: choice, response_format: format, ...own }
const plain: ChatCompletionCreateParamsNonStreaming = { ...base, stream: false, user: 'u-1', metadata: { job: 'demo' } }
const streaming: ChatCompletionCreateParamsStreaming = { ...base, stream: true, stream_options: streamOptions }
const either: ChatCompletionCreateParams = Math.random() > 0.5 ? plain : streaming
const extra: JsonObject = { top_k: 5 }
const anyJson: JsonValue = [1, 'two', null, { three: true }]

function describeUsage(usage: CompletionUsage | null | undefined): string {
  if (!usage) return 'no usage'
  const prompt: PromptTokensDetails | undefined = usage.prompt_tokens_details
  const completion: CompletionTokensDetails | undefined = usage.completion_tokens_details
  return `${usage.prompt_tokens}+${usage.completion_tokens} (cached ${prompt?.cached_tokens ?? 0}, reasoning ${completion?.reasoning_tokens ?? 0})`
}

function describeHealth(gateway: Gateway): string {
  const targets: TargetHealth[] = gateway.health()
  return targets.map((t) => `${t.provider}/${t.model} ${t.state} ${(t.error_rate * 100).toFixed(0)}%`).join(', ')
}

function describeFacts(facts: SwitchpointFacts | null | undefined): string {
  if (!facts) return 'no facts'
  const attempts = facts.attempts.map((a: AttemptFact) => (a.status === 'ok' ? `${a.provider}: ok` : `${a.provider}: ${a.error}`))
  return `${facts.provider}/${facts.provider_model} in ${facts.latency_ms.toFixed(1)} ms [${attempts.join(', ')}]`
}

async function main(): Promise<void> {
  const request: RequestOptions = { signal: AbortSignal.timeout(60_000), timeout: 30_000 }
  const completion: ChatCompletion = await completions.create({ ...plain, extra_body: extra }, request)
  const first: ChatCompletionChoice = completion.choices[0]!
  const message: ChatCompletionMessage = first.message
  const reason: FinishReason | null = first.finish_reason
  console.log(message.content, message.tool_calls?.[0]?.function.name, reason, describeUsage(completion.usage), describeFacts(completion.switchpoint))
  console.log(describeHealth(gw))

  const stream: ChatCompletionStream = await completions.create(streaming)
  for await (const chunk of stream) {
    const c: ChatCompletionChunk = chunk
    const part: ChatCompletionChunkChoice | undefined = c.choices[0]
    const delta: ChatCompletionChunkDelta | undefined = part?.delta
    const pieces: ChatCompletionChunkToolCall[] = delta?.tool_calls ?? []
    process.stdout.write(delta?.content ?? pieces.map((p) => p.function?.arguments ?? '').join(''))
    if (c.usage) console.log(describeUsage(c.usage))
  }
  console.log(describeFacts(stream.switchpoint))

  const again: ChatCompletionStream = await completions.create(streaming)
  const [left, right]: [ChatCompletionChunkIterator, ChatCompletionChunkIterator] = again.tee()
  await left.next()
  await left.return()
  await right.return()
  again.controller.abort()

  const result = await completions.create(either)
  if (result instanceof ChatCompletionStream) await result.return()
  else console.log(result.id)

  // The Responses API in full: examples/responses.ts.
  const answer = await responses.create({ model: 'gpt', input: 'hi', stream: Math.random() > 0.5 })
  if (answer instanceof ResponseStream) await answer.return()
  else console.log(answer.output_text)

  const params: EmbeddingCreateParams = { model: 'embed', input: ['a', 'b'], dimensions: 4 }
  const vectors: CreateEmbeddingResponse = await embeddings.create(params)
  const one: Embedding = vectors.data[0]!
  const usage: EmbeddingUsage = vectors.usage
  const b64: CreateEmbeddingResponse<string> = await embeddings.create({ ...params, encoding_format: 'base64' })
  const packed: Embedding<string> = b64.data[0]!
  console.log(one.embedding.length, usage.total_tokens, packed.embedding.length, anyJson)

  try {
    await completions.create(plain)
  } catch (err) {
    if (err instanceof RateLimitExceededError) console.log('gateway limit; retry in', err.retryAfter)
    else if (err instanceof RateLimitError) console.log('provider limit; retry in', err.retryAfter)
    else if (err instanceof APIConnectionTimeoutError) console.log('timed out')
    else if (err instanceof APIConnectionError) console.log('connection failed')
    else if (err instanceof ContextWindowExceededError) console.log('too long for', err.provider)
    else if (err instanceof BadRequestError) console.log('bad field', err.param)
    else if (err instanceof AuthenticationError || err instanceof PermissionDeniedError) console.log('check the key', err.status)
    else if (err instanceof NotFoundError) console.log('no such model')
    else if (err instanceof ContentFilteredError) console.log('blocked')
    else if (err instanceof InternalServerError) console.log('provider down', err.status)
    else if (err instanceof InvalidResponseError) console.log('provider sent garbage')
    else if (err instanceof BudgetExceededError || err instanceof PolicyDeniedError) console.log('refused by policy')
    else if (err instanceof ConfigError) console.log('config', err.param)
    else if (err instanceof APIUserAbortError) console.log('aborted')
    else if (err instanceof InternalError) console.log('bug', err.code)
    else if (err instanceof APIError) console.log(err.kind)
    else throw err
  }

  const kind: ErrorKind = new Gateway.RateLimitError('slow down').kind
  const fields: SwitchpointErrorFields = { kind, status: 429, retryAfter: 2, provider: 'oai', param: 'model', code: 'rate_limit_exceeded' }
  const custom: SwitchpointError = new SwitchpointError('custom', fields)
  console.log(custom.kind, SwitchpointError.kind, viaYaml === zeroConfig, (await keys.list()).length)
}

main().catch((err: unknown) => {
  console.error(err)
  process.exitCode = 1
})
