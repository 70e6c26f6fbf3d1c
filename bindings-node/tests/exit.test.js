'use strict'
// A script that creates a gateway, makes calls and finishes its work exits by itself, within
// a second of its last await: no handle of the binding keeps node's event loop alive.

const test = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const { spawn } = require('node:child_process')
const { startMock } = require('./helpers/mock')

let mock
test.before(async () => {
  mock = await startMock()
})
test.after(() => mock.stop())

test('a child process exits within a second of its last await, with an onRecord callback and a guardrail registered', async () => {
  const child = spawn(process.execPath, [path.join(__dirname, 'programs', 'exits-by-itself.js')], {
    env: { ...process.env, MOCK_URL: mock.url },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  let out = ''
  child.stdout.on('data', (d) => (out += d))
  const killer = setTimeout(() => child.kill('SIGKILL'), 20_000)
  const [code, signal] = await new Promise((resolve) => child.on('exit', (c, s) => resolve([c, s])))
  const exitedAt = Date.now()
  clearTimeout(killer)
  assert.equal(signal, null, 'the child had to be killed: something kept it alive')
  assert.equal(code, 0)
  const m = /done (\d+) records (\d+) checks (\d+)/.exec(out)
  assert.ok(m, `no completion line in ${JSON.stringify(out)}`)
  const lag = exitedAt - Number(m[1])
  assert.ok(lag < 1000, `exited ${lag} ms after its last await`)
  // The callback was live: it had the records of at least the 20 parallel calls.
  assert.ok(Number(m[2]) >= 20, `only ${m[2]} records reached the callback`)
  // The guardrail was live: it saw the input and the answer of each of those 20 calls.
  assert.ok(Number(m[3]) >= 40, `the guardrail was called only ${m[3]} times`)
})
