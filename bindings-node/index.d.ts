// Type declarations for the npm package `switchpoint`: the `openai` package's request and
// response shapes, field by field, plus switchpoint's own fields, facts and error classes.
// (native.d.ts is napi-rs's generated declaration of the raw addon behind index.js.)

// ---------------------------------------------------------------------------------------
// JSON
// ---------------------------------------------------------------------------------------

/** Any JSON value (JSON-schema parameters, provider-specific extras). */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue }

/** A JSON object. */
export type JsonObject = { [key: string]: JsonValue }

// ---------------------------------------------------------------------------------------
// Messages
// ---------------------------------------------------------------------------------------

/** Who wrote a message. */
export type ChatCompletionRole = 'system' | 'developer' | 'user' | 'assistant' | 'tool'

/** A text part of a message. */
export interface ChatCompletionContentPartText {
  type: 'text'
  text: string
}

/** An image part: an http(s) URL or a `data:<type>;base64,...` URI. */
export interface ChatCompletionContentPartImage {
  type: 'image_url'
  image_url: {
    url: string
    detail?: 'auto' | 'low' | 'high'
  }
}

/** An audio part (passed to OpenAI-shaped providers as is). */
export interface ChatCompletionContentPartInputAudio {
  type: 'input_audio'
  input_audio: {
    /** Base64-encoded audio. */
    data: string
    format: 'wav' | 'mp3'
  }
}

/** A file part (passed to OpenAI-shaped providers as is). */
export interface ChatCompletionContentPartFile {
  type: 'file'
  file: {
    file_data?: string
    file_id?: string
    filename?: string
  }
}

/** One typed part of a user message. */
export type ChatCompletionContentPart =
  | ChatCompletionContentPartText
  | ChatCompletionContentPartImage
  | ChatCompletionContentPartInputAudio
  | ChatCompletionContentPartFile

/** Instructions for the model. */
export interface ChatCompletionSystemMessageParam {
  role: 'system'
  content: string | ChatCompletionContentPartText[]
  name?: string
}

/** Instructions for the model (the newer name of `system` on OpenAI). */
export interface ChatCompletionDeveloperMessageParam {
  role: 'developer'
  content: string | ChatCompletionContentPartText[]
  name?: string
}

/** What the user said. */
export interface ChatCompletionUserMessageParam {
  role: 'user'
  content: string | ChatCompletionContentPart[]
  name?: string
}

/** A previous answer of the model, possibly with the tools it called. */
export interface ChatCompletionAssistantMessageParam {
  role: 'assistant'
  /** Null or absent when the message only calls tools. */
  content?: string | ChatCompletionContentPartText[] | null
  name?: string
  refusal?: string | null
  tool_calls?: ChatCompletionMessageToolCall[]
}

/** The result of a tool call, answering the call with `tool_call_id`. */
export interface ChatCompletionToolMessageParam {
  role: 'tool'
  content: string | ChatCompletionContentPartText[]
  tool_call_id: string
}

/** One message of the conversation. */
export type ChatCompletionMessageParam =
  | ChatCompletionSystemMessageParam
  | ChatCompletionDeveloperMessageParam
  | ChatCompletionUserMessageParam
  | ChatCompletionAssistantMessageParam
  | ChatCompletionToolMessageParam

// ---------------------------------------------------------------------------------------
// Tools
// ---------------------------------------------------------------------------------------

/** A function's parameters as a JSON schema object. */
export type FunctionParameters = JsonObject

/** A function the model may call. */
export interface FunctionDefinition {
  name: string
  description?: string
  parameters?: FunctionParameters
  strict?: boolean | null
}

/** A tool the model may call (chat completions define only functions). */
export interface ChatCompletionTool {
  type: 'function'
  function: FunctionDefinition
}

/** Forces one named function. */
export interface ChatCompletionNamedToolChoice {
  type: 'function'
  function: { name: string }
}

/** Whether and which tool the model must call. */
export type ChatCompletionToolChoiceOption = 'none' | 'auto' | 'required' | ChatCompletionNamedToolChoice

/** A tool call the model made; `arguments` is JSON text, as on the wire. */
export interface ChatCompletionMessageToolCall {
  id: string
  type: 'function'
  function: {
    name: string
    arguments: string
  }
}

// ---------------------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------------------

/** The shape the answer must have. */
export type ResponseFormat =
  | { type: 'text' }
  | { type: 'json_object' }
  | {
      type: 'json_schema'
      json_schema: {
        name: string
        description?: string
        schema?: JsonObject
        strict?: boolean | null
      }
    }

/** Options of a streamed answer. */
export interface ChatCompletionStreamOptions {
  /** Adds a final chunk with `choices: []` and `usage` (and the gateway's facts). */
  include_usage?: boolean
}

/**
 * switchpoint's own fields, accepted beside the OpenAI ones in every `create()` body. They
 * are never sent to the provider; `user` (an OpenAI field) is sent and also identifies the
 * caller to the gateway.
 */
export interface SwitchpointRequestFields {
  /** A virtual key the gateway issued (for policies); never replaces the provider's key. */
  apiKey?: string
  /** The caller's team, for accounting. */
  team?: string
  /** The caller's tier (`free`, `pro`, ...), for routing rules. */
  tier?: string
  /** Workload labels (`summarize`, `chat`, ...). */
  tags?: string[]
  /** An overall deadline for this call, in seconds. */
  timeout?: number
  /** Key-value data recorded with the request by the gateway (not sent to the provider). */
  metadata?: JsonObject
  /** This call's use of the response cache (when the route has one). */
  cache?: CacheOptions
}

/**
 * Per-request control of the response cache: the `cache` field of a `create()` body.
 * Unknown fields are refused with a `BadRequestError` naming them.
 */
export interface CacheOptions {
  /** Do not answer from the cache (the answer may still be stored). */
  noRead?: boolean
  /** Do not store this answer. */
  noStore?: boolean
  /** Time to live of the stored answer, seconds (overrides the route's). */
  ttl?: number
  /** Ask the provider again and replace the stored answer. */
  refresh?: boolean
  /** A sub-namespace inside the caller's own (never another tenant's). */
  namespace?: string
}

/** The fields of a chat completion request, streamed or not. */
export interface ChatCompletionCreateParamsBase extends SwitchpointRequestFields {
  /** A configured model name, an alias, or `provider/model`. */
  model: string
  messages: ChatCompletionMessageParam[]
  tools?: ChatCompletionTool[]
  tool_choice?: ChatCompletionToolChoiceOption
  parallel_tool_calls?: boolean
  temperature?: number | null
  top_p?: number | null
  /** Deprecated by OpenAI in favour of `max_completion_tokens`; either caps the answer. */
  max_tokens?: number | null
  max_completion_tokens?: number | null
  stop?: string | string[] | null
  n?: number | null
  seed?: number | null
  presence_penalty?: number | null
  frequency_penalty?: number | null
  logit_bias?: { [token: string]: number } | null
  logprobs?: boolean | null
  top_logprobs?: number | null
  reasoning_effort?: 'minimal' | 'low' | 'medium' | 'high' | null
  response_format?: ResponseFormat
  /** The end user; sent to the provider and used by the gateway for per-user accounting. */
  user?: string
  store?: boolean | null
  service_tier?: 'auto' | 'default' | 'flex' | 'scale' | 'priority' | null
  stream_options?: ChatCompletionStreamOptions | null
  /** Provider-specific parameters, merged into the provider's request body untouched. */
  extra_body?: JsonObject
}

