'use strict'
// switchpoint for Node: the `openai` package's surface (`gw.chat.completions.create`,
// `gw.responses.create`, `gw.embeddings.create`, streams as async iterables, typed errors)
// over an in-process
// gateway. This file only converts values and maps errors; the native addon (native.js,
// built by napi-rs) runs every call on the core's runtime, off the event loop.

const native = require('./native.js')

// ---------------------------------------------------------------------------------------
// Errors: one class per core error kind, named as the `openai` package names its own.
// ---------------------------------------------------------------------------------------

/** The base of every error switchpoint throws. */
class SwitchpointError extends Error {
  /**
   * @param {string} message
   * @param {{kind?: string, status?: number, provider?: string, retryAfter?: number,
   *          param?: string, code?: string, cause?: unknown}} [fields]
   */
  constructor(message, fields = {}) {
    super(message, fields.cause === undefined ? undefined : { cause: fields.cause })
    this.name = new.target.name
    /** The snake_case error kind (`rate_limited`, `auth`, ...). */
    this.kind = fields.kind ?? new.target.kind
    /** The provider's HTTP status, when there was one. */
    this.status = fields.status
    /** The provider (config name) that produced the error. */
    this.provider = fields.provider
    /** Seconds to wait before trying again, when the provider said so. */
    this.retryAfter = fields.retryAfter
    /** The request or config field at fault. */
    this.param = fields.param
    /** The provider's error code or type; `panic` for a caught panic. */
    this.code = fields.code
  }
}
SwitchpointError.kind = 'internal'

/** Defines a subclass for `kind` (the class also says its kind as a static). */
function kindClass(name, kind, Base) {
  const cls = { [name]: class extends Base {} }[name]
  cls.kind = kind
  return cls
}

const AuthenticationError = kindClass('AuthenticationError', 'auth', SwitchpointError)
const PermissionDeniedError = kindClass('PermissionDeniedError', 'permission_denied', SwitchpointError)
const NotFoundError = kindClass('NotFoundError', 'not_found', SwitchpointError)
const RateLimitError = kindClass('RateLimitError', 'rate_limited', SwitchpointError)
const APIConnectionError = kindClass('APIConnectionError', 'connection', SwitchpointError)
const APIConnectionTimeoutError = kindClass('APIConnectionTimeoutError', 'timeout', APIConnectionError)
const BadRequestError = kindClass('BadRequestError', 'bad_request', SwitchpointError)
const ContextWindowExceededError = kindClass('ContextWindowExceededError', 'context_window_exceeded', BadRequestError)
const ContentFilteredError = kindClass('ContentFilteredError', 'content_filtered', SwitchpointError)
const InternalServerError = kindClass('InternalServerError', 'unavailable', SwitchpointError)
const InvalidResponseError = kindClass('InvalidResponseError', 'invalid_response', SwitchpointError)
const BudgetExceededError = kindClass('BudgetExceededError', 'budget_exceeded', SwitchpointError)
const RateLimitExceededError = kindClass('RateLimitExceededError', 'rate_limit_exceeded', RateLimitError)
const PolicyDeniedError = kindClass('PolicyDeniedError', 'policy_denied', SwitchpointError)
const ConfigError = kindClass('ConfigError', 'config', SwitchpointError)
const APIUserAbortError = kindClass('APIUserAbortError', 'cancelled', SwitchpointError)
const InternalError = kindClass('InternalError', 'internal', SwitchpointError)

const errorClasses = {
  AuthenticationError,
  PermissionDeniedError,
  NotFoundError,
  RateLimitError,
  APIConnectionError,
  APIConnectionTimeoutError,
  BadRequestError,
  ContextWindowExceededError,
  ContentFilteredError,
  InternalServerError,
  InvalidResponseError,
  BudgetExceededError,
  RateLimitExceededError,
  PolicyDeniedError,
  ConfigError,
  APIUserAbortError,
  InternalError,
}

/** Error kind -> class. */
const classByKind = new Map(Object.values(errorClasses).map((c) => [c.kind, c]))

// A kind the core knows but this file does not would silently become InternalError: refuse
// to load instead, so the mismatch shows in the first test run.
for (const kind of native.errorKinds()) {
  if (!classByKind.has(kind)) throw new Error(`switchpoint: no error class for kind '${kind}'`)
}

