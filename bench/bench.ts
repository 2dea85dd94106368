// `npm run bench`: start-up and round-trip times of the built CLI beside their floors, all
// measured in one run on this machine so that the ratios compare. `--json` for machine output.
// Not a test: nothing here passes or fails.
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { build } from 'esbuild'
import { generateSecretKey, getPublicKey } from 'nostr-tools/pure'
import { deadRelayUrl, startBlackHole, startRelay, type TestRelay } from '../test/helpers/relay.ts'
import { sendDms } from '../test/helpers/stranger.ts'

const RUNS = Number(process.env.BENCH_RUNS ?? 15)
const root = resolve(import.meta.dirname, '..')
const cli = join(root, 'p2p.js')
const json = process.argv.includes('--json')

function run(args: string[], env: Record<string, string> = {}, stdin?: string): Promise<number> {
  const started = process.hrtime.bigint()
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['pipe', 'ignore', 'inherit'] })
    child.on('error', fail)
    child.on('close', (code) => {
      if (code !== 0) return fail(new Error(`${args.join(' ')} exited ${code}`))
      done(Number(process.hrtime.bigint() - started) / 1e6)
    })
    child.stdin.end(stdin ?? '')
  })
}

function captured(args: string[], env: Record<string, string>): Promise<string> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, args, { env: { ...process.env, ...env } })
    let out = ''
    child.stdout.on('data', (d) => (out += d))
    child.on('error', fail)
    child.on('close', () => done(out))
  })
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length

/** A state file holding `calls` finished calls of `perCall` messages each. */
function bulkyState(home: string, calls: number, perCall: number): void {
  const file = join(home, 'p2p-state.json')
  const state = JSON.parse(readFileSync(file, 'utf8'))
  const peer = getPublicKey(generateSecretKey())
  const at = Math.floor(Date.now() / 1000) - 3600
  for (let c = 0; c < calls; c++) {
    const id = c.toString(16).padStart(10, '0')
    state.calls[id] = {
      id,
      peer,
      topic: `bench call ${c}`,
      direction: 'outgoing',
      state: 'ended',
      createdAt: at,
      updatedAt: at,
      startedAt: at,
      endedAt: at,
      messages: Array.from({ length: perCall }, (_, m) => ({
        id: `${id}-${m}`,
        from: peer,
        at,
        text: `message ${m} of call ${c}, a sentence of ordinary length.`,
      })),
    }
  }
  writeFileSync(file, JSON.stringify(state))
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

  // ---- one relay of three dead, or a black hole ----
  {
    const live2 = urls.slice(0, 2).join(',')
    const two = await measure('p2p status, 2 live relays', [cli, 'status'], { P2P_HOME: home, P2P_RELAYS: live2 })
    rows.push(two)
    const dead = await deadRelayUrl()
    rows.push({
      ...(await measure('p2p status, 2 live + 1 dead (refused)', [cli, 'status'], { P2P_HOME: home, P2P_RELAYS: `${live2},${dead}` })),
      floor: two.name,
    })
    const hole = await startBlackHole()
    rows.push({
      ...(await measure('p2p status, 2 live + 1 black hole', [cli, 'status'], { P2P_HOME: home, P2P_RELAYS: `${live2},${hole.url}` })),
      floor: two.name,
    })
    await hole.stop()
    for (const r of rows.slice(-2)) r.ratio = r.medianMs / two.medianMs
  }

  // ---- calls: latency, throughput, poll cost ----
  const home2 = (name: string) => mkdtempSync(join(tmpdir(), `p2p-bench-${name}-`))
  const pair = async () => {
    const [a, b] = [home2('a'), home2('b')]
    const envA = { P2P_HOME: a, P2P_RELAYS: urls[0] }
    const envB = { P2P_HOME: b, P2P_RELAYS: urls[0] }
    await run([cli, 'status'], envB)
    const npubB = JSON.parse(await captured([cli, 'whoami', '--json'], envB)).npub
    await run([cli, 'call', npubB, 'bench'], envA)
    await run([cli, 'poll'], envB)
    await run([cli, 'answer', 'accept'], envB)
    await run([cli, 'poll'], envA)
    return { envA, envB }
  }
  const { envA, envB } = await pair()
  const latencies: number[] = []
  for (let i = 0; i < Math.min(RUNS, 10); i++) {
    const started = Date.now()
    await run([cli, 'send', `ping ${i}`], envA)
    await run([cli, 'poll'], envB)
    latencies.push(Date.now() - started)
  }
  rows.push({ name: 'send → peer poll prints it (2 processes)', meanMs: mean(latencies), medianMs: median(latencies) })
  for (const mb of [1, 10]) {
    const data = Buffer.alloc(mb * 1024 * 1024 - 1024, 0x5a).toString('base64')
    const sendMs = await run([cli, 'sendfile', `bench-${mb}.bin`, '-'], envA, data)
    const recvMs = await run([cli, 'poll'], envB)
    rows.push({ name: `sendfile ${mb} MB (send; ${(mb / (sendMs / 1000)).toFixed(2)} MB/s)`, meanMs: sendMs, medianMs: sendMs })
    rows.push({ name: `poll receiving ${mb} MB (${(mb / (recvMs / 1000)).toFixed(2)} MB/s)`, meanMs: recvMs, medianMs: recvMs })
  }
  for (const waiting of [0, 100, 1000]) {
    const home = home2(`poll${waiting}`)
    const env = { P2P_HOME: home, P2P_RELAYS: urls[1] }
    await run([cli, 'status'], env)
    const npubHex = JSON.parse(await captured([cli, 'whoami', '--json'], env)).pubkey
    await sendDms(urls[1], npubHex, waiting)
    const first = await run([cli, 'poll'], env)
    rows.push({ name: `poll with ${waiting} waiting events`, meanMs: first, medianMs: first })
  }
  {
    const home = home2('bulky')
    const env = { P2P_HOME: home, P2P_RELAYS: urls[2] }
    await run([cli, 'poll'], env)
    const empty = await measure('poll, nothing new, empty state', [cli, 'poll'], env)
    rows.push(empty)
    bulkyState(home, 1000, 10)
    const bulky = await measure('poll, nothing new, 1,000 calls × 10 messages in state', [cli, 'poll'], env)
    rows.push({ ...bulky, floor: empty.name, ratio: bulky.medianMs / empty.medianMs })
  }

  if (json) {
    console.log(JSON.stringify({ node: process.version, cpus: cpus().length, cpu: cpus()[0]?.model, runs: RUNS, rows }, null, 2))
  } else {
    console.log(`p2p-comm benchmark: node ${process.version}, ${cpus().length} × ${cpus()[0]?.model}, ${RUNS} runs each, loopback relays\n`)
    const lines = rows.map((r) => [r.name, r.meanMs.toFixed(0), r.medianMs.toFixed(0), r.ratio ? `${r.ratio.toFixed(2)}x ${r.floor}` : ''])
    const header = ['what', 'mean ms', 'median ms', 'median vs floor']
    const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)))
    for (const line of [header, ...lines])
      console.log(line.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  '))
  }
} finally {
  await Promise.all(relays.map((r) => r.stop()))
}