/** A chat completion request answered in one piece. */
export interface ChatCompletionCreateParamsNonStreaming extends ChatCompletionCreateParamsBase {
  stream?: false | null
}

/** A chat completion request answered as a stream of chunks. */
export interface ChatCompletionCreateParamsStreaming extends ChatCompletionCreateParamsBase {
  stream: true
}

/** A chat completion request. */
export type ChatCompletionCreateParams = ChatCompletionCreateParamsNonStreaming | ChatCompletionCreateParamsStreaming

/** An embeddings request. */
export interface EmbeddingCreateParams extends SwitchpointRequestFields {
  model: string
  /** One text, several, or token ids (token ids only for OpenAI-shaped providers). */
  input: string | string[] | number[] | number[][]
  dimensions?: number
  encoding_format?: 'float' | 'base64'
  user?: string
  /** Provider-specific parameters, merged into the provider's request body untouched. */
  extra_body?: JsonObject
}

/** Per-call options, as the `openai` package's second `create()` argument. */
export interface RequestOptions {
  /** Aborting it cancels the call (or stops the stream) with `APIUserAbortError`. */
  signal?: AbortSignal
  /** An overall deadline in milliseconds (as in `openai`); the sooner of this and the body's `timeout`. */
  timeout?: number
}

// ---------------------------------------------------------------------------------------
// Responses
// ---------------------------------------------------------------------------------------

/** Why the model stopped. */
export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter' | 'function_call'

/** Tokens spent on the prompt, in detail. */
export interface PromptTokensDetails {
  /** Prompt tokens read from the provider's prompt cache. */
  cached_tokens?: number
  /** Prompt tokens written to the provider's prompt cache (Anthropic). */
  cache_creation_tokens?: number
  audio_tokens?: number
}

/** Tokens spent on the answer, in detail. */
export interface CompletionTokensDetails {
  /** Tokens the model spent thinking (counted in `completion_tokens`). */
  reasoning_tokens?: number
  audio_tokens?: number
  accepted_prediction_tokens?: number
  rejected_prediction_tokens?: number
}

/** Token usage of a call, read exactly from the provider. */
export interface CompletionUsage {
  prompt_tokens: number
  completion_tokens: number
  total_tokens: number
  prompt_tokens_details?: PromptTokensDetails
  completion_tokens_details?: CompletionTokensDetails
}

/** An error kind, as the core names it. */
export type ErrorKind =
  | 'auth'
  | 'permission_denied'
  | 'not_found'
  | 'rate_limited'
  | 'timeout'
  | 'connection'
  | 'bad_request'
  | 'context_window_exceeded'
  | 'content_filtered'
  | 'unavailable'
  | 'invalid_response'
  | 'budget_exceeded'
  | 'rate_limit_exceeded'
  | 'policy_denied'
  | 'config'
  | 'cancelled'
  | 'internal'

/** One try at one target. */
export type AttemptFact = {
  /** The provider (config name) tried. */
  provider: string
  /** The model id sent to it. */
  provider_model: string
  /** Time waiting on this provider, ms. */
  latency_ms: number
  /** The route the attempt belonged to. */
  route?: string
  /** Backoff or Retry-After waited before this attempt, ms. */
  waited_ms?: number
  /** Sent by hedging, while an earlier attempt was still running. */
  hedge?: boolean
  /** Continues a stream that was cut on an earlier attempt. */
  resumed?: boolean
  /** The error, for a failed attempt. */
  message?: string
} & ({ status: 'ok' } | { status: 'error'; error: ErrorKind })

/**
 * What the response cache did for a request: answered from the exact cache (`hit`) or the
 * semantic cache (`semantic_hit`), joined an identical request in flight (`coalesced`),
 * looked and found nothing (`miss`), or was skipped by `noRead` / `refresh` (`bypass`).
 */
export type CacheStatus = 'hit' | 'semantic_hit' | 'coalesced' | 'miss' | 'bypass'

/** What a request cost, exact decimals as text (`"0.00517"`). */
export interface CostFact {
  /** USD paid for this request (`"0"` for a cache hit). */
  usd: string
  /** For cache hits: what the answer cost when it was first made. */
  saved_usd?: string
}

/** One target's state, from `gateway.health()`. */
export interface TargetHealth {
  provider: string
  model: string
  /** The routes that use this target. */
  routes: string[]
  tags: string[]
  state: 'healthy' | 'cooling_down' | 'half_open'
  /** When a resting target comes back: Unix time in ms, and seconds from now. */
  cooling_until_unix_ms: number | null
  cooldown_remaining_s: number | null
  /** The error that made it rest. */
  cooldown_reason: ErrorKind | null
  ewma_latency_ms: number | null
  p95_latency_ms: number | null
  /** Share of recent attempts that failed (0..1). */
  error_rate: number
  in_flight: number
  requests: number
  failures: number
  requests_last_minute: number
  tokens_last_minute: number
}

/** What the gateway did for a request: `response.switchpoint`. */
export interface SwitchpointFacts {
  /** The provider (config name) that served the answer. */
  provider: string
  /** The model id sent to the provider. */
  provider_model: string
  /** The model name the caller asked for. */
  model: string
  /** Every attempt made, in order; the last one served the answer. */
  attempts: AttemptFact[]
  /** Wall time from the call to the answer (to the end of the stream for streams), ms. */
  latency_ms: number
  /** Streams: time to the first chunk, ms. */
  ttft_ms?: number
  /** Time spent inside the gateway itself, µs. */
  overhead_us: number
  /** The route that served the answer (after rules and fallbacks). */
  route?: string
  /** Routes whose rules, defaults or fallbacks passed the request on, in order. */
  routed_via?: string[]
  /** What the response cache did; absent when the route has no cache. */
  cache?: CacheStatus
  /** What the request cost; absent when the model has no known price. */
  cost?: CostFact
}

/** The assistant's message in a response. */
export interface ChatCompletionMessage {
  role: 'assistant'
  /** The text; null when the model only called tools or refused. */
  content: string | null
  /** The refusal text; null when the model did not refuse. */
  refusal: string | null
  tool_calls?: ChatCompletionMessageToolCall[]
  /** URL citations, when the provider sends them. */
  annotations?: JsonValue[]
}