/**
 * The error class instance for a failure: a native error payload (a plain object with
 * `kind`), an error of our own, or anything else a caller could throw (wrapped as internal).
 */
function toError(e) {
  if (e instanceof SwitchpointError) return e
  if (e !== null && typeof e === 'object' && typeof e.kind === 'string' && !(e instanceof Error)) {
    const cls = classByKind.get(e.kind) ?? InternalError
    return new cls(e.message, e)
  }
  const message = e instanceof Error ? e.message : String(e)
  return new InternalError(`switchpoint: unexpected failure: ${message}`, { cause: e })
}

function abortError() {
  return new APIUserAbortError('Request was aborted.')
}

// ---------------------------------------------------------------------------------------
// Requests: OpenAI fields go to the request, switchpoint's own fields to the context.
// ---------------------------------------------------------------------------------------

/** switchpoint's own body fields -> the core's RequestContext field names. */
const CONTEXT_FIELDS = [
  ['apiKey', 'api_key'],
  ['team', 'team'],
  ['tier', 'tier'],
  ['tags', 'tags'],
  ['timeout', 'timeout'],
  ['metadata', 'metadata'],
]

const NO_FIELDS = new Set()

/** Context fields a Responses request also sends to the provider. */
const RESPONSES_SHARED = new Set(['metadata'])

/** The `cache` option's fields -> the core's `RequestContext.cache` field names. */
const CACHE_FIELDS = new Map([
  ['noRead', 'no_read'],
  ['noStore', 'no_store'],
  ['ttl', 'ttl'],
  ['refresh', 'refresh'],
  ['namespace', 'namespace'],
])

/**
 * The `cache` option in the core's spelling. Unknown fields are refused here, with the
 * names a Node caller writes (the core would list its snake_case ones); the core checks the
 * values (a negative `ttl`, a `namespace` that is not a string, ...).
 */
function encodeCache(cache) {
  if (cache === null || typeof cache !== 'object' || Array.isArray(cache)) {
    throw new BadRequestError('invalid `cache`: expected an object like { noRead, noStore, ttl, refresh, namespace }', {
      param: 'cache',
    })
  }
  const out = {}
  for (const [field, value] of Object.entries(cache)) {
    const name = CACHE_FIELDS.get(field)
    if (name === undefined) {
      const allowed = [...CACHE_FIELDS.keys()].map((k) => `\`${k}\``).join(', ')
      throw new BadRequestError(`invalid \`cache.${field}\`: unknown field \`${field}\`, expected one of ${allowed}`, {
        param: `cache.${field}`,
      })
    }
    if (value !== undefined) out[name] = value
  }
  return out
}

/**
 * Splits a create() body into the request JSON and the context JSON (or null). `user` is
 * both: it reaches the provider (as with the `openai` package) and identifies the caller;
 * so are the fields named in `shared` (the Responses API's `metadata`, which the provider
 * receives and the Response echoes).
 */
function encode(body, options, shared = NO_FIELDS) {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new BadRequestError('invalid request: the body must be an object', { param: '' })
  }
  let request = body
  let context = null
  for (const [field, ctxField] of CONTEXT_FIELDS) {
    if (body[field] !== undefined) {
      if (!shared.has(field)) {
        if (request === body) request = { ...body }
        delete request[field]
      }
      context ??= {}
      context[ctxField] = body[field]
    }
  }
  if (body.cache !== undefined) {
    if (request === body) request = { ...body }
    delete request.cache
    ;(context ??= {}).cache = encodeCache(body.cache)
  }
  if (body.user != null) (context ??= {}).user = body.user
  if (options != null && options.timeout != null) {
    // openai's RequestOptions.timeout is milliseconds; the core's context is seconds.
    const secs = options.timeout / 1000
    context ??= {}
    context.timeout = context.timeout == null ? secs : Math.min(context.timeout, secs)
  }
  try {
    return [JSON.stringify(request), context === null ? null : JSON.stringify(context)]
  } catch (e) {
    throw new BadRequestError(`invalid request: ${e.message}`, { param: '', cause: e })
  }
}

/**
 * Starts a native call with the caller's AbortSignal wired to a cancel token. Returns what
 * the native call returned (a promise, or for chat and embeddings possibly the outcome
 * itself) and `detach`, which removes the abort listener once the caller is done with the
 * signal (a stream hands its own listener over to the stream object).
 */
