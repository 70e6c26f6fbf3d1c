'use strict'
// A program written for the official `openai` package runs against switchpoint with only its
// import and its constructor changed, and prints exactly what it printed with `openai`.

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { spawn } = require('node:child_process')
const { startMock } = require('./helpers/mock')

const programFile = path.join(__dirname, 'programs', 'openai-program.mjs')
const original = fs.readFileSync(programFile, 'utf8')

const OPENAI_IMPORT = "import OpenAI, { APIError, RateLimitError } from 'openai'"
const OPENAI_CONSTRUCTOR =
  "const client = new OpenAI({ baseURL: `${process.env.MOCK_URL}/v1`, apiKey: 'sk-test-openai', maxRetries: 0 })"
const SWITCHPOINT_IMPORT = "import { Gateway, APIError, RateLimitError } from 'switchpoint'"
const SWITCHPOINT_CONSTRUCTOR =
  "const client = Gateway.fromConfig({ providers: { openai: { kind: 'openai', base_url: `${process.env.MOCK_URL}/v1`, api_key: 'sk-test-openai' } }, models: { 'gpt-4o-mini': { provider: 'openai' }, 'text-embedding-3-small': { provider: 'openai' } } })"

let mock
test.before(async () => {
  mock = await startMock()
})
test.after(() => mock.stop())

/** Runs ES module source (fed on stdin, resolved from the package root) and returns its stdout. */
function runModule(source) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-'], {
      cwd: path.join(__dirname, '..'),
      env: { ...process.env, MOCK_URL: mock.url },
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    let out = ''
    let err = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (err += d))
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`exit ${code}: ${err}`))))
    child.stdin.end(source)
  })
}

test('the openai program, with only its import and constructor changed, prints the same', async () => {
  const lines = original.split('\n')
  assert.equal(lines.filter((l) => l === OPENAI_IMPORT).length, 1, 'the program has one openai import line')
  assert.equal(lines.filter((l) => l === OPENAI_CONSTRUCTOR).length, 1, 'the program has one constructor line')
  const ported = lines.map((l) => (l === OPENAI_IMPORT ? SWITCHPOINT_IMPORT : l === OPENAI_CONSTRUCTOR ? SWITCHPOINT_CONSTRUCTOR : l))
  const changed = ported.filter((l, i) => l !== lines[i])
  assert.deepEqual(changed, [SWITCHPOINT_IMPORT, SWITCHPOINT_CONSTRUCTOR])

  await mock.clearLog()
  const withOpenai = await runModule(original)
  const openaiLog = await mock.log()
  await mock.clearLog()
  await mock.clearScript()
  const withSwitchpoint = await runModule(ported.join('\n'))
  const switchpointLog = await mock.log()

  const printed = JSON.parse(withSwitchpoint)
  assert.deepEqual(printed[0], ['chat', 'assistant', 'Say hello to Node', 'stop', 11])
  assert.deepEqual(printed[1], ['stream', 'stream these five words', 4])
  assert.equal(printed[3][3], 'get_weather')
  assert.deepEqual(printed[7], ['aborted', 'APIUserAbortError'])
  assert.equal(withSwitchpoint, withOpenai)

  // Both clients sent the provider the same requests (bodies may differ only in key order).
  const bodies = (log) => log.map((e) => [e.path, e.stream, e.body.messages?.length ?? e.body.input?.length])
  assert.deepEqual(bodies(switchpointLog), bodies(openaiLog))
  // The early break closed the upstream connection in both runs.
  assert.equal(openaiLog[2].body.messages[0].content, 'one two three four five six seven')
  assert.equal(switchpointLog[2].body.messages[0].content, 'one two three four five six seven')
})
