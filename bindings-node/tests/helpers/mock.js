'use strict'
// Starts the mock provider binary (tests/mock-provider) for one test file and talks to its
// control endpoints. The mock exits when its stdin closes, so a crashed test run takes it along.

const { spawn } = require('node:child_process')
const path = require('node:path')
const fs = require('node:fs')
const readline = require('node:readline')

const repoRoot = path.resolve(__dirname, '..', '..', '..')

/** Where `cargo build -p mock-provider` put the binary. */
function mockBinary() {
  if (process.env.MOCK_PROVIDER_BIN) return process.env.MOCK_PROVIDER_BIN
  const target = process.env.CARGO_TARGET_DIR || path.join(repoRoot, 'target')
  const bin = path.join(path.resolve(repoRoot, target), 'debug', 'mock-provider')
  if (!fs.existsSync(bin)) {
    throw new Error(`mock provider not built at ${bin}: run \`cargo build -p mock-provider\``)
  }
  return bin
}

/** A running mock provider: `url`, control helpers and `stop()`. */
async function startMock() {
  const child = spawn(mockBinary(), ['--port', '0', '--exit-on-stdin-eof'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  })
  const lines = readline.createInterface({ input: child.stdout })
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('mock provider did not start in 10 s')), 10_000)
    child.once('error', reject)
    child.once('exit', (code) => reject(new Error(`mock provider exited with ${code}`)))
    lines.once('line', (line) => {
      clearTimeout(timer)
      const m = /listening on (http:\/\/\S+)/.exec(line)
      if (m) resolve(m[1])
      else reject(new Error(`unexpected mock output: ${line}`))
    })
  })
  child.removeAllListeners('exit')
  const control = async (method, route, body) => {
    const res = await fetch(url + route, {
      method,
      headers: body === undefined ? undefined : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    if (!res.ok) throw new Error(`${method} ${route}: ${res.status} ${await res.text()}`)
    return res.status === 204 ? null : res.json()
  }
  return {
    url,
    clearLog: () => control('DELETE', '/_mock/log'),
    clearScript: () => control('DELETE', '/_mock/script'),
    pushScript: (faults) => control('POST', '/_mock/script', faults),
    log: () => control('GET', '/_mock/log'),
    /** Polls the log until `pred(log)` holds (the end of a response is logged asynchronously). */
    async waitForLog(pred, timeoutMs = 3000) {
      const until = Date.now() + timeoutMs
      for (;;) {
        const log = await control('GET', '/_mock/log')
        if (pred(log) || Date.now() > until) return log
        await new Promise((r) => setTimeout(r, 20))
      }
    },
    stop() {
      lines.close()
      child.stdin.end()
      return new Promise((resolve) => {
        if (child.exitCode !== null) resolve()
        else child.once('exit', () => resolve())
      })
    },
  }
}

/** A config with one provider per wire format, all pointing at the mock. */
function mockConfig(url, extraModels = {}) {
  return {
    providers: {
      oai: { kind: 'openai', base_url: `${url}/v1`, api_key: 'sk-test-openai' },
      claude: { kind: 'anthropic', base_url: url, api_key: 'sk-ant-test' },
      gem: { kind: 'gemini', base_url: url, api_key: 'gm-test' },
      az: { kind: 'azure_openai', base_url: url, api_key: 'az-test', api_version: '2024-10-21' },
      oai_badkey: { kind: 'openai', base_url: `${url}/v1`, api_key: 'bad-key' },
    },
    models: {
      gpt: { provider: 'oai', model: 'gpt-4o-mini' },
      sonnet: { provider: 'claude', model: 'claude-sonnet-4-5' },
      flash: { provider: 'gem', model: 'gemini-2.5-flash' },
      'azure-gpt': { provider: 'az', model: 'gpt4o-deploy' },
      'embed-small': { provider: 'oai', model: 'text-embedding-3-small' },
      locked: { provider: 'oai_badkey', model: 'gpt-4o-mini' },
      ...extraModels,
    },
    defaults: { timeouts: { total: 10 } },
  }
}

module.exports = { startMock, mockConfig, repoRoot }