function start(signal, call) {
  if (signal == null) return { promise: call(undefined), detach: noop }
  if (signal.aborted) throw abortError()
  const token = new native.CancelToken()
  const onAbort = () => token.cancel()
  signal.addEventListener('abort', onAbort, { once: true })
  const detach = () => signal.removeEventListener('abort', onAbort)
  return { promise: call(token), detach }
}

function noop() {}

/** Parses a native JSON answer, or throws the error class of a native error payload. */
function decode(outcome) {
  if (typeof outcome === 'string') return JSON.parse(outcome)
  throw toError(outcome)
}

/**
 * Runs a non-streaming call: request JSON in, parsed answer out, errors as classes. The
 * native call answers at once when it needed no I/O (a cache hit, a refused request), else
 * with a promise.
 */
function callJson(method, body, options, shared) {
  try {
    const [request, context] = encode(body, options, shared)
    const signal = options?.signal
    const { promise, detach } = start(signal, (token) => method(request, context, token))
    if (!(promise instanceof Promise)) {
      detach()
      return Promise.resolve(decode(promise))
    }
    return promise.then(
      (outcome) => {
        detach()
        // As with fetch: an abort before the promise settled wins, even if the answer was
        // already on its way back from the runtime.
        if (signal?.aborted) throw abortError()
        return decode(outcome)
      },
      (e) => {
        detach()
        throw toError(e)
      },
    )
  } catch (e) {
    return Promise.reject(toError(e))
  }
}

// ---------------------------------------------------------------------------------------
// Streams
// ---------------------------------------------------------------------------------------

/**
 * A streamed chat completion: `for await (const chunk of stream)`. Leaving the loop early
 * (`break`, `return`, an exception) or `stream.controller.abort()` cancels the upstream
 * request; an `AbortSignal` given to `create()` does the same.
 */
class ChatCompletionStream {
  #native
  #detach
  #done = false
  #aborted = false
  #iterated = false
  #facts = null

  /** @internal */
  constructor(nativeStream, signal, detach) {
    this.#native = nativeStream
    this.#detach = detach
    /** Aborting it stops the stream, as in the `openai` package. */
    this.controller = new AbortController()
    this.controller.signal.addEventListener('abort', () => this.#abort(), { once: true })
    if (signal != null) {
      // The create() signal now stops the stream rather than the (finished) call.
      detach()
      const onAbort = () => this.controller.abort()
      signal.addEventListener('abort', onAbort, { once: true })
      this.#detach = () => signal.removeEventListener('abort', onAbort)
      if (signal.aborted) this.controller.abort()
    }
  }

  #abort() {
    this.#aborted = true
    this.#native.close()
  }

  #finish() {
    if (this.#done) return
    this.#done = true
    this.#detach()
    const facts = this.#native.facts()
    if (facts !== null) this.#facts = JSON.parse(facts)
    this.#native.close()
  }

  /** The gateway's facts (provider, attempts, latency), once the stream ended; else null. */
  get switchpoint() {
    return this.#facts
  }