/** One answer of a response (`n` > 1 gives several). */
export interface ChatCompletionChoice {
  index: number
  message: ChatCompletionMessage
  finish_reason: FinishReason | null
  logprobs: JsonObject | null
}

/** A chat completion: the OpenAI response shape, whichever provider answered. */
export interface ChatCompletion {
  id: string
  object: 'chat.completion'
  /** Unix seconds. */
  created: number
  /** The model that answered, as the provider names it. */
  model: string
  choices: ChatCompletionChoice[]
  usage?: CompletionUsage
  system_fingerprint?: string
  service_tier?: string | null
  /** What the gateway did: provider, attempts, latency. */
  switchpoint?: SwitchpointFacts
}

/** A piece of a tool call in a stream: the first piece has `id` and `function.name`. */
export interface ChatCompletionChunkToolCall {
  index: number
  id?: string
  type?: 'function'
  function?: {
    name?: string
    /** A fragment of the arguments' JSON text; the fragments concatenate. */
    arguments?: string
  }
}

/** What a chunk adds to a choice. */
export interface ChatCompletionChunkDelta {
  /** `assistant` on the first chunk. */
  role?: ChatCompletionRole
  content?: string | null
  refusal?: string | null
  tool_calls?: ChatCompletionChunkToolCall[]
}

/** One choice's piece of a chunk. */
export interface ChatCompletionChunkChoice {
  index: number
  delta: ChatCompletionChunkDelta
  finish_reason: FinishReason | null
  logprobs?: JsonObject | null
}

/** One chunk of a streamed chat completion. */
export interface ChatCompletionChunk {
  id: string
  object: 'chat.completion.chunk'
  created: number
  model: string
  /** Empty on the final usage chunk. */
  choices: ChatCompletionChunkChoice[]
  /** Set on the final chunk when `stream_options.include_usage` was asked for. */
  usage?: CompletionUsage | null
  system_fingerprint?: string
  /** The gateway's facts, on the final usage chunk. */
  switchpoint?: SwitchpointFacts
}

/** One embedding vector (`string` when `encoding_format` is `base64`). */
export interface Embedding<Vector extends number[] | string = number[]> {
  object: 'embedding'
  index: number
  embedding: Vector
}

/** Token usage of an embeddings call. */
export interface EmbeddingUsage {
  prompt_tokens: number
  total_tokens: number
}

/** An embeddings response. */
export interface CreateEmbeddingResponse<Vector extends number[] | string = number[]> {
  object: 'list'
  data: Embedding<Vector>[]
  model: string
  usage: EmbeddingUsage
  /** What the gateway did: provider, attempts, latency. */
  switchpoint?: SwitchpointFacts
}

// ---------------------------------------------------------------------------------------
// The Responses API
// ---------------------------------------------------------------------------------------

/** A content part of a Responses input message. */
export type ResponseInputContent =
  | { type: 'input_text'; text: string }
  | { type: 'input_image'; image_url?: string; file_id?: string; detail?: 'auto' | 'low' | 'high' }
  | { type: 'input_file'; file_id?: string; file_data?: string; filename?: string }
  | { type: 'output_text'; text: string }
  | { type: 'refusal'; refusal: string }

/** A message item of a Responses `input`. */
export interface ResponseInputMessage {
  type?: 'message'
  role: 'user' | 'assistant' | 'system' | 'developer'
  content: string | ResponseInputContent[]
}

/** A call the model made (from an earlier Response's `output`), passed back in `input`. */
export interface ResponseFunctionCallInput {
  type: 'function_call'
  call_id: string
  name: string
  /** JSON text. */
  arguments: string
  id?: string
  status?: 'in_progress' | 'completed' | 'incomplete'
}

/** The caller's result for a function call. */
export interface ResponseFunctionCallOutputInput {
  type: 'function_call_output'
  call_id: string
  output: string | ResponseInputContent[]
}

/** One item of a Responses `input`; other item types go to native providers untouched. */
export type ResponseInputItem =
  | ResponseInputMessage
  | ResponseFunctionCallInput
  | ResponseFunctionCallOutputInput
  | ResponseOutputMessage
  | (JsonObject & { type: string })

/** A function the model may call (Responses tools are flat: no nested `function`). */
export interface ResponseFunctionTool {
  type: 'function'
  name: string
  description?: string | null
  parameters?: JsonObject | null
  strict?: boolean | null
}

/** A tool: a function, or a built-in tool for native providers (`web_search`, ...). */
export type ResponseTool = ResponseFunctionTool | (JsonObject & { type: string })

/** Whether the model may, must or must not call a tool, or which one. */
export type ResponseToolChoice = 'none' | 'auto' | 'required' | { type: 'function'; name: string } | JsonObject

/** `text.format`: plain text, a JSON object, or JSON matching a schema. */
export type ResponseTextFormat =
  | { type: 'text' }
  | { type: 'json_object' }
  | { type: 'json_schema'; name: string; schema: JsonObject; description?: string; strict?: boolean | null }

/** The fields of a Responses request, streamed or not. */
export interface ResponseCreateParamsBase extends Omit<SwitchpointRequestFields, 'metadata'> {
  /** A configured model name, an alias, or `provider/model`. */
  model: string
  /** One user text, or a list of items. */
  input?: string | ResponseInputItem[]
  /** A system (developer) message put before the input. */
  instructions?: string | null
  tools?: ResponseTool[]
  tool_choice?: ResponseToolChoice
  parallel_tool_calls?: boolean | null
  temperature?: number | null
  top_p?: number | null
  max_output_tokens?: number | null
  text?: { format?: ResponseTextFormat; verbosity?: 'low' | 'medium' | 'high' | null }
  /** Native providers only (server-side state); translated targets refuse it. */
  previous_response_id?: string | null
  store?: boolean | null
  /** Sent to the provider, echoed in the Response, and recorded by the gateway. */
  metadata?: { [key: string]: string } | null
  /** The end user; sent to the provider and used by the gateway for per-user accounting. */
  user?: string
  reasoning?: { effort?: 'minimal' | 'low' | 'medium' | 'high' | null; summary?: string | null } | null
  include?: string[] | null
  truncation?: 'auto' | 'disabled' | null
  background?: boolean | null
  max_tool_calls?: number | null
  prompt_cache_key?: string
  safety_identifier?: string
  service_tier?: 'auto' | 'default' | 'flex' | 'scale' | 'priority' | null
  top_logprobs?: number | null
}

/** A Responses request answered in one piece. */
export interface ResponseCreateParamsNonStreaming extends ResponseCreateParamsBase {
  stream?: false | null
}

/** A Responses request answered as a stream of events. */
export interface ResponseCreateParamsStreaming extends ResponseCreateParamsBase {
  stream: true
}

/** A Responses request. */
export type ResponseCreateParams = ResponseCreateParamsNonStreaming | ResponseCreateParamsStreaming

