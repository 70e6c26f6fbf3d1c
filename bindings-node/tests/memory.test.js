'use strict'
// 100,000 calls (chat, streams, early breaks, embeddings and errors mixed) grow the process's
// RSS by less than 20 MiB after warm-up: nothing per call is leaked on either side.
//
// The calls run in a child process (tests/programs/soak.js) whose V8 young generation is
// fixed at its default maximum (16 MiB semi-spaces) from the start: otherwise V8 grows it by
// ~17 MiB at a moment of its choosing, sometimes during the measurement, which is V8 sizing
// its heap rather than anything the binding holds.

const test = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const { execFile } = require('node:child_process')
const { startMock } = require('./helpers/mock')

let mock
test.before(async () => {
  mock = await startMock()
})
test.after(() => mock.stop())

const mib = (bytes) => (bytes / 2 ** 20).toFixed(1)

test('100,000 calls grow RSS by less than 20 MiB', { timeout: 600_000 }, async () => {
  const args = ['--expose-gc', '--min-semi-space-size=16', '--max-semi-space-size=16', path.join(__dirname, 'programs', 'soak.js')]
  const out = await new Promise((resolve, reject) =>
    execFile(process.execPath, args, { env: { ...process.env, MOCK_URL: mock.url }, maxBuffer: 1 << 20 }, (err, stdout, stderr) =>
      err ? reject(new Error(`soak failed: ${err.message}\n${stderr}`)) : resolve(stdout),
    ),
  )
  const { before, after, secs } = JSON.parse(out.trim().split('\n').pop())
  const growthMiB = (after.rss - before.rss) / 2 ** 20
  console.log(
    `# 100,000 calls in ${secs.toFixed(1)} s; RSS ${mib(before.rss)} -> ${mib(after.rss)} MiB ` +
      `(growth ${growthMiB.toFixed(2)} MiB; V8 heap total ${mib(before.heapTotal)} -> ${mib(after.heapTotal)}, ` +
      `used ${mib(before.heapUsed)} -> ${mib(after.heapUsed)})`,
  )
  assert.ok(growthMiB < 20, `RSS grew by ${growthMiB.toFixed(2)} MiB`)
})