  /** The next chunk, or `{done: true}`; throws the stream's error if it failed. */
  async next() {
    if (this.#done) return { value: undefined, done: true }
    let outcome
    try {
      outcome = await this.#native.next()
    } catch (e) {
      this.#finish()
      throw toError(e)
    }
    if (typeof outcome === 'string') return { value: JSON.parse(outcome), done: false }
    const aborted = this.#aborted
    this.#finish()
    if (outcome === null) {
      if (aborted) throw abortError()
      return { value: undefined, done: true }
    }
    if (aborted || (outcome.kind === 'cancelled' && this.controller.signal.aborted)) throw abortError()
    throw toError(outcome)
  }

  /** Stops the stream early and cancels the upstream request. */
  async return(value) {
    if (!this.#done) {
      this.#native.close()
      this.#finish()
    }
    return { value, done: true }
  }

  [Symbol.asyncIterator]() {
    if (this.#iterated) {
      throw new Error('Cannot iterate over a consumed stream, use `.tee()` to split the stream.')
    }
    this.#iterated = true
    return {
      next: () => this.next(),
      return: (value) => this.return(value),
      [Symbol.asyncIterator]() {
        return this
      },
    }
  }

  /**
   * Two independent streams over the same chunks (each gets every chunk), as in the
   * `openai` package; cancelling both cancels the upstream request.
   */
  tee() {
    const queues = [[], []]
    const live = [true, true]
    let pending = null
    // One pull at a time; each pulled step is queued for every reader still reading.
    const pull = () => {
      pending ??= this.next()
        .then(
          (r) => ({ r }),
          (e) => ({ e }),
        )
        .then((step) => {
          pending = null
          for (let j = 0; j < 2; j++) if (live[j]) queues[j].push(step)
        })
      return pending
    }
    const side = (i) => ({
      next: async () => {
        while (queues[i].length === 0) await pull()
        const step = queues[i].shift()
        if ('e' in step) throw step.e
        return step.r
      },
      return: async (value) => {
        live[i] = false
        queues[i].length = 0
        if (!live[0] && !live[1]) await this.return()
        return { value, done: true }
      },
      [Symbol.asyncIterator]() {
        return this
      },
    })
    return [side(0), side(1)]
  }
}

/**
 * A streamed Response (`gw.responses.create({ ..., stream: true })`): an async iterable of
 * Responses events (`response.created`, `response.output_text.delta`, ...,
 * `response.completed`), each with its `type` and `sequence_number`. Leaving early or
 * aborting cancels the upstream request, as with chat streams.
 */
class ResponseStream extends ChatCompletionStream {}

/**
 * Opens a stream with the native `open(request, context, token)` and wraps it in `Stream`
 * (`ChatCompletionStream` or `ResponseStream`).
 */
function callStream(open, Stream, body, options, shared) {
  try {
    const [request, context] = encode(body, options, shared)
    const signal = options?.signal
    const { promise, detach } = start(signal, (token) => open(request, context, token))
    return promise.then(
      (outcome) => {
        if (outcome instanceof native.NativeStream) {
          if (signal?.aborted) {
            outcome.close()
            detach()
            throw abortError()
          }
          return new Stream(outcome, signal, detach)
        }
        detach()
        throw toError(outcome)
      },
      (e) => {
        detach()
        throw toError(e)
      },
    )
  } catch (e) {
    return Promise.reject(toError(e))
  }
}

// ---------------------------------------------------------------------------------------
// The gateway and its resources, shaped like the `openai` client.
// ---------------------------------------------------------------------------------------

/** `gw.chat.completions`: chat completions, plain or streamed. */
class Completions {
  #native

  /** @internal */
  constructor(nativeGateway) {
    this.#native = nativeGateway
  }

