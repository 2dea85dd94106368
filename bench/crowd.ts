// Discovery in a crowd (issue 26, point 7): the commands that find agents, against an empty relay
// and against one holding a crowd of announcements (100,000; 10,000 with BENCH_SIZES=small), in
// turns, with the bytes the relay sent for each run (median). Both relays are the strfry double
// (500 events an answer, DMs read behind AUTH). A specialist `fx-desk` announced on
// both. The crowd is signed for real at the start (its dates must fall in the online window), each
// announcement by a key of its own, valid for an hour; the callers' online window is 30 min so
// that the whole crowd stays online while the rows run.
import { type Event, generateSecretKey } from 'nostr-tools/pure'
import { presenceEvent } from '../lib/nostr/presence.ts'
import { signerFor } from '../lib/nostr/schnorr.ts'
import { type PolicyRelay, startPolicyRelay } from '../test/helpers/policy-relay.ts'
import { freePort, type TestRelay } from '../test/helpers/relay.ts'
import { PERMISSIVE_LIMIT } from '../test/helpers/relay-policies.ts'
import { againstFirst, type BenchAgent, benchAgent, cli, interleaved, median, type Row, run } from './measure.ts'

const log = (line: string) => process.stderr.write(`bench: ${line}\n`)
const CALLER_WINDOW_S = 1_800
const CROWD_VALID_S = 3_600

/** `count` announcements of as many keys, dated over the last 2 minutes, valid for an hour. */
async function crowd(count: number): Promise<Event[]> {
  const started = Date.now()
  const sign = await signerFor()
  const now = Math.floor(Date.now() / 1000)
  const events = Array.from({ length: count }, (_, i) => {
    const p = { agentId: `agent-${i}`, name: `agent-${i}`, about: 'general help', relays: [], version: '0.1.0', capabilities: ['chat'] }
    const template = presenceEvent(p, now - (i % 120))
    template.tags = template.tags.map((t) => (t[0] === 'expiration' ? ['expiration', String(now + CROWD_VALID_S)] : t))
    return sign(template, generateSecretKey())
  })
  log(`signed ${count} announcements in ${((Date.now() - started) / 1000).toFixed(0)} s`)
  return events
}

/** The strfry double (500 events an answer, DMs behind AUTH), as deployed. */
async function strfry(): Promise<PolicyRelay> {
  const port = await freePort()
  return startPolicyRelay({
    mode: 'strfry',
    port,
    serviceUrl: `ws://127.0.0.1:${port}`,
    eventRateLimit: PERMISSIVE_LIMIT,
    filterRateLimit: PERMISSIVE_LIMIT,
  })
}

interface Side {
  label: string
  relay: TestRelay
  caller: BenchAgent
}

/** A caller and the specialist on `relay`; the caller has seen the crowd once (`status`). */
async function side(label: string, relay: TestRelay): Promise<Side> {
  const desk = benchAgent([relay.url])
  for (const args of [['config', 'set', 'name', 'fx-desk'], ['config', 'set', 'capabilities', 'fx-rates, currency'], ['status']])
    await desk.p2p(...args)
  const caller = benchAgent([relay.url])
  // no indexers: unreachable here, they would add their connect timeout to a loaded run's lookup
  for (const args of [
    ['config', 'set', 'name', 'buyer'],
    ['config', 'set', 'onlineWindow', String(CALLER_WINDOW_S)],
    ['config', 'set', 'indexers', 'none'],
    ['status'],
  ])
    await caller.p2p(...args)
  return { label, relay, caller }
}

/** One row per side: the run's time, and the bytes the relay sent during it in the name. */
async function rowsOf(what: string, sides: Side[], args: string[], after?: (s: Side) => Promise<unknown>): Promise<Row[]> {
  const bytes = sides.map((): number[] => [])
  const cases = sides.map((s, k) => ({
    name: `${what}, ${s.label}`,
    time: async () => {
      const before = s.relay.traffic.bytes
      const ms = await run([cli, ...args], s.caller.env)
      bytes[k].push(s.relay.traffic.bytes - before)
      await after?.(s)
      return ms
    },
  }))
  const rows = await interleaved(cases)
  return againstFirst(rows.map((r, k) => ({ ...r, name: `${r.name} (relay sent ${(median(bytes[k]) / 1024).toFixed(1)} KiB)` })))
}

export async function crowdRows(count: number): Promise<Row[]> {
  const empty = await strfry()
  const crowded = await strfry()
  await crowded.seed(await crowd(count))
  try {
    const sides = [await side('empty relay', empty), await side(`${count.toLocaleString('en-US')} announced`, crowded)]
    return [
      ...(await rowsOf('`list --find fx-rates`', sides, ['list', '--find', 'fx-rates'])),
      // the call is cancelled after each run (untimed), so that the next one may call again
      ...(await rowsOf('`call fx-desk`', sides, ['call', 'fx-desk', 'rates'], (s) => run([cli, 'end'], s.caller.env))),
      ...(await rowsOf('`list` (50 shown)', sides, ['list'])),
      ...(await rowsOf('quiet `poll`', sides, ['poll'])),
    ]
  } finally {
    await empty.stop()
    await crowded.stop()
  }
}
