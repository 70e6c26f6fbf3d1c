'use strict'
// Plays every shared scenario in tests/scenarios through the public Node API, with the same
// matching rules as the Rust runner (core/tests/scenarios.rs).

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { Gateway, SwitchpointError } = require('..')
const { startMock, repoRoot } = require('./helpers/mock')
const { mismatch, assemble, errorObject, contextFields, usageOptions, scenarioHook } = require('./helpers/scenario')

const dir = path.join(repoRoot, 'tests', 'scenarios')
const files = fs
  .readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .sort()

let mock
test.before(async () => {
  mock = await startMock()
})
test.after(() => mock.stop())

/**
 * A Responses step (tests/scenarios/README.md): the Response with `output_text` (for a
 * stream: the final event's Response, its `output_text` the joined text deltas), the number
 * of events and their types.
 */
async function runResponses(gw, body) {
  if (body.stream !== true) {
    return { response: await gw.responses.create(body), chunks: 0, events: [] }
  }
  const stream = await gw.responses.create(body)
  const events = []
  let text = ''
  let final = null
  try {
    for await (const event of stream) {
      events.push(event.type)
      if (event.type === 'response.output_text.delta') text += event.delta
      if (event.type === 'response.completed' || event.type === 'response.incomplete') final = event.response
    }
  } catch (e) {
    if (!(e instanceof SwitchpointError)) throw e
    return { error: e, chunks: events.length, events }
  }
  assert.ok(final !== null, `no final Response among ${events.join(', ')}`)
  return { response: { ...final, output_text: text }, chunks: events.length, events }
}

/** The admin calls of tests/scenarios/README.md ("Policy steps"), as a Node caller writes them. */
const ADMIN_CALLS = {
  create_key: (gw, request, actor) => gw.keys.create(request, { actor }),
  update_key: (gw, request, actor) => gw.keys.update(request.id, request.patch, { actor }),
  revoke_key: (gw, request, actor) => gw.keys.revoke(request.id, { actor }),
  get_key: (gw, request) => gw.keys.get(request.id),
  list_keys: (gw) => gw.keys.list(),
  // `since` is Unix seconds in the scenario format; Node takes milliseconds (or a Date).
  audit: (gw, request) => gw.audit(request?.since === undefined ? undefined : request.since * 1000),
  reload: (gw, request, actor) => gw.reload(request, { actor }),
}

/** Runs one step; resolves to {response} or {error} plus the number of chunks received. */
async function runStep(gw, step) {
  const admin = ADMIN_CALLS[step.call]
  if (admin !== undefined) {
    try {
      return { response: await admin(gw, step.request ?? {}, step.actor ?? 'scenario'), chunks: 0 }
    } catch (e) {
      if (!(e instanceof SwitchpointError)) throw e
      return { error: e, chunks: 0 }
    }
  }
  const body = step.call === 'usage' ? {} : { ...step.request, ...contextFields(step.context) }
  let chunks = 0
  try {
    switch (step.call) {
      case 'chat': {
        if (body.stream === true) delete body.stream
        return { response: await gw.chat.completions.create(body), chunks }
      }
      case 'chat_stream': {
        const stream = await gw.chat.completions.create({ ...body, stream: true })
        const received = []
        try {
          for await (const chunk of stream) {
            received.push(chunk)
            chunks++
          }
        } catch (e) {
          return { error: e, chunks }
        }
        const response = assemble(received)
        response.switchpoint = stream.switchpoint
        return { response, chunks }
      }
      case 'embed':
        return { response: await gw.embeddings.create(body), chunks }
      case 'usage':
        return { response: gw.usage(usageOptions(step.request)), chunks }
      case 'responses':
        return await runResponses(gw, body)
      default:
        throw new Error(`unknown call ${step.call}`)
    }
  } catch (e) {
    if (!(e instanceof SwitchpointError)) throw e
    return { error: e, chunks }
  }
}

test('the scenario directory is not empty', () => {
  assert.ok(files.length >= 10, `only ${files.length} scenario files`)
})

for (const file of files) {
  test(`scenario ${file}`, async () => {
    const text = fs.readFileSync(path.join(dir, file), 'utf8').replaceAll('${MOCK_URL}', mock.url)
    const scenario = JSON.parse(text)
    const gw = Gateway.fromConfig(scenario.config)
    // Host guardrails, registered as JS functions before the first step.
    for (const hook of scenario.hooks ?? []) gw.addGuardrail(scenarioHook(hook))
    assert.ok(scenario.steps.length > 0)
    for (const [i, step] of scenario.steps.entries()) {
      const label = `step ${i} (${step.name})`
      await mock.clearLog()
      await mock.clearScript()
      if (step.faults) await mock.pushScript(step.faults)
      const outcome = await runStep(gw, step)
      const expect = step.expect
      if (expect.response !== undefined) {
        assert.ok(!outcome.error, `${label}: expected a response, got ${outcome.error?.name}: ${outcome.error?.message}`)
        const m = mismatch(expect.response, outcome.response, 'response')
        assert.equal(m, null, `${label}: ${m}`)
      } else {
        assert.ok(outcome.error, `${label}: expected an error, got ${JSON.stringify(outcome.response)}`)
        const m = mismatch(expect.error, errorObject(outcome.error), 'error')
        assert.equal(m, null, `${label}: ${m} (error was ${outcome.error.name}: ${outcome.error.message})`)
      }
      if (expect.chunks?.min !== undefined) {
        assert.ok(outcome.chunks >= expect.chunks.min, `${label}: expected at least ${expect.chunks.min} chunks, got ${outcome.chunks}`)
      }
      if (expect.events !== undefined) {
        // The listed event types occur in this order (others may come between).
        const types = outcome.events ?? []
        let at = 0
        for (const want of expect.events) {
          while (at < types.length && types[at] !== want) at++
          assert.ok(at < types.length, `${label}: expected event ${want} (in order) among ${types.join(', ')}`)
          at++
        }
      }
      if (expect.upstream !== undefined) {
        const log = await mock.log()
        const m = mismatch(expect.upstream, log[log.length - 1], 'upstream')
        assert.equal(m, null, `${label}: ${m}`)
      }
    }
  })
}