/** A text part of an output message. */
export interface ResponseOutputText {
  type: 'output_text'
  text: string
  annotations: JsonObject[]
  logprobs?: JsonObject[]
}

/** A refusal part of an output message. */
export interface ResponseOutputRefusal {
  type: 'refusal'
  refusal: string
}

/** The assistant's message item. */
export interface ResponseOutputMessage {
  type: 'message'
  id: string
  role: 'assistant'
  status: 'in_progress' | 'completed' | 'incomplete'
  content: Array<ResponseOutputText | ResponseOutputRefusal>
}

/** A function call item; answer it with a `function_call_output` item of the same `call_id`. */
export interface ResponseFunctionToolCall {
  type: 'function_call'
  id?: string
  call_id: string
  name: string
  /** JSON text. */
  arguments: string
  status?: 'in_progress' | 'completed' | 'incomplete'
}

/** An output item. */
export type ResponseOutputItem = ResponseOutputMessage | ResponseFunctionToolCall

/** Token usage of a Response. */
export interface ResponseUsage {
  /** All input tokens, cached ones included. */
  input_tokens: number
  input_tokens_details: {
    cached_tokens: number
    /** Input tokens written to the provider's prompt cache (switchpoint; Anthropic). */
    cache_write_tokens?: number
  }
  /** All output tokens, reasoning ones included. */
  output_tokens: number
  output_tokens_details: { reasoning_tokens: number }
  total_tokens: number
}

/** A Responses API answer, plus the gateway's facts. */
export interface Response {
  id: string
  object: 'response'
  created_at: number
  status: 'completed' | 'failed' | 'in_progress' | 'cancelled' | 'queued' | 'incomplete'
  model: string
  output: ResponseOutputItem[]
  /** The text of every `output_text` part, joined (set by `responses.create`, as in `openai`). */
  output_text: string
  usage?: ResponseUsage
  incomplete_details: { reason: 'max_output_tokens' | 'content_filter' } | null
  error: { code: string; message: string } | null
  instructions: string | null
  tools: ResponseTool[]
  tool_choice: ResponseToolChoice
  temperature: number | null
  top_p: number | null
  max_output_tokens: number | null
  parallel_tool_calls: boolean
  metadata: { [key: string]: string }
  previous_response_id?: string | null
  text?: JsonObject
  user?: string
  store?: boolean
  /** What the gateway did: provider, attempts, cache, cost, latency. */
  switchpoint?: SwitchpointFacts
}

/** A Response as stream events carry it (no `output_text`). */
export type StreamedResponse = Omit<Response, 'output_text'>

/** One event of a streamed Response, told apart by `type`. */
export type ResponseStreamEvent =
  | { type: 'response.created' | 'response.in_progress'; response: StreamedResponse; sequence_number: number }
  | {
      /** The final Response (usage and the gateway's facts). */
      type: 'response.completed' | 'response.incomplete' | 'response.failed'
      response: StreamedResponse
      sequence_number: number
    }
  | {
      type: 'response.output_item.added' | 'response.output_item.done'
      output_index: number
      item: ResponseOutputItem
      sequence_number: number
    }
  | {
      type: 'response.content_part.added' | 'response.content_part.done'
      item_id: string
      output_index: number
      content_index: number
      part: ResponseOutputText | ResponseOutputRefusal
      sequence_number: number
    }
  | {
      type: 'response.output_text.delta'
      item_id: string
      output_index: number
      content_index: number
      delta: string
      logprobs: JsonObject[]
      sequence_number: number
    }
  | {
      type: 'response.output_text.done'
      item_id: string
      output_index: number
      content_index: number
      text: string
      logprobs: JsonObject[]
      sequence_number: number
    }
  | {
      type: 'response.refusal.delta'
      item_id: string
      output_index: number
      content_index: number
      delta: string
      sequence_number: number
    }
  | {
      type: 'response.refusal.done'
      item_id: string
      output_index: number
      content_index: number
      refusal: string
      sequence_number: number
    }
  | {
      type: 'response.function_call_arguments.delta'
      item_id: string
      output_index: number
      delta: string
      sequence_number: number
    }
  | {
      type: 'response.function_call_arguments.done'
      item_id: string
      output_index: number
      name: string
      arguments: string
      sequence_number: number
    }
  | { type: 'error'; code: string | null; message: string; param: string | null; sequence_number: number }

// ---------------------------------------------------------------------------------------
// Streams
// ---------------------------------------------------------------------------------------

/** An async iterator over chunks that also stops the stream when left early. */
export interface ChatCompletionChunkIterator extends AsyncIterableIterator<ChatCompletionChunk> {
  next(): Promise<IteratorResult<ChatCompletionChunk, undefined>>
  return(value?: undefined): Promise<IteratorResult<ChatCompletionChunk, undefined>>
}

/**
 * A streamed chat completion: `for await (const chunk of stream)`. Leaving the loop early
 * (`break`, `return`, an exception) or `stream.controller.abort()` cancels the upstream
 * request. It can be iterated once; `tee()` splits it.
 */
export declare class ChatCompletionStream implements AsyncIterable<ChatCompletionChunk> {
  private constructor()
  /** Aborting it stops the stream; the loop then throws `APIUserAbortError`. */
  readonly controller: AbortController
  /** The gateway's facts once the stream ended, else null. */
  readonly switchpoint: SwitchpointFacts | null
  /** The next chunk, or `{ done: true }` at the end; throws the stream's error if it failed. */
  next(): Promise<IteratorResult<ChatCompletionChunk, undefined>>
  /** Stops the stream early and cancels the upstream request. */
  return(value?: undefined): Promise<IteratorResult<ChatCompletionChunk, undefined>>
  [Symbol.asyncIterator](): ChatCompletionChunkIterator
  /** Two readers over the same chunks; the upstream is cancelled once both stopped. */
  tee(): [ChatCompletionChunkIterator, ChatCompletionChunkIterator]
}

/** An async iterator over Responses events that also stops the stream when left early. */
export interface ResponseStreamEventIterator extends AsyncIterableIterator<ResponseStreamEvent> {
  next(): Promise<IteratorResult<ResponseStreamEvent, undefined>>
  return(value?: undefined): Promise<IteratorResult<ResponseStreamEvent, undefined>>
}

/**
 * A streamed Response: `for await (const event of stream)`, `response.created` first and
 * `response.completed` (or `.incomplete`) last; a failure after the start yields
 * `response.failed` and then throws the typed error. Leaving early or aborting cancels the
 * upstream request.
 */
