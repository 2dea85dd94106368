// Gift wraps in the 2-day window (issue 13): every sync reads the whole window again. An agent
// whose relay holds N wraps it has already opened polls with nothing new; then the latency of
// `send` → an already-waiting `poll --wait` with such a window. The wraps are messages of a call
// this agent never took: each is fetched, opened, checked and dropped, so they add no history
// (history.ts measures that).
import { spawn } from 'node:child_process'
import { performance } from 'node:perf_hooks'
import { startRelay, type TestRelay } from '../test/helpers/relay.ts'
import {
  againstFirst,
  type BenchAgent,
  benchAgent,
  type Case,
  captured,
  cli,
  interleaved,
  type Row,
  RUNS,
  row,
  sleep,
  UNHURRIED,
} from './measure.ts'
import { seededDb, wrapSet, writeIdentity } from './wraps.ts'

export interface WindowAgent {
  count: number
  relay: TestRelay
  agent: BenchAgent
  /** how long its first poll took: every wrap fetched, opened and dropped */
  firstMs: number
}

const inWindow = (count: number) => (count ? `${count.toLocaleString('en-US')} wraps in the window` : 'empty window')

/** An agent whose one relay holds `count` wraps for it, every one of them opened already. */
export async function windowAgent(count: number): Promise<WindowAgent> {
  const set = await wrapSet(count)
  const relay = await startRelay({ dbFile: seededDb(set) })
  try {
    const agent = benchAgent([relay.url])
    writeIdentity(agent.home, set.agentSk)
    // the first run is given all the time it needs to open every wrap (and is timed) ...
    const firstMs = await agent.p2p('poll', ...UNHURRIED)
    // ... and the next one, as patient, must find nothing new: then the timed polls find nothing new either
    const next = newWraps((await captured([cli, 'poll', '--verbose', ...UNHURRIED], agent.env)).stderr)
    if (next === undefined) process.stderr.write('bench: no "sync:" line in --verbose: cannot check that every wrap was opened\n')
    else if (next > 0) throw new Error(`the second poll still found ${next} of ${count} gift wraps new`)
    return { count, relay, agent, firstMs }
  } catch (err) {
    await relay.stop()
    throw err
  }
}

/** The gift wraps a run's syncs found new (not seen before), from their --verbose "sync:" lines. */
function newWraps(stderr: string): number | undefined {
  const counts = [...stderr.matchAll(/sync: .*?(\d+) gift wraps/g)].map((m) => Number(m[1]))
  return counts.length ? counts.reduce((a, b) => a + b, 0) : undefined
}

export async function windowRows(agents: WindowAgent[]): Promise<Row[]> {
  const cases = agents.map(({ count, agent }) => ({
    name: `quiet poll, ${inWindow(count)}${count ? ' (all seen)' : ''}`,
    time: () => agent.p2p('poll'),
  }))
  const first = agents.map(({ count, firstMs }) => row(`first poll, ${inWindow(count)}: each fetched, opened, dropped`, [firstMs]))
  return [...againstFirst(await interleaved(cases)), ...againstFirst(first)]
}

/** `send` from a peer → the agent's already-waiting `poll --wait` printing it: an empty window,
 *  then each other window agent's. */
export async function latencyRows(agents: WindowAgent[]): Promise<Row[]> {
  const cases: Case[] = []
  for (const { count, relay, agent } of agents) {
    const peer = benchAgent([relay.url])
    await peer.p2p('status')
    await peer.p2p('call', (await agent.json('whoami')).npub, 'latency')
    // set-up runs get all the time they need: with a full window a run may stop at its deadline
    // before it reads the request (NIP-59 dates it anywhere in the last two days)
    await agent.p2p('poll', ...UNHURRIED)
    await agent.p2p('answer', 'accept', ...UNHURRIED)
    await peer.p2p('poll', ...UNHURRIED)
    // the waiting poll's first sync must be over before the send: give it twice a quiet poll
    const quiet = await agent.measure('quiet', ['poll'], 3)
    const settleMs = 2 * quiet.medianMs + 1_000
    let i = 0
    cases.push({
      name: `send → already-waiting poll --wait prints it, ${inWindow(count)}`,
      time: () => waitingLatency(agent, peer, `ping ${i++}`, settleMs),
    })
  }
  return againstFirst(await interleaved(cases, Math.min(RUNS, 10), false))
}

/** Starts `poll --wait` for `waiting`, lets its first sync finish, then times `send` by `sender`
 *  until the waiting poll prints the message. */
async function waitingLatency(waiting: BenchAgent, sender: BenchAgent, text: string, settleMs: number): Promise<number> {
  const child = spawn(process.execPath, [cli, 'poll', '--wait', '120'], {
    env: { ...process.env, ...waiting.env },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  let out = ''
  const exited = new Promise<number | null>((done) => child.on('close', done))
  const printed = new Promise<number>((done, fail) => {
    child.stdout.on('data', (d) => {
      out += d
      if (out.includes(text)) done(performance.now())
    })
    exited.then((code) => fail(new Error(`poll --wait exited ${code} without printing "${text}": ${out}`)))
  })
  printed.catch(() => {}) // awaited below; an early exit must not count as unhandled meanwhile
  await sleep(settleMs)
  if (out) throw new Error(`poll --wait printed before anything was sent: ${out}`)
  const sentAt = performance.now()
  await sender.p2p('send', text)
  const at = await printed
  await exited
  return at - sentAt
}