  /**
   * Creates a chat completion. With `stream: true` the promise resolves to a
   * `ChatCompletionStream` once the provider answered.
   */
  create(body, options) {
    if (body != null && body.stream === true) {
      return callStream((r, c, t) => this.#native.chatStream(r, c, t), ChatCompletionStream, body, options)
    }
    return callJson((r, c, t) => this.#native.chat(r, c, t), body, options)
  }
}

/** `gw.chat`: holds `completions`, as in the `openai` client. */
class Chat {
  /** @internal */
  constructor(nativeGateway) {
    this.completions = new Completions(nativeGateway)
  }
}

/**
 * The text of every `output_text` part of every `message` item, joined: the `output_text`
 * the `openai` package adds to a Response.
 */
function outputText(response) {
  const texts = []
  for (const item of response.output ?? []) {
    if (item.type !== 'message') continue
    for (const part of item.content ?? []) {
      if (part.type === 'output_text') texts.push(part.text ?? '')
    }
  }
  return texts.join('')
}

/**
 * `gw.responses`: the OpenAI Responses API over every provider (passed through to
 * providers that have it, translated to chat completions for the others).
 */
class Responses {
  #native

  /** @internal */
  constructor(nativeGateway) {
    this.#native = nativeGateway
  }

  /**
   * Creates a Response (with `output_text` set, as in the `openai` package). With
   * `stream: true` the promise resolves to a `ResponseStream` of events once the provider
   * answered.
   */
  create(body, options) {
    if (body != null && body.stream === true) {
      const open = (r, c, t) => this.#native.responsesStream(r, c, t)
      return callStream(open, ResponseStream, body, options, RESPONSES_SHARED)
    }
    const call = (r, c, t) => this.#native.responses(r, c, t)
    return callJson(call, body, options, RESPONSES_SHARED).then((response) => {
      response.output_text = outputText(response)
      return response
    })
  }
}

/** `gw.embeddings`: embedding vectors. */
class Embeddings {
  #native

  /** @internal */
  constructor(nativeGateway) {
    this.#native = nativeGateway
  }

  /** Creates embeddings for one or more inputs. */
  create(body, options) {
    return callJson((r, c, t) => this.#native.embed(r, c, t), body, options)
  }
}

// ---------------------------------------------------------------------------------------
// Administration: virtual keys, the audit log, reload.
// ---------------------------------------------------------------------------------------

/** Settles an admin call: the native promise's JSON text parsed, or its error as a class. */
async function admin(call) {
  let outcome
  try {
    outcome = await call()
  } catch (e) {
    throw toError(e)
  }
  if (typeof outcome === 'string') return JSON.parse(outcome)
  if (outcome === null) return undefined
  throw toError(outcome)
}

/** The `actor` of an admin call's options (`{ actor }`, default `'api'`). */
function actorOf(method, options) {
  if (options == null) return 'api'
  if (typeof options !== 'object' || Array.isArray(options)) {
    throw new BadRequestError(`${method}: options must be an object like { actor }`, { param: '' })
  }
  for (const key of Object.keys(options)) {
    if (key !== 'actor') {
      throw new BadRequestError(`${method}: unknown option \`${key}\`, expected \`actor\``, { param: key })
    }
  }
  const { actor = 'api' } = options
  if (typeof actor !== 'string') {
    throw new BadRequestError(`${method}: actor must be a string, got ${typeof actor}`, { param: 'actor' })
  }
  return actor
}

/** A key id argument, checked. */
function keyId(method, id) {
  if (typeof id !== 'string') {
    throw new BadRequestError(`${method}: the key id must be a string like 'key-0123456789abcdef', got ${typeof id}`, {
      param: 'id',
    })
  }
  return id
}

/** A settings object (key settings, a patch) as JSON text, or a BadRequestError naming it. */
function settingsJson(method, param, value) {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    const got = Array.isArray(value) ? 'an array' : value === null ? 'null' : typeof value
    throw new BadRequestError(`${method}: ${param} must be an object, got ${got}`, { param })
  }
  try {
    return JSON.stringify(value)
  } catch (e) {
    throw new BadRequestError(`${method}: ${param} cannot be serialized: ${e.message}`, { param, cause: e })
  }
}

/**
 * `gw.keys`: virtual keys issued at runtime (stored as hashes on the gateway's state
 * backend, so every process sharing it sees them) and the ones config defines.
 */
class Keys {
  #native

  /** @internal */
  constructor(nativeGateway) {
    this.#native = nativeGateway
  }

  /**
   * Issues a key bound to an identity, allowed models and routes, budgets and limits;
   * resolves to the key with its value in `key` (shown this once; only its hash is kept).
   */
  create(spec = {}, options) {
    return admin(() =>
      this.#native.createKey(settingsJson('keys.create', 'spec', spec ?? {}), actorOf('keys.create', options)),
    )
  }

  /** Every key (config and runtime ones, revoked included), never with its value. */
  list() {
    return admin(() => this.#native.listKeys())
  }

  /** One key by id; `NotFoundError` when there is none. */
  get(id) {
    return admin(() => this.#native.getKey(keyId('keys.get', id)))
  }

  /** Changes a runtime key's settings (a JSON merge patch: given fields replace, `null` removes). */
  update(id, patch, options) {
    return admin(() =>
      this.#native.updateKey(keyId('keys.update', id), settingsJson('keys.update', 'patch', patch), actorOf('keys.update', options)),
    )
  }

  /** Revokes a runtime key: every process sharing the state refuses it from now on. */
  revoke(id, options) {
    return admin(() => this.#native.revokeKey(keyId('keys.revoke', id), actorOf('keys.revoke', options)))
  }
}

/** `since` (a `Date` or Unix ms, default 0) as Unix ms, or a BadRequestError. */
function sinceMs(method, since) {
  let ms = 0
  if (since instanceof Date) ms = since.getTime()
  else if (typeof since === 'number') ms = since
  else if (since != null) {
    throw new BadRequestError(`${method}: since must be a Date or Unix milliseconds, got ${typeof since}`, { param: 'since' })
  }
  if (!Number.isFinite(ms) || ms < 0) {
    throw new BadRequestError(`${method}: since must be a valid time at or after 1970, got ${String(since)}`, {
      param: 'since',
    })
  }
  return ms
}

/** Runs a native factory, turning its thrown error payload into an error class. */
function build(factory) {
  try {
    return factory()
  } catch (e) {
    throw toError(e)
  }
}

/** The native gateway for `new Gateway(options)`. */
function nativeGateway(options) {
  if (options.configFile != null) {
    if (options.config != null) {
      throw new ConfigError('give either `config` or `configFile`, not both', { param: 'configFile' })
    }
    return build(() => native.Gateway.fromFile(String(options.configFile)))
  }
  const config = options.config
  if (config == null) return build(() => native.Gateway.fromEnv())
  if (typeof config === 'string') return build(() => native.Gateway.fromText(config))
  if (typeof config === 'object' && !Array.isArray(config)) {
    let json
    try {
      json = JSON.stringify(config)
    } catch (e) {
      throw new ConfigError(`config cannot be serialized: ${e.message}`, { param: '', cause: e })
    }
    return build(() => native.Gateway.fromJson(json))
  }
  throw new ConfigError('config must be an object or YAML/JSON text', { param: '' })
}

/**
 * An LLM gateway inside this process, used like the `openai` client:
 * `gw.chat.completions.create({...})`, `gw.responses.create({...})`,
 * `gw.embeddings.create({...})`.
 */
class Gateway {
  #native
  /** Live onRecord subscriptions: `{ sub, state }`, for flushTelemetry(). */
  #subscriptions = new Set()
  /**
   * `new Gateway()` reads provider keys from the environment (`provider/model` names);
   * `new Gateway({ config })` takes a config object or YAML/JSON text;
   * `new Gateway({ configFile })` reads a YAML or JSON file.
   */
  constructor(options = {}) {
    const inner = nativeGateway(options ?? {})
    this.#native = inner
    /** Chat completions. */
    this.chat = new Chat(inner)
    /** Embeddings. */
    this.embeddings = new Embeddings(inner)
    /** The Responses API. */
    this.responses = new Responses(inner)
    /** Virtual keys: create, list, get, update, revoke. */
    this.keys = new Keys(inner)
  }

  /** A gateway from a YAML or JSON config file. */
  static fromFile(path) {
    return new Gateway({ configFile: path })
  }

  /** A gateway from a config object or YAML/JSON config text. */
  static fromConfig(config) {
    if (config == null) throw new ConfigError('config is required', { param: '' })
    return new Gateway({ config })
  }

  /** A gateway with no config: `provider/model` names, keys from the environment. */
  static fromEnv() {
    return new Gateway()
  }

  /**
   * The audit log since `since` (a `Date` or Unix ms; default: everything kept), oldest
   * first: who created, updated or revoked which key, reloaded the config, crossed a soft
   * budget limit.
   */
  audit(since) {
    return admin(() => this.#native.audit(sinceMs('audit', since)))
  }

  /**
   * Swaps in a new configuration (an object, or YAML/JSON text) atomically: calls in flight
   * finish on the old one, new calls take the new one; counters, runtime keys and the audit
   * log stay. Rejects with `ConfigError` naming the field at fault (the old config stays).
   */
  reload(config, options) {
    return admin(() => {
      const actor = actorOf('reload', options)
      if (typeof config === 'string') return this.#native.reloadText(config, actor)
      if (config !== null && typeof config === 'object' && !Array.isArray(config)) {
        let json
        try {
          json = JSON.stringify(config)
        } catch (e) {
          throw new ConfigError(`config cannot be serialized: ${e.message}`, { param: '', cause: e })
        }
        return this.#native.reloadJson(json, actor)
      }
      throw new ConfigError('reload: config must be an object or YAML/JSON text', { param: '' })
    })
  }

  /**
   * Adds a guardrail written in JS: `fn(event)` sees every request's messages
   * (`event.stage === 'input'`) and every non-streamed answer's text (`'output'`), with who
   * is asking (`model`, `user`, `team`, `key_id`, `tier`, `tags`, `metadata`), and returns a
   * verdict or a promise of one: `undefined`/`null`/`true` or `{ action: 'allow' }` allow,
   * `false` or `{ action: 'deny', reason }` refuses the call (`PolicyDeniedError`, code
   * `guardrail_hook`), `{ action: 'rewrite', messages }` (input) or
   * `{ action: 'rewrite', content }` (output) replaces them. A throw (or a rejected promise)
   * fails the call with `InternalError`, code `guardrail_hook_failed`, and the exception's
   * message. Guardrails run in the order added and stay across reloads. Returns the id
   * `removeGuardrail()` takes. Registering keeps no handle open.
   */
  addGuardrail(fn) {
    if (typeof fn !== 'function') {
      throw new TypeError(`addGuardrail: the guardrail must be a function, got ${typeof fn}`)
    }
    // Always resolves (never rejects) with the verdict or the exception's message, as JSON.
    const hook = async (eventJson) => {
      try {
        const verdict = await fn(JSON.parse(eventJson))
        return JSON.stringify({ verdict: verdict === undefined ? null : verdict })
      } catch (e) {
        return JSON.stringify({ error: e instanceof Error ? e.message : String(e) })
      }
    }
    try {
      return this.#native.addGuardrail(hook)
    } catch (e) {
      throw toError(e)
    }
  }

  /**
   * Removes a guardrail added by `addGuardrail()`; true the first time, false for an id
   * that is not registered. Requests already past their guardrails are not affected.
   */
  removeGuardrail(id) {
    if (typeof id !== 'number') {
      throw new BadRequestError(`removeGuardrail: the id must be a number, got ${typeof id}`, { param: 'id' })
    }
    try {
      return this.#native.removeGuardrail(id)
    } catch (e) {
      throw toError(e)
    }
  }

  /**
   * Every target's state: healthy, cooling down (until when) or half-open, EWMA latency,
   * recent error rate, requests in flight. Plain data; never blocks.
   */
  health() {
    return JSON.parse(this.#native.health())
  }

  /**
   * The Prometheus text exposition of the gateway's metrics (serve it on `/metrics`).
   * Calls that already returned are counted. Synchronous: it may wait up to a second for
   * records still queued inside the gateway.
   */
  metricsText() {
    try {
      return this.#native.metricsText()
    } catch (e) {
      throw toError(e)
    }
  }

  /**
   * Requests, errors, cache hits, tokens and cost since `since` (a `Date` or Unix ms;
   * default: everything kept), one row per `groupBy` value (default `'total'`), most
   * expensive first. Rows are in the wire form: snake_case fields, money as decimal strings.
   */
  usage(options) {
    const { since, groupBy } = usageOptions(options ?? {})
    let rows
    try {
      rows = this.#native.usage(since, groupBy)
    } catch (e) {
      throw toError(e)
    }
    return JSON.parse(rows)
  }

  /**
   * Calls `callback(record)` with every request record from now on, on the JS thread (soon
   * after the request ended, never on its path). A callback that throws is reported with
   * `process.emitWarning` and changes nothing else. Registering keeps no handle open: the
   * process still exits when its work is done. Returns `off()`, which stops the deliveries
   * (idempotent): no call happens after it returned.
   */
  onRecord(callback) {
    if (typeof callback !== 'function') {
      throw new TypeError(`onRecord: the callback must be a function, got ${typeof callback}`)
    }
    const state = { received: 0, live: true, dropsReported: false }
    let sub = null
    // The native side holds this function, not the gateway object: a callback that does not
    // reference the gateway lets it be collected once it is no longer used.
    const deliver = (json) => {
      state.received++
      if (!state.live) return
      if (!state.dropsReported && sub !== null && sub.dropped > 0) {
        state.dropsReported = true
        reportDrops(sub.dropped)
      }
      try {
        callback(JSON.parse(json))
      } catch (e) {
        reportCallbackError(e)
      }
    }
    try {
      sub = this.#native.onRecord(deliver)
    } catch (e) {
      throw toError(e)
    }
    const entry = { sub, state }
    this.#subscriptions.add(entry)
    return () => {
      if (!state.live) return
      state.live = false
      this.#subscriptions.delete(entry)
      sub.remove()
    }
  }

  /**
   * Resolves to true once every record of the calls made so far reached every observer
   * (onRecord callbacks included; log files written, spans exported), or to false after
   * `timeoutMs` (default 5000). Waits off the event loop.
   */
  async flushTelemetry(timeoutMs = 5000) {
    if (typeof timeoutMs !== 'number' || !(timeoutMs >= 0) || !Number.isFinite(timeoutMs)) {
      throw new BadRequestError(`flushTelemetry: timeoutMs must be a non-negative number, got ${timeoutMs}`, {
        param: 'timeoutMs',
      })
    }
    const deadline = Date.now() + timeoutMs
    const outcome = await this.#native.flushTelemetry(timeoutMs)
    if (typeof outcome !== 'boolean') throw toError(outcome)
    if (!outcome) return false
    // Every record is now queued for the JS thread; wait until the callbacks received them.
    const pending = [...this.#subscriptions].map((entry) => [entry.state, entry.sub.sent])
    while (pending.some(([state, sent]) => state.live && state.received < sent)) {
      if (Date.now() > deadline) return false
      await new Promise((resolve) => setImmediate(resolve))
    }
    return true
  }
}

const USAGE_OPTIONS = new Set(['since', 'groupBy'])

/** `usage()` options as the native call takes them: Unix ms and the grouping name. */
function usageOptions(options) {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new BadRequestError('usage: options must be an object like { since, groupBy }', { param: '' })
  }
  for (const key of Object.keys(options)) {
    if (!USAGE_OPTIONS.has(key)) {
      throw new BadRequestError(`usage: unknown option \`${key}\`, expected \`since\` or \`groupBy\``, { param: key })
    }
  }
  const { since, groupBy = 'total' } = options
  let ms = 0
  if (since instanceof Date) ms = since.getTime()
  else if (typeof since === 'number') ms = since
  else if (since != null) {
    throw new BadRequestError(`usage: since must be a Date or Unix milliseconds, got ${typeof since}`, { param: 'since' })
  }
  if (!Number.isFinite(ms) || ms < 0) {
    throw new BadRequestError(`usage: since must be a valid time at or after 1970, got ${String(since)}`, {
      param: 'since',
    })
  }
  if (typeof groupBy !== 'string') {
    throw new BadRequestError(`usage: groupBy must be a string, got ${typeof groupBy}`, { param: 'group_by' })
  }
  return { since: ms, groupBy }
}

/**
 * Says (once per callback) that records were dropped: records wait for the event loop to
 * turn, and a queue of 10,000 filled up while it did not (a long synchronous stretch).
 */
function reportDrops(count) {
  try {
    const warning = new Error(
      `${count} request records were dropped before reaching an onRecord callback: ` +
        'the event loop did not turn while more than 10000 requests finished',
    )
    warning.name = 'SwitchpointWarning'
    process.emitWarning(warning)
  } catch {
    // Nothing is left to report to.
  }
}

/** Reports an exception thrown by an onRecord callback without letting it go further. */
function reportCallbackError(e) {
  try {
    const message = e instanceof Error ? e.message : String(e)
    const warning = new Error(`an onRecord callback threw: ${message}`, { cause: e })
    warning.name = 'SwitchpointWarning'
    process.emitWarning(warning)
  } catch {
    // Nothing is left to report to.
  }
}

// As on the `openai` client class: `Gateway.RateLimitError`, ...
Object.assign(Gateway, errorClasses, { SwitchpointError, APIError: SwitchpointError })

module.exports = {
  Gateway,
  ChatCompletionStream,
  ResponseStream,
  Chat,
  Completions,
  Responses,
  Embeddings,
  Keys,
  SwitchpointError,
  APIError: SwitchpointError,
  AuthenticationError,
  PermissionDeniedError,
  NotFoundError,
  RateLimitError,
  APIConnectionError,
  APIConnectionTimeoutError,
  BadRequestError,
  ContextWindowExceededError,
  ContentFilteredError,
  InternalServerError,
  InvalidResponseError,
  BudgetExceededError,
  RateLimitExceededError,
  PolicyDeniedError,
  ConfigError,
  APIUserAbortError,
  InternalError,
  // Internal: the kind -> class mapping, for the test suite.
  __errorFromPayload: toError,
}
