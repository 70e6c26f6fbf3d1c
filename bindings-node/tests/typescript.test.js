'use strict'
// `tsc --strict --noEmit` passes on an example that uses every public name (tsconfig.json),
// and index.d.ts declares exactly what index.js exports.

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { execFile } = require('node:child_process')

const root = path.join(__dirname, '..')

const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc')

function runTsc(args) {
  return new Promise((resolve) => {
    execFile(process.execPath, [tsc, ...args], { cwd: root }, (err, stdout, stderr) =>
      resolve({ code: err ? err.code : 0, out: stdout + stderr }),
    )
  })
}

test('tsc --strict --noEmit passes on examples/every-name.ts, observability.ts, responses.ts and policy.ts', { timeout: 120_000 }, async () => {
  const result = await runTsc(['-p', 'tsconfig.json', '--strict', '--noEmit'])
  assert.equal(result.code, 0, result.out)
})

test('tsc rejects misuse of the cache, usage and record types', { timeout: 120_000 }, async () => {
  // Each line must fail to compile, with the error on that line.
  const bad = [
    `gw.chat.completions.create({ model: 'm', messages: [], cache: { no_read: true } })`,
    `gw.chat.completions.create({ model: 'm', messages: [], cache: { ttl: '60' } })`,
    `gw.usage({ groupBy: 'weekday' })`,
    `gw.usage({ since: '2024-01-01' })`,
    `gw.onRecord((r) => r.error_kind)`,
    `const n: number = gw.usage()[0]!.cost_usd`,
    `const b: boolean = gw.flushTelemetry()`,
    `gw.responses.create({ model: 'm', input: 'x', max_output_token: 5 })`,
    `gw.responses.create({ model: 'm', input: 'x' }).then((r) => r.output_txt)`,
    `gw.keys.create({ name: 'n', limits: { rps: 5 } })`,
    `gw.keys.update('key-1', { key: 'sk-new-value-000000000000' })`,
    `gw.keys.list().then((ks) => ks[0]!.key)`,
    `gw.keys.revoke('key-1', { actor: 7 })`,
    `gw.audit('yesterday')`,
    `gw.reload({ limits: [{ scope: 'planet', rpm: 1 }] })`,
    `gw.addGuardrail((e) => ({ action: 'block' }))`,
    `gw.addGuardrail((e) => e.prompt)`,
    `gw.addGuardrail(async (e) => ({ action: 'rewrite', content: 5 }))`,
    `gw.reload({ guardrails: { pii: { kinds: ['ssn'] } } })`,
  ]
  const file = path.join(root, 'examples', `.misuse-${process.pid}.ts`)
  const lines = [`import { Gateway } from 'switchpoint'`, `const gw = new Gateway()`, ...bad]
  fs.writeFileSync(file, lines.join('\n') + '\n')
  try {
    const result = await runTsc([
      '--strict', '--noEmit', '--target', 'es2022', '--module', 'nodenext', '--moduleResolution', 'nodenext',
      '--types', 'node', '--exactOptionalPropertyTypes', file,
    ])
    assert.notEqual(result.code, 0)
    const failing = new Set([...result.out.matchAll(/\.ts\((\d+),\d+\): error/g)].map((m) => Number(m[1])))
    for (let i = 0; i < bad.length; i++) {
      assert.ok(failing.has(i + 3), `tsc accepted: ${bad[i]}\n${result.out}`)
    }
    assert.equal(failing.size, bad.length, result.out)
  } finally {
    fs.rmSync(file, { force: true })
  }
})

test('index.d.ts declares every runtime export, and the example imports every one', () => {
  const dts = fs.readFileSync(path.join(root, 'index.d.ts'), 'utf8')
  const example = fs.readFileSync(path.join(root, 'examples', 'every-name.ts'), 'utf8')
  const examples = ['observability.ts', 'responses.ts', 'policy.ts'].reduce(
    (text, name) => text + fs.readFileSync(path.join(root, 'examples', name), 'utf8'),
    example,
  )
  const runtime = Object.keys(require('..')).filter((name) => !name.startsWith('__'))
  assert.equal(runtime.length, 27)
  for (const name of runtime) {
    const declared =
      new RegExp(`export declare class ${name}\\b`).test(dts) || new RegExp(`export \\{ \\w+ as ${name} \\}`).test(dts)
    assert.ok(declared, `${name} is exported by index.js but not declared in index.d.ts`)
    assert.ok(new RegExp(`\\b${name},`).test(example), `${name} is not used by examples/every-name.ts`)
  }
  // Every exported type is used by an example too.
  for (const [, name] of dts.matchAll(/^export (?:interface|type) (\w+)/gm)) {
    assert.ok(new RegExp(`\\b${name}\\b`).test(examples), `type ${name} is not used by examples/*.ts`)
  }
  assert.doesNotMatch(dts, /\bany\b/, 'index.d.ts must not use `any`')
})