export declare class ResponseStream implements AsyncIterable<ResponseStreamEvent> {
  private constructor()
  /** Aborting it stops the stream; the loop then throws `APIUserAbortError`. */
  readonly controller: AbortController
  /** The gateway's facts once the stream ended, else null. */
  readonly switchpoint: SwitchpointFacts | null
  /** The next event, or `{ done: true }` at the end; throws the stream's error if it failed. */
  next(): Promise<IteratorResult<ResponseStreamEvent, undefined>>
  /** Stops the stream early and cancels the upstream request. */
  return(value?: undefined): Promise<IteratorResult<ResponseStreamEvent, undefined>>
  [Symbol.asyncIterator](): ResponseStreamEventIterator
  /** Two readers over the same events; the upstream is cancelled once both stopped. */
  tee(): [ResponseStreamEventIterator, ResponseStreamEventIterator]
}

// ---------------------------------------------------------------------------------------
// The gateway
// ---------------------------------------------------------------------------------------

/** Per-call deadlines, seconds or a duration string (`"30s"`, `"2m"`). */
export interface TimeoutsConfig {
  connect?: number | string
  first_byte?: number | string
  total?: number | string
}

/** A provider: its wire format (or a preset name), where it lives and its key. */
export interface ProviderConfig {
  /** `openai`, `azure_openai`, `anthropic`, `gemini` or a preset (`groq`, `mistral`, ...). */
  kind?: string
  base_url?: string
  /** `env:NAME`, `file:PATH` or the key itself. */
  api_key?: string
  /** Azure `api-version`, Anthropic `anthropic-version`. */
  api_version?: string
  headers?: { [name: string]: string }
  timeouts?: TimeoutsConfig
  /**
   * How Responses API calls reach this provider: `native` (its own `/responses`; `openai`
   * and `azure_openai` only) or `translate` (through chat completions). Default: native on
   * api.openai.com and Azure OpenAI hosts, translate elsewhere.
   */
  responses?: 'native' | 'translate'
}

/** A model name applications use, mapped to a provider's model. */
export interface ModelConfig {
  provider: string
  /** The provider's model id (defaults to the entry's name). */
  model?: string
  aliases?: string[]
}

/** A duration: seconds, or text like `"90s"`, `"1h"`. */
export type DurationValue = number | string

/** A size: bytes, or text like `"512KiB"`, `"256MiB"`. */
export type ByteSize = number | string

/** The semantic cache of one route. */
export interface SemanticCacheConfig {
  /** The configured model name (an embedding route) that embeds prompts. */
  embedding_model: string
  /** Cosine similarity at or above which a previous answer is reused (0 < t <= 1). */
  threshold?: number
  /** Prompts remembered per tenant and route. */
  max_entries?: number
}

/** One route's cache settings; unset fields take the section's. */
export interface RouteCacheConfig {
  enabled?: boolean
  /** One cache for every tenant on this route. */
  shared?: boolean
  ttl?: DurationValue
  semantic?: SemanticCacheConfig
}

/** The response cache (off unless `enabled`). */
export interface CacheConfig {
  enabled?: boolean
  max_bytes?: ByteSize
  max_entries?: number
  ttl?: DurationValue
  max_entry_bytes?: ByteSize
  shared?: boolean
  /** Per-route settings, by model name. */
  routes?: { [model: string]: RouteCacheConfig }
}

/** Observers: metrics, the usage store, a JSON-lines log, OTLP spans, content recording. */
export interface TelemetryConfig {
  /** Records queued for the observers; when full, new records are dropped (counted). */
  queue_size?: number
  metrics?: { enabled?: boolean; max_label_values?: number; max_series?: number }
  usage?: { enabled?: boolean; bucket?: DurationValue; retention?: DurationValue; max_groups?: number }
  log?: { path: string; max_bytes?: ByteSize; keep?: number }
  otlp?: { endpoint: string; headers?: { [name: string]: string }; service_name?: string; timeout?: DurationValue }
  /** Keep prompt and answer text in records (redacted). Off by default. */
  record_content?: boolean
  redact?: { builtin?: boolean; patterns?: string[]; replacement?: string }
}

/** A model's price, USD per 1M tokens (decimal text keeps it exact). */
export interface PriceConfig {
  input: number | string
  output: number | string
  cached_input?: number | string
  cache_write?: number | string
  reasoning?: number | string
  long_context?: {
    above: number
    input: number | string
    output: number | string
    cached_input?: number | string
    cache_write?: number | string
  }
  context_window?: number
  max_output?: number
  capabilities?: Array<'tools' | 'vision' | 'json_schema' | 'reasoning'>
  note?: string
}

// ---------------------------------------------------------------------------------------
// Policies: shared state, virtual keys, budgets, rate limits; the admin API's values.
// ---------------------------------------------------------------------------------------

/** Where counters, budgets, runtime keys and the audit log live. */
export interface StateConfig {
  /** `memory` (this process; the default) or `redis` (every process sharing the server). */
  backend?: 'memory' | 'redis'
  redis?: {
    /** `redis://[:password@]host:port/db`, or `env:NAME` / `file:PATH` holding it. */
    url: string
    /** Prefix of every key switchpoint writes (default `switchpoint:`). */
    prefix?: string
    /** How long one operation may take before the store counts as unreachable. */
    timeout?: DurationValue
  }
  /** When the store is unreachable: refuse requests (`closed`, default) or admit them uncounted. */
  on_unavailable?: 'open' | 'closed'
}

/** A budget's calendar period (UTC; weeks start on Monday); `total` never resets. */
export type BudgetPeriod = 'day' | 'week' | 'month' | 'total'

/** Who a budget or a limit applies to. */
export type PolicyScope = 'key' | 'user' | 'team' | 'route' | 'gateway'

/** Rate-limit values; each is optional. */
export interface LimitValues {
  /** Requests per minute (in every trailing 60 seconds). */
  rpm?: number
  /** Tokens per minute (estimated at admission, the real total once settled). */
  tpm?: number
  /** Requests in flight at once. */
  in_flight?: number
}

/** A budget a virtual key carries; USD as a number or exact decimal text. */
export interface KeyBudget {
  period: BudgetPeriod
  limit_usd: number | string
  /** Spending past this only alerts (a log line, a metric, an audit record). */
  soft_limit_usd?: number | string
}

/** One `budgets:` entry of the config. */
export interface BudgetConfig extends KeyBudget {
  scope: PolicyScope
  /** One key id, user, team or route; omitted: each of them separately. */
  id?: string
}

/** One `limits:` entry of the config. */
export interface LimitConfig extends LimitValues {
  scope: PolicyScope
  /** One key id, user, team or route; omitted: each of them separately. */
  id?: string
}

/** What a virtual key allows and who it speaks for (`gw.keys.create()` takes this). */
export interface KeySettings {
  /** A key of your own (at least 20 characters) instead of a generated `sk-sp-...` one. */
  key?: string
  /** A label for people (`search-service`). */
  name?: string
  user?: string
  team?: string
  tier?: string
  /** Model names (as requested) the key may use; `*` stands for a run of characters. Empty: all. */
  models?: string[]
  /** Routes the key may reach; empty: all. */
  routes?: string[]
  budgets?: KeyBudget[]
  limits?: LimitValues
  /** When the key stops working: a `Date`, Unix seconds or RFC 3339 text. */
  expires_at?: Date | number | string
  metadata?: JsonObject
}

