// A specialist's day (issue 26, point 5): the quiet `poll` of an agent holding 20 active calls
// with 1,000 finished calls of 10 messages each in its history, against the same agent's poll
// with one active call, in turns on one relay. The calls are written into each agent's state
// through the store (as its runs would leave them), not made call by call: 1,000 calls through
// the CLI would take an hour.
import { randomBytes } from 'node:crypto'
import { getPublicKey } from 'nostr-tools/pure'
import { addEntry } from '../lib/calls/transcript.ts'
import { MAX_CALLS, MAX_FINISHED_CALLS } from '../lib/limits.ts'
import { homePaths } from '../lib/store/home.ts'
import type { CallRecord } from '../lib/store/schema.ts'
import { StateStore } from '../lib/store/state.ts'
import { startRelay } from '../test/helpers/relay.ts'
import { againstFirst, type BenchAgent, benchAgent, interleaved, type Row } from './measure.ts'

const MESSAGES_PER_CALL = 10

const peer = () => getPublicKey(randomBytes(32))
const callId = () => randomBytes(5).toString('hex')

/** A call with a peer of its own, active or ended an hour ago with MESSAGES_PER_CALL messages. */
function callOf(active: boolean, now: number): CallRecord {
  const at = active ? now : now - 3_600
  return {
    id: callId(),
    peer: peer(),
    topic: 'rates',
    direction: 'incoming',
    state: active ? 'active' : 'ended',
    createdAt: at,
    updatedAt: at,
    startedAt: at,
    ...(active ? {} : { endedAt: at + 60 }),
    messageCount: 0,
  }
}

/** An agent on `url` with `active` calls going on and `finished` ones in its history. */
async function desk(url: string, active: number, finished: number): Promise<BenchAgent> {
  const agent = benchAgent([url])
  for (const args of [['config', 'set', 'maxCalls', String(MAX_CALLS)], ['config', 'set', 'indexers', 'none'], ['status']])
    await agent.p2p(...args)
  const me = (await agent.json<{ pubkey: string }>('whoami')).pubkey
  const store = new StateStore(homePaths({ P2P_HOME: agent.home }), () => {})
  const now = Math.floor(Date.now() / 1000)
  await store.update((s) => {
    for (let i = 0; i < active + finished; i++) {
      const call = callOf(i < active, now)
      s.calls[call.id] = call
      if (i < active) continue
      for (let m = 0; m < MESSAGES_PER_CALL; m++) {
        const from = m % 2 ? call.peer : me
        addEntry(s, call, { id: randomBytes(32).toString('hex'), from, at: call.createdAt + m, text: `message ${m}` }, now)
      }
    }
  })
  await agent.p2p('poll')
  return agent
}

export async function specialistRows(): Promise<Row[]> {
  const relay = await startRelay()
  try {
    const one = await desk(relay.url, 1, 0)
    const busy = await desk(relay.url, MAX_CALLS, MAX_FINISHED_CALLS)
    const rows = await interleaved([
      { name: 'quiet `poll`, 1 active call', time: () => one.p2p('poll') },
      {
        name: `quiet \`poll\`, ${MAX_CALLS} active calls and ${MAX_FINISHED_CALLS.toLocaleString('en-US')} finished (${MESSAGES_PER_CALL} messages each)`,
        time: () => busy.p2p('poll'),
      },
    ])
    return againstFirst(rows)
  } finally {
    await relay.stop()
  }
}
