// `npm run bench`: start-up and round-trip times of the built CLI beside their floors, all
// measured in one run on this machine so that the ratios compare. `--json` for machine output.
// Not a test: nothing here passes or fails.
import { spawn } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir, cpus } from 'node:os'
import { join, resolve } from 'node:path'
import { build } from 'esbuild'
import { startRelay, type TestRelay } from '../test/helpers/relay.ts'

const RUNS = Number(process.env.BENCH_RUNS ?? 15)
const root = resolve(import.meta.dirname, '..')
const cli = join(root, 'p2p.js')
const json = process.argv.includes('--json')

function run(args: string[], env: Record<string, string> = {}): Promise<number> {
  const started = process.hrtime.bigint()
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'] })
    child.on('error', fail)
    child.on('close', (code) => {
      if (code !== 0) return fail(new Error(`${args.join(' ')} exited ${code}`))
      done(Number(process.hrtime.bigint() - started) / 1e6)
    })
  })
}

interface Row {
  name: string
  meanMs: number
  medianMs: number
  floor?: string
  ratio?: number
}

async function measure(name: string, args: string[], env?: Record<string, string>): Promise<Row> {
  await run(args, env) // warm the file cache
  const times: number[] = []
  for (let i = 0; i < RUNS; i++) times.push(await run(args, env))
  times.sort((a, b) => a - b)
  return { name, meanMs: times.reduce((a, b) => a + b, 0) / times.length, medianMs: times[Math.floor(times.length / 2)] }
}

const relays: TestRelay[] = await Promise.all([startRelay(), startRelay(), startRelay()])
try {
  const floorScript = join(mkdtempSync(join(tmpdir(), 'p2p-bench-')), 'floor.mjs')
  await build({
    entryPoints: [join(root, 'bench/floor.ts')],
    outfile: floorScript,
    bundle: true,
    platform: 'node',
    format: 'esm',
    banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
    logLevel: 'warning',
  })
  const home = mkdtempSync(join(tmpdir(), 'p2p-bench-home-'))
  const urls = relays.map((r) => r.url)
  const env = (n: number) => ({ P2P_HOME: home, P2P_RELAYS: urls.slice(0, n).join(',') })
  await run([cli, 'status'], env(3)) // first run: identity, presence and relay lists published

  const rows: Row[] = []
  const add = (row: Row, floor?: Row) => rows.push(floor ? { ...row, floor: floor.name, ratio: row.medianMs / floor.medianMs } : row)
  const nodeFloor = await measure('node -e 0', ['-e', '0'])
  add(nodeFloor)
  add(await measure('p2p --help', [cli, '--help']), nodeFloor)
  add(await measure('p2p whoami', [cli, 'whoami'], env(1)), nodeFloor)
  for (const n of [1, 3]) {
    const floor = await measure(`bare nostr-tools, ${n} relay${n > 1 ? 's' : ''}`, [floorScript, ...urls.slice(0, n)])
    add(floor)
    add(await measure(`p2p status, ${n} relay${n > 1 ? 's' : ''}`, [cli, 'status'], env(n)), floor)
  }

  if (json) {
    console.log(JSON.stringify({ node: process.version, cpus: cpus().length, cpu: cpus()[0]?.model, runs: RUNS, rows }, null, 2))
  } else {
    console.log(`p2p-comm benchmark: node ${process.version}, ${cpus().length} × ${cpus()[0]?.model}, ${RUNS} runs each, loopback relays\n`)
    const lines = rows.map((r) => [r.name, r.meanMs.toFixed(0), r.medianMs.toFixed(0), r.ratio ? `${r.ratio.toFixed(2)}x ${r.floor}` : ''])
    const header = ['what', 'mean ms', 'median ms', 'median vs floor']
    const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)))
    for (const line of [header, ...lines]) console.log(line.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  '))
  }
} finally {
  await Promise.all(relays.map((r) => r.stop()))
}