/**
 * A JSON merge patch of a key's settings (`gw.keys.update()`): given fields replace,
 * `null` removes.
 */
export type KeyPatch = { [K in Exclude<keyof KeySettings, 'key'>]?: KeySettings[K] | null }

/** A virtual key in config: its value (`env:NAME`, `file:PATH` or the key) or its BLAKE3 hash. */
export interface VirtualKeyConfig extends Omit<KeySettings, 'expires_at'> {
  /** 64 hex digits, so config need not hold the key. */
  hash?: string
  /** Unix seconds or RFC 3339 text. */
  expires_at?: number | string
}

/** The `virtual_keys:` section. */
export interface VirtualKeysConfig {
  /** Refuse requests without a valid virtual key (`apiKey`). */
  required?: boolean
  keys?: VirtualKeyConfig[]
}

/** A budget as the admin API shows it (USD as exact decimal text). */
export interface KeyBudgetInfo {
  period: BudgetPeriod
  limit_usd: string
  soft_limit_usd?: string
}

/** A virtual key as `gw.keys.list()`, `get()`, `update()` and `revoke()` show it: never its value. */
export interface KeyInfo {
  /** `key-` and 16 hex digits of the key's hash: what records, metrics and usage name. */
  id: string
  /** Defined in the config file, or created through `gw.keys`. */
  source: 'config' | 'api'
  revoked: boolean
  /** When the key stops working, Unix ms. */
  expires_at_ms?: number
  created_at_ms?: number
  /** The actor that created it (`config` for config keys). */
  created_by?: string
  updated_at_ms?: number
  /** Changes so far (1 when created). */
  revision?: number
  name?: string
  user?: string
  team?: string
  tier?: string
  models?: string[]
  routes?: string[]
  budgets?: KeyBudgetInfo[]
  limits?: LimitValues
  /** As given: Unix seconds or RFC 3339 text. */
  expires_at?: number | string
  metadata?: JsonObject
}

/** A key just created (`gw.keys.create()`): the only time its value is shown. */
export interface CreatedKey extends KeyInfo {
  /** The key to hand to the application; switchpoint keeps only its hash. */
  key: string
}

/** What an audit record says happened. */
export type AuditAction = 'key_created' | 'key_updated' | 'key_revoked' | 'config_reloaded' | 'budget_soft_limit'

/** One administrative change, from `gw.audit()`. Never holds a key or a secret. */
export interface AuditRecord {
  /** Unix ms. */
  at_ms: number
  /** Who did it: the `actor` the call named, or `config` / `gateway`. */
  actor: string
  action: AuditAction
  /** What it changed (a key id, a budget counter), when it names one thing. */
  target?: string
  /** The change's details (a key's settings, a patch, ...). */
  details?: JsonValue
}

/** Options of the admin calls that change something. */
export interface AdminOptions {
  /** Who makes the change, as the audit log records it (default `'api'`). */
  actor?: string
}

/** `gw.keys`: virtual keys (runtime ones are shared by every process on the same state). */
export declare class Keys {
  private constructor()
  /** Issues a key; its value is in the answer's `key`, this once. */
  create(spec?: KeySettings, options?: AdminOptions): Promise<CreatedKey>
  /** Every key (config and runtime ones, revoked included), never with its value. */
  list(): Promise<KeyInfo[]>
  /** One key by id; rejects with `NotFoundError` when there is none. */
  get(id: string): Promise<KeyInfo>
  /** Changes a runtime key's settings; rejects with `BadRequestError` for a config key. */
  update(id: string, patch: KeyPatch, options?: AdminOptions): Promise<KeyInfo>
  /** Revokes a runtime key: refused everywhere from the next request on. */
  revoke(id: string, options?: AdminOptions): Promise<KeyInfo>
}

/** What a guardrail rule does with a match. */
export type GuardrailAction = 'block' | 'redact' | 'flag'

/** Which side of a call a guardrail looks at. */
export type GuardrailStage = 'input' | 'output'

/** A kind of personal or secret data the built-in detectors find. */
export type PiiKind = 'email' | 'phone' | 'card' | 'iban' | 'api_key'

/** A named regex (Rust `regex` syntax) that blocks, redacts or flags. */
export interface BlockedPattern {
  /** Names the rule in errors (`code: 'pattern:<name>'`) and in `[REDACTED:<name>]`. */
  name: string
  pattern: string
  /** Default `block`. */
  mode?: GuardrailAction
  /** Default both stages. */
  on?: GuardrailStage[]
}

/** Built-in PII detection. */
export interface PiiConfig {
  /** The mode of every kind without an override (default `redact`). */
  mode?: GuardrailAction
  /** Default input only. */
  on?: GuardrailStage[]
  /** Default all. */
  kinds?: PiiKind[]
  overrides?: { [K in PiiKind]?: GuardrailAction }
}

/** The `guardrails:` section (host guardrails are added with `gateway.addGuardrail()`). */
export interface GuardrailsConfig {
  /** Blocks a request whose message text is longer than this many characters. */
  max_prompt_chars?: number
  /** Blocks a request estimated above this many prompt tokens. */
  max_prompt_tokens?: number
  blocked_patterns?: BlockedPattern[]
  pii?: PiiConfig
}

/** What a guardrail added with `gateway.addGuardrail()` sees: a request or an answer, and who asks. */
export interface GuardrailEvent {
  /** `input`: the request's `messages`, before a provider sees them; `output`: a non-streamed answer's `content`. */
  stage: GuardrailStage
  /** The request's messages (input only). */
  messages?: ChatCompletionMessageParam[]
  /** The answer's text, one choice at a time (output only). */
  content?: string
  /** The model name the caller asked for. */
  model: string
  user?: string
  team?: string
  /** The virtual key's id (never the key). */
  key_id?: string
  tier?: string
  tags: string[]
  metadata: JsonObject
}

/**
 * A guardrail's decision: `undefined`, `null`, `true` or `{ action: 'allow' }` go on;
 * `false` or `{ action: 'deny', reason }` refuse (`PolicyDeniedError`, code
 * `guardrail_hook`); `{ action: 'rewrite', messages }` replaces a request's messages,
 * `{ action: 'rewrite', content }` an answer's text.
 */
export type GuardrailVerdict =
  | undefined
  | null
  | boolean
  | { action: 'allow' }
  | { action: 'deny'; reason?: string }
  | { action: 'rewrite'; messages: ChatCompletionMessageParam[] }
  | { action: 'rewrite'; content: string }

/** A JS guardrail: returns a verdict, or a promise of one. */
export type Guardrail = (event: GuardrailEvent) => GuardrailVerdict | Promise<GuardrailVerdict>

