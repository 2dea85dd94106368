// Round trips per command (issue 25): each command through a latency proxy at DELAY_MS each
// way, beside the same command through the same proxy at 0 ms, in turns; the extra time over
// one round trip (2 x DELAY_MS) is the number of round trips the command stands on. One relay
// in each mode the test relays play: plain, strfry with AUTH (its default config), khatru,
// nostr-rs-relay. Set-up runs go at 0 ms.
import { randomBytes } from 'node:crypto'
import { type PolicyMode, startPolicyRelay } from '../test/helpers/policy-relay.ts'
import { freePort, startRelay } from '../test/helpers/relay.ts'
import { PERMISSIVE_LIMIT } from '../test/helpers/relay-policies.ts'
import { type BenchAgent, benchAgent, cli, type Row, RUNS, row, run, versus } from './measure.ts'
import { type LatencyProxy, startProxy } from './proxy.ts'

export const DELAY_MS = Number(process.env.BENCH_DELAY_MS ?? 100)
/** 'plain' is the default test relay (NIP-01 and NIP-77 as strfry speaks it); the others, its
 *  policy doubles (test/helpers/relay-policies.ts) */
const ALL_MODES: PolicyMode[] = ['plain', 'strfry', 'khatru', 'nostr-rs-relay']
/** BENCH_MODES=strfry,khatru: only these */
const MODES = process.env.BENCH_MODES ? (process.env.BENCH_MODES.split(',') as PolicyMode[]) : ALL_MODES
const FILE = randomBytes(1024 * 1024).toString('base64')

/** A relay of `mode` behind a proxy; the relay knows itself by the proxy's URL (AUTH checks it). */
async function relayBehindProxy(mode: PolicyMode) {
  const port = await freePort()
  const proxy = await startProxy(`ws://127.0.0.1:${port}`)
  const relay =
    mode === 'plain'
      ? await startRelay({ port })
      : await startPolicyRelay({ mode, port, serviceUrl: proxy.url, eventRateLimit: PERMISSIVE_LIMIT, filterRateLimit: PERMISSIVE_LIMIT })
  const stop = async () => {
    await proxy.stop()
    await relay.stop()
  }
  return { proxy, stop }
}

/** The milliseconds `a` takes to run `args`, at `delay` each way. */
async function timed(proxy: LatencyProxy, delay: number, a: BenchAgent, args: string[], stdin?: string): Promise<number> {
  proxy.delayMs = delay
  try {
    return await run([cli, ...args], a.env, stdin)
  } finally {
    proxy.delayMs = 0
  }
}

type Times = Map<string, { near: number[]; far: number[] }>
const add = (times: Times, name: string, delay: number, ms: number) => {
  const t = times.get(name) ?? { near: [], far: [] }
  ;(delay ? t.far : t.near).push(ms)
  times.set(name, t)
}

/** One call from alice to bob, each step that is a command of its own timed at `delay`. */
async function callRound(proxy: LatencyProxy, delay: number, alice: BenchAgent, bob: BenchAgent, bobNpub: string, times: Times) {
  const step = async (name: string, a: BenchAgent, args: string[], stdin?: string) =>
    add(times, name, delay, await timed(proxy, delay, a, args, stdin))
  await step('call', alice, ['call', bobNpub, 'round trips'])
  await bob.p2p('poll')
  await step('answer', bob, ['answer', 'accept'])
  await alice.p2p('poll')
  await step('send', alice, ['send', 'one message'])
  await step('poll with one new message', bob, ['poll'])
  await step('sendfile of 1 MB', bob, ['sendfile', 'data.bin', '-'], FILE)
  await alice.p2p('poll')
  await step('escalate', alice, ['escalate', 'may I?'])
  await step('end', alice, ['end'])
  await bob.p2p('poll')
}

export async function turnRows(runs = Math.min(RUNS, 5)): Promise<Row[]> {
  const rows: Row[] = []
  for (const mode of MODES) {
    const { proxy, stop } = await relayBehindProxy(mode)
    try {
      const [alice, bob, owner] = [benchAgent([proxy.url]), benchAgent([proxy.url]), benchAgent([proxy.url])]
      for (const a of [alice, bob, owner]) await a.p2p('status') // identity, presence and relay lists
      await alice.p2p('config', 'set', 'owner', (await owner.json('whoami')).npub)
      const bobNpub = (await bob.json('whoami')).npub
      const times: Times = new Map()
      for (let i = 0; i < runs; i++) {
        for (const delay of [0, DELAY_MS]) {
          for (const args of [['status'], ['list'], ['poll']]) {
            add(times, args[0] === 'poll' ? 'quiet poll' : args[0], delay, await timed(proxy, delay, alice, args))
          }
          await callRound(proxy, delay, alice, bob, bobNpub, times)
        }
      }
      for (const [name, t] of times) {
        const near = row(`${name}, ${mode}, 0 ms`, t.near)
        const far = versus(row(`${name}, ${mode}, ${DELAY_MS} ms each way`, t.far), near)
        rows.push({ ...far, turns: (far.medianMs - near.medianMs) / (2 * DELAY_MS) })
      }
    } finally {
      await stop()
    }
  }
  return rows
}
