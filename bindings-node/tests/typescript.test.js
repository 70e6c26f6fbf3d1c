'use strict'
// `tsc --strict --noEmit` passes on an example that uses every public name (tsconfig.json),
// and index.d.ts declares exactly what index.js exports.

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { execFile } = require('node:child_process')

const root = path.join(__dirname, '..')

test('tsc --strict --noEmit passes on examples/every-name.ts', { timeout: 120_000 }, async () => {
  const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc')
  const result = await new Promise((resolve) => {
    execFile(process.execPath, [tsc, '-p', 'tsconfig.json', '--strict', '--noEmit'], { cwd: root }, (err, stdout, stderr) =>
      resolve({ code: err ? err.code : 0, out: stdout + stderr }),
    )
  })
  assert.equal(result.code, 0, result.out)
})

test('index.d.ts declares every runtime export, and the example imports every one', () => {
  const dts = fs.readFileSync(path.join(root, 'index.d.ts'), 'utf8')
  const example = fs.readFileSync(path.join(root, 'examples', 'every-name.ts'), 'utf8')
  const runtime = Object.keys(require('..')).filter((name) => !name.startsWith('__'))
  assert.equal(runtime.length, 24)
  for (const name of runtime) {
    const declared =
      new RegExp(`export declare class ${name}\\b`).test(dts) || new RegExp(`export \\{ \\w+ as ${name} \\}`).test(dts)
    assert.ok(declared, `${name} is exported by index.js but not declared in index.d.ts`)
    assert.ok(new RegExp(`\\b${name},`).test(example), `${name} is not used by examples/every-name.ts`)
  }
  // Every exported type is used by the example too.
  for (const [, name] of dts.matchAll(/^export (?:interface|type) (\w+)/gm)) {
    assert.ok(new RegExp(`\\b${name}\\b`).test(example), `type ${name} is not used by examples/every-name.ts`)
  }
  assert.doesNotMatch(dts, /\bany\b/, 'index.d.ts must not use `any`')
})