/** The gateway configuration (the same schema as YAML/JSON config files). */
export interface GatewayConfig {
  providers?: { [name: string]: ProviderConfig }
  models?: { [name: string]: ModelConfig }
  defaults?: { timeouts?: TimeoutsConfig }
  cache?: CacheConfig
  telemetry?: TelemetryConfig
  /** Price overrides and additions: provider name -> model id -> price. */
  pricing?: { [provider: string]: { [model: string]: PriceConfig } }
  /** Where shared state lives (memory, or Redis for many processes). */
  state?: StateConfig
  /** Keys the gateway issues to applications and users. */
  virtual_keys?: VirtualKeysConfig
  /** Spending limits in USD per period. */
  budgets?: BudgetConfig[]
  /** Requests, tokens and requests in flight per key, user, team, route or gateway. */
  limits?: LimitConfig[]
  /** Size limits, blocked patterns and PII detection on prompts and answers. */
  guardrails?: GuardrailsConfig
}

/** What usage rows are grouped by (`tag`: a request with two tags counts in both rows). */
export type GroupBy = 'total' | 'user' | 'team' | 'model' | 'route' | 'provider' | 'tag' | 'key'

/** Options of `gateway.usage()`. */
export interface UsageOptions {
  /** From when: a `Date` or Unix milliseconds (default: everything kept). */
  since?: Date | number
  /** Default `'total'` (one row). */
  groupBy?: GroupBy
}

/** Totals for one group, from `gateway.usage()`; money as exact decimal text. */
export interface UsageRow {
  /** The user, team, model... of this row; null for requests without one and for `total`. */
  group: string | null
  requests: number
  errors: number
  /** Requests answered from the cache (exact, semantic or coalesced). */
  cache_hits: number
  prompt_tokens: number
  completion_tokens: number
  cached_tokens: number
  reasoning_tokens: number
  cost_usd: string
  /** What cache hits saved. */
  saved_usd: string
}

/** Tokens of one request, split the way providers bill them. */
export interface RecordTokens {
  prompt: number
  completion: number
  /** Prompt tokens read from the provider's prompt cache. */
  cached: number
  /** Prompt tokens written to the provider's prompt cache. */
  cache_write: number
  reasoning: number
}

/** What one request cost, USD as exact decimal text, by kind of token. */
export interface RecordCost {
  input: string
  cached_input: string
  cache_write: string
  output: string
  reasoning: string
  total: string
}

/** The cache's part in one request (`off`: the route has no cache). */
export interface RecordCache {
  status: CacheStatus | 'off'
  /** For hits: what the answer cost when it was first made. */
  saved_usd?: string
}

/** Who asked: ids only, never a key. */
export interface RecordCaller {
  /** The virtual key's id. */
  key_id?: string
  user?: string
  team?: string
  tier?: string
}

/** Prompt and answer text, only with `telemetry.record_content: true` (redacted). */
export interface RecordContent {
  prompt: string
  answer: string
}

/** One finished request, as `gateway.onRecord()` callbacks receive it. Never holds a secret. */
export type RequestRecord = {
  /** The gateway's id for the request (the response id when there is one). */
  id: string
  call: 'chat' | 'chat_stream' | 'embed'
  /** Unix time the call started and ended, ms. */
  started_at_ms: number
  ended_at_ms: number
  /** Wall time of the whole call, ms (to the end of the stream for streams). */
  latency_ms: number
  /** Streams: time to the first chunk, ms. */
  ttft_ms?: number
  /** The model name the caller asked for. */
  model: string
  /** The route that served it. */
  route: string
  /** The provider (config name) and model id that answered (or failed last). */
  provider: string
  provider_model: string
  /** The provider's preset or wire-format name (`openai`, `groq`, `anthropic`, ...). */
  provider_kind: string
  response_id?: string
  response_model?: string
  finish_reasons?: FinishReason[]
  /** Every attempt, in order (empty for a cache hit). */
  attempts: AttemptFact[]
  tokens: RecordTokens
  /** Absent when the model has no known price. */
  cost?: RecordCost
  cache: RecordCache
  caller: RecordCaller
  tags: string[]
  content?: RecordContent
} & ({ status: 'ok' } | { status: 'error'; error_kind: ErrorKind })

/** How to build a gateway; with neither field, keys come from the environment. */
export interface GatewayOptions {
  /** A config object, or YAML/JSON config text. */
  config?: GatewayConfig | string
  /** A YAML or JSON config file. */
  configFile?: string
}

/** `gw.chat.completions`. */
export declare class Completions {
  private constructor()
  /** A chat completion. */
  create(body: ChatCompletionCreateParamsNonStreaming, options?: RequestOptions): Promise<ChatCompletion>
  /** A streamed chat completion; resolves once the provider answered. */
  create(body: ChatCompletionCreateParamsStreaming, options?: RequestOptions): Promise<ChatCompletionStream>
  create(body: ChatCompletionCreateParams, options?: RequestOptions): Promise<ChatCompletion | ChatCompletionStream>
}

/** `gw.chat`. */
export declare class Chat {
  private constructor()
  readonly completions: Completions
}

/** `gw.responses`: the OpenAI Responses API over every provider. */
export declare class Responses {
  private constructor()
  /** A Response, with `output_text` set. */
  create(body: ResponseCreateParamsNonStreaming, options?: RequestOptions): Promise<Response>
  /** A streamed Response; resolves once the provider answered. */
  create(body: ResponseCreateParamsStreaming, options?: RequestOptions): Promise<ResponseStream>
  create(body: ResponseCreateParams, options?: RequestOptions): Promise<Response | ResponseStream>
}

/** `gw.embeddings`. */
export declare class Embeddings {
  private constructor()
  /** Embeddings as base64 strings of little-endian float32. */
  create(
    body: EmbeddingCreateParams & { encoding_format: 'base64' },
    options?: RequestOptions,
  ): Promise<CreateEmbeddingResponse<string>>
  /** Embedding vectors. */
  create(body: EmbeddingCreateParams, options?: RequestOptions): Promise<CreateEmbeddingResponse>
}

/**
 * An LLM gateway inside this process, used like the `openai` client. Its static error
 * classes mirror the `openai` client's (`Gateway.RateLimitError`, ...).
 */
