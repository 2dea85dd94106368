// The per-operation rows: start-up and one online round beside their floors (node alone, a bare
// nostr-tools script), dead relays, and a call's latency, throughput and first polls.
import { join } from 'node:path'
import { build } from 'esbuild'
import { deadRelayUrl, startBlackHole } from '../test/helpers/relay.ts'
import { sendDms } from '../test/helpers/stranger.ts'
import { benchAgent, cli, measure, type Row, RUNS, root, row, run, tempDir, versus } from './measure.ts'

export async function startupRows(urls: string[]): Promise<Row[]> {
  const floorScript = join(tempDir('floor'), 'floor.mjs')
  await build({
    entryPoints: [join(root, 'bench/floor.ts')],
    outfile: floorScript,
    bundle: true,
    platform: 'node',
    format: 'esm',
    banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
    logLevel: 'warning',
  })
  const home = tempDir('home')
  const env = (n: number) => ({ P2P_HOME: home, P2P_RELAYS: urls.slice(0, n).join(',') })
  await run([cli, 'status'], env(3)) // first run: identity, presence and relay lists published

  const rows: Row[] = []
  const nodeFloor = await measure('node -e 0', ['-e', '0'])
  rows.push(nodeFloor)
  rows.push(versus(await measure('p2p --help', [cli, '--help']), nodeFloor))
  rows.push(versus(await measure('p2p whoami', [cli, 'whoami'], env(1)), nodeFloor))
  for (const n of [1, 3]) {
    const floor = await measure(`bare nostr-tools, ${n} relay${n > 1 ? 's' : ''}`, [floorScript, ...urls.slice(0, n)])
    rows.push(floor)
    rows.push(versus(await measure(`p2p status, ${n} relay${n > 1 ? 's' : ''}`, [cli, 'status'], env(n)), floor))
  }

  // one relay of three dead, or a black hole
  const live2 = urls.slice(0, 2).join(',')
  const two = await measure('p2p status, 2 live relays', [cli, 'status'], { P2P_HOME: home, P2P_RELAYS: live2 })
  rows.push(two)
  const dead = await deadRelayUrl()
  rows.push(
    versus(
      await measure('p2p status, 2 live + 1 dead (refused)', [cli, 'status'], { P2P_HOME: home, P2P_RELAYS: `${live2},${dead}` }),
      two,
    ),
  )
  const hole = await startBlackHole()
  try {
    rows.push(
      versus(
        await measure('p2p status, 2 live + 1 black hole', [cli, 'status'], { P2P_HOME: home, P2P_RELAYS: `${live2},${hole.url}` }),
        two,
      ),
    )
  } finally {
    await hole.stop()
  }
  return rows
}

export async function callRows(urls: string[]): Promise<Row[]> {
  const rows: Row[] = []
  const a = benchAgent([urls[0]], tempDir('a'))
  const b = benchAgent([urls[0]], tempDir('b'))
  await b.p2p('status')
  await a.p2p('call', (await b.json('whoami')).npub, 'bench')
  await b.p2p('poll')
  await b.p2p('answer', 'accept')
  await a.p2p('poll')
  const latencies: number[] = []
  for (let i = 0; i < Math.min(RUNS, 10); i++) {
    const started = Date.now()
    await a.p2p('send', `ping ${i}`)
    await b.p2p('poll')
    latencies.push(Date.now() - started)
  }
  rows.push(row('send → peer poll prints it (2 processes)', latencies))
  for (const mb of [1, 10]) {
    const data = Buffer.alloc(mb * 1024 * 1024 - 1024, 0x5a).toString('base64')
    const sendMs = await run([cli, 'sendfile', `bench-${mb}.bin`, '-'], a.env, data)
    const recvMs = await b.p2p('poll')
    rows.push(row(`sendfile ${mb} MB (send; ${(mb / (sendMs / 1000)).toFixed(2)} MB/s)`, [sendMs]))
    rows.push(row(`poll receiving ${mb} MB (${(mb / (recvMs / 1000)).toFixed(2)} MB/s)`, [recvMs]))
  }
  for (const waiting of [0, 100, 1000]) {
    const agent = benchAgent([urls[1]], tempDir(`poll${waiting}`))
    await agent.p2p('status')
    const pubkey = (await agent.json('whoami')).pubkey
    // in batches: each has 30 s to be taken, which 1,000 at once can miss on a busy machine
    for (let sent = 0; sent < waiting; sent += 100) await sendDms(urls[1], pubkey, Math.min(100, waiting - sent))
    rows.push(row(`poll with ${waiting} waiting events`, [await agent.p2p('poll')]))
  }
  return rows
}
