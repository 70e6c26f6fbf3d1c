'use strict'
// The shared-scenario rules of tests/scenarios/README.md (reference: core/tests/scenarios.rs).

/** Returns null when `expected` matches `actual`, else the path and reason of the first mismatch. */
function mismatch(expected, actual, path) {
  if (expected === '<any>') {
    return actual !== undefined && actual !== null ? null : `${path}: expected a value, got nothing`
  }
  if (expected === null) {
    return actual === null || actual === undefined ? null : `${path}: expected null, got ${JSON.stringify(actual)}`
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual) || actual.length !== expected.length) {
      return `${path}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`
    }
    for (let i = 0; i < expected.length; i++) {
      const m = mismatch(expected[i], actual[i], `${path}[${i}]`)
      if (m) return m
    }
    return null
  }
  if (typeof expected === 'object') {
    if (actual === null || typeof actual !== 'object' || Array.isArray(actual)) {
      return `${path}: expected an object, got ${JSON.stringify(actual)}`
    }
    for (const [k, v] of Object.entries(expected)) {
      const m = mismatch(v, actual[k], `${path}.${k}`)
      if (m) return m
    }
    return null
  }
  if (typeof expected === 'number' && typeof actual === 'number') {
    return Math.abs(expected - actual) <= 0.001 ? null : `${path}: expected ${expected}, got ${actual}`
  }
  return expected === actual ? null : `${path}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`
}

/** Folds stream chunks into the non-streaming response shape (README "Assembling a stream"). */
function assemble(chunks) {
  const out = { id: undefined, object: 'chat.completion', created: undefined, model: undefined, choices: [] }
  const choices = []
  for (const chunk of chunks) {
    if (out.id === undefined) {
      out.id = chunk.id
      out.created = chunk.created
      out.model = chunk.model
    }
    if (chunk.system_fingerprint != null) out.system_fingerprint = chunk.system_fingerprint
    if (chunk.usage != null) out.usage = chunk.usage
    for (const c of chunk.choices) {
      const st = (choices[c.index] ??= { content: null, refusal: null, tool_calls: [], finish_reason: null })
      const d = c.delta ?? {}
      if (d.content != null) st.content = (st.content ?? '') + d.content
      if (d.refusal != null) st.refusal = (st.refusal ?? '') + d.refusal
      for (const tc of d.tool_calls ?? []) {
        const call = (st.tool_calls[tc.index] ??= { id: '', type: 'function', function: { name: '', arguments: '' } })
        if (tc.id != null && call.id === '') call.id = tc.id
        if (tc.function?.name != null && call.function.name === '') call.function.name = tc.function.name
        if (tc.function?.arguments != null) call.function.arguments += tc.function.arguments
      }
      if (c.finish_reason != null) st.finish_reason = c.finish_reason
    }
  }
  out.choices = choices.map((st, index) => ({
    index,
    message: {
      role: 'assistant',
      content: st.content,
      refusal: st.refusal,
      ...(st.tool_calls.length ? { tool_calls: st.tool_calls } : {}),
    },
    finish_reason: st.finish_reason,
    logprobs: null,
  }))
  return out
}

/** An error class instance as the scenario files spell errors (snake_case `retry_after`). */
function errorObject(e) {
  return {
    kind: e.kind,
    message: e.message,
    status: e.status,
    provider: e.provider,
    retry_after: e.retryAfter,
    param: e.param,
    code: e.code,
  }
}

/** The scenario format's snake_case cache controls -> the Node `cache` option's names. */
const CACHE_OPTION = { no_read: 'noRead', no_store: 'noStore', ttl: 'ttl', refresh: 'refresh', namespace: 'namespace' }

/**
 * A scenario step's context as create() body fields, written the way a Node caller writes
 * them: `apiKey`, and `cache: { noRead, noStore, ttl, refresh, namespace }`.
 */
function contextFields(context) {
  if (!context) return {}
  const out = {}
  for (const [k, v] of Object.entries(context)) {
    if (k === 'api_key') out.apiKey = v
    else if (k === 'cache') {
      out.cache = {}
      for (const [ck, cv] of Object.entries(v)) {
        if (!(ck in CACHE_OPTION)) throw new Error(`scenario: unknown cache control ${ck}`)
        out.cache[CACHE_OPTION[ck]] = cv
      }
    } else out[k] = v
  }
  return out
}

/** A scenario `usage` step's request as `gw.usage()` options (`since` in Unix seconds -> ms). */
function usageOptions(request = {}) {
  const options = {}
  if (request.group_by !== undefined) options.groupBy = request.group_by
  if (request.since !== undefined) options.since = request.since * 1000
  return options
}

/**
 * A scenario's top-level `hooks` entry as a Node guardrail function (README "Policy steps"):
 * `deny_if_contains` denies when a message (input) or the content (output) contains the
 * string; `replace` rewrites every text content (string or text part) or the answer that
 * contains the string; otherwise allow.
 */
function scenarioHook(hook) {
  return (event) => {
    const input = event.stage === 'input'
    if (hook.deny_if_contains !== undefined) {
      const text = input ? JSON.stringify(event.messages) : event.content ?? ''
      if (text.includes(hook.deny_if_contains)) return { action: 'deny', reason: hook.reason }
    }
    if (hook.replace !== undefined) {
      const [from, to] = hook.replace
      if (input) {
        let changed = false
        const swap = (text) => {
          if (!text.includes(from)) return text
          changed = true
          return text.replaceAll(from, to)
        }
        const messages = event.messages.map((m) => {
          if (typeof m.content === 'string') return { ...m, content: swap(m.content) }
          if (Array.isArray(m.content)) {
            const content = m.content.map((p) => (p.type === 'text' ? { ...p, text: swap(p.text) } : p))
            return { ...m, content }
          }
          return m
        })
        if (changed) return { action: 'rewrite', messages }
      } else if ((event.content ?? '').includes(from)) {
        return { action: 'rewrite', content: event.content.replaceAll(from, to) }
      }
    }
    return { action: 'allow' }
  }
}

module.exports = { mismatch, assemble, errorObject, contextFields, usageOptions, scenarioHook }