export declare class Gateway {
  /**
   * `new Gateway()` reads provider keys from the environment (`provider/model` names);
   * `{ config }` takes a config object or YAML/JSON text; `{ configFile }` reads a file.
   * Throws `ConfigError` naming the field at fault.
   */
  constructor(options?: GatewayOptions)
  readonly chat: Chat
  readonly embeddings: Embeddings
  /** The Responses API: `gw.responses.create({ model, input, ... })`. */
  readonly responses: Responses
  /** Virtual keys: `create`, `list`, `get`, `update`, `revoke`. */
  readonly keys: Keys
  /** A gateway from a YAML or JSON config file. */
  static fromFile(path: string): Gateway
  /** A gateway from a config object or YAML/JSON config text. */
  static fromConfig(config: GatewayConfig | string): Gateway
  /** A gateway with no config: `provider/model` names, keys from the environment. */
  static fromEnv(): Gateway
  /** Every target's state (healthy, cooling down until when, half-open), latency, error rate. */
  health(): TargetHealth[]
  /**
   * The Prometheus text exposition of the gateway's metrics; calls that already returned
   * are counted. Synchronous (may wait up to a second for records still queued).
   */
  metricsText(): string
  /**
   * Requests, errors, cache hits, tokens and cost since `since`, one row per group, most
   * expensive first. Throws `BadRequestError` (param `group_by` or `since`) for bad options.
   */
  usage(options?: UsageOptions): UsageRow[]
  /**
   * Calls `callback` with every request record from now on, on the JS thread. A throw in it
   * is reported with `process.emitWarning`; registering keeps no handle open. Returns
   * `off()` (idempotent): no call happens after it returned.
   */
  onRecord(callback: (record: RequestRecord) => void): () => void
  /**
   * Resolves to true once the records of every call made so far reached every observer
   * (onRecord callbacks included), false after `timeoutMs` (default 5000).
   */
  flushTelemetry(timeoutMs?: number): Promise<boolean>
  /**
   * The audit log since `since` (a `Date` or Unix ms; default: everything kept), oldest
   * first.
   */
  audit(since?: Date | number): Promise<AuditRecord[]>
  /**
   * Swaps in a new configuration atomically: calls in flight finish on the old one.
   * Counters, runtime keys and the audit log stay. Rejects with `ConfigError` (the old
   * configuration stays in force).
   */
  reload(config: GatewayConfig | string, options?: AdminOptions): Promise<void>
  /**
   * Adds a guardrail written in JS; it sees every request's messages and every
   * non-streamed answer's text, and allows, denies or rewrites. A throw (or a rejected
   * promise) fails the call with `InternalError`, code `guardrail_hook_failed`, carrying the
   * exception's message; an unusable answer is a `ConfigError`, code
   * `guardrail_hook_invalid`. Guardrails run in the order added and stay across reloads.
   * Returns the id for `removeGuardrail()`.
   */
  addGuardrail(guardrail: Guardrail): number
  /** Removes a guardrail; true the first time, false for an id not registered. */
  removeGuardrail(id: number): boolean

  static SwitchpointError: typeof SwitchpointError
  static APIError: typeof SwitchpointError
  static AuthenticationError: typeof AuthenticationError
  static PermissionDeniedError: typeof PermissionDeniedError
  static NotFoundError: typeof NotFoundError
  static RateLimitError: typeof RateLimitError
  static APIConnectionError: typeof APIConnectionError
  static APIConnectionTimeoutError: typeof APIConnectionTimeoutError
  static BadRequestError: typeof BadRequestError
  static ContextWindowExceededError: typeof ContextWindowExceededError
  static ContentFilteredError: typeof ContentFilteredError
  static InternalServerError: typeof InternalServerError
  static InvalidResponseError: typeof InvalidResponseError
  static BudgetExceededError: typeof BudgetExceededError
  static RateLimitExceededError: typeof RateLimitExceededError
  static PolicyDeniedError: typeof PolicyDeniedError
  static ConfigError: typeof ConfigError
  static APIUserAbortError: typeof APIUserAbortError
  static InternalError: typeof InternalError
}

// ---------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------

/** The fields every switchpoint error carries (all optional when constructing one). */
export interface SwitchpointErrorFields {
  kind?: ErrorKind
  status?: number
  provider?: string
  retryAfter?: number
  param?: string
  code?: string
  cause?: unknown
}

/** The base of every error switchpoint throws. */
export declare class SwitchpointError extends Error {
  constructor(message: string, fields?: SwitchpointErrorFields)
  /** The kind this class stands for. */
  static readonly kind: ErrorKind
  /** What went wrong, in terms that say what to do. */
  readonly kind: ErrorKind
  /** The provider's HTTP status, when there was one. */
  readonly status: number | undefined
  /** The provider (config name) that produced the error. */
  readonly provider: string | undefined
  /** Seconds to wait before trying again, when the provider said so. */
  readonly retryAfter: number | undefined
  /** The request or config field at fault. */
  readonly param: string | undefined
  /** The provider's error code or type; `'panic'` for a caught panic (a bug). */
  readonly code: string | undefined
}

/** The name the `openai` package gives its base API error. */
export { SwitchpointError as APIError }

/** `auth`: the provider rejected the credentials (401). */
export declare class AuthenticationError extends SwitchpointError {}
/** `permission_denied`: valid credentials without access to the resource (403). */
export declare class PermissionDeniedError extends SwitchpointError {}
/** `not_found`: the model or resource does not exist, at the provider or in the config (404). */
export declare class NotFoundError extends SwitchpointError {}
/** `rate_limited`: the provider is rate limiting; `retryAfter` says when to come back (429). */
export declare class RateLimitError extends SwitchpointError {}
/** `connection`: the connection failed or was cut (a stream cut mid-way too). */
export declare class APIConnectionError extends SwitchpointError {}
/** `timeout`: no answer within the deadline. */
export declare class APIConnectionTimeoutError extends APIConnectionError {}
/** `bad_request`: the request is invalid; `param` names the field (400/422). */
export declare class BadRequestError extends SwitchpointError {}
/** `context_window_exceeded`: the prompt plus the output cap exceed the model's window. */
export declare class ContextWindowExceededError extends BadRequestError {}
/** `content_filtered`: a safety filter blocked the prompt or the answer. */
export declare class ContentFilteredError extends SwitchpointError {}
/** `unavailable`: the provider is down or overloaded (5xx, 529). */
export declare class InternalServerError extends SwitchpointError {}
/** `invalid_response`: the provider answered something outside its documented format. */
export declare class InvalidResponseError extends SwitchpointError {}
/** `budget_exceeded`: a spending budget would be exceeded. */
export declare class BudgetExceededError extends SwitchpointError {}
/** `rate_limit_exceeded`: a gateway rate limit (not the provider's) refused the request. */
export declare class RateLimitExceededError extends RateLimitError {}
/** `policy_denied`: a policy (allow-list, guardrail) refused the request. */
export declare class PolicyDeniedError extends SwitchpointError {}
/** `config`: the gateway configuration is invalid; `param` names the field. */
export declare class ConfigError extends SwitchpointError {}
/** `cancelled`: the caller aborted the request. */
export declare class APIUserAbortError extends SwitchpointError {}
/** `internal`: a bug inside switchpoint was caught (code `'panic'` for a caught panic). */
export declare class InternalError extends SwitchpointError {}
