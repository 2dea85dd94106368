// Messages of history (issue 13): every run reads and rewrites the whole history. The history is
// built the way an agent gets one: a peer calls, the agent answers, the peer's messages arrive
// as gift wraps and a poll takes them in (timed: applying N messages). Then quiet polls, on the
// relay that holds those wraps (N wraps in the window as well) and on the relay the call was set
// up on (history only; the agent still remembers the N wrap ids it saw, as any agent does for
// the two days the wraps stay in the window).
import { wrapRumor } from '../lib/nostr/nip59.ts'
import { buildRumor } from '../lib/nostr/p2p.ts'
import { startRelay, type TestRelay } from '../test/helpers/relay.ts'
import { publishAll } from '../test/helpers/stranger.ts'
import { againstFirst, type BenchAgent, benchAgent, interleaved, type Row, row, UNHURRIED } from './measure.ts'
import { seededDb, wrapSet, writeIdentity } from './wraps.ts'

const n = (count: number) => count.toLocaleString('en-US')

interface HistoryAgent {
  count: number
  relays: TestRelay[]
  /** on the relay the call was set up on */
  agent: BenchAgent
  /** the same home on the relay that holds the peer's messages */
  onHeld: BenchAgent
  /** how long the poll that took the messages in took */
  applyMs: number
}

/** An agent in a call whose peer sent it `count` messages, all taken in. */
async function historyAgent(count: number): Promise<HistoryAgent> {
  const set = await wrapSet(count)
  const relays = await Promise.all([startRelay(), startRelay({ dbFile: seededDb(set) })])
  const [setup, held] = relays
  try {
    const agent = benchAgent([setup.url])
    writeIdentity(agent.home, set.agentSk)
    await agent.p2p('status')
    const at = Math.floor(Date.now() / 1000)
    const request = buildRumor(
      { type: 'call-request', callId: set.callId, topic: 'benchmark history' },
      set.peer,
      set.agent,
      at,
      'bench peer',
    )
    await publishAll(setup.url, [wrapRumor(request, set.peerSk, set.agent)])
    await agent.p2p('poll')
    await agent.p2p('answer', 'accept', '--call', set.callId)
    // the peer's messages, on the other relay: one poll takes them all in (given the time it needs)
    const onHeld = agent.on([held.url])
    const applyMs = await onHeld.p2p('poll', ...UNHURRIED)
    const calls = (await agent.json<{ calls: Array<{ id: string; messages: number }> }>('history')).calls
    const kept = calls.find((c) => c.id === set.callId)?.messages
    if (kept !== count) throw new Error(`the call holds ${kept} messages after the poll, not ${count}`)
    return { count, relays, agent, onHeld, applyMs }
  } catch (err) {
    await Promise.all(relays.map((r) => r.stop()))
    throw err
  }
}

export async function historyRows(sizes: number[]): Promise<Row[]> {
  const agents: HistoryAgent[] = []
  try {
    for (const count of [0, ...sizes]) agents.push(await historyAgent(count))
    const quiet = await interleaved([
      ...agents.map((a) => ({ name: `quiet poll, ${n(a.count)} messages of history, on another relay`, time: () => a.agent.p2p('poll') })),
      ...agents.map((a) => ({
        name: `quiet poll, ${n(a.count)} messages of history, on the relay holding their wraps`,
        time: () => a.onHeld.p2p('poll'),
      })),
    ])
    return [
      ...againstFirst(quiet.slice(0, agents.length)),
      ...againstFirst(quiet.slice(agents.length)),
      ...againstFirst(agents.map((a) => row(`first poll, ${n(a.count)} messages of the call: each fetched, opened, applied`, [a.applyMs]))),
    ]
  } finally {
    await Promise.all(agents.flatMap((a) => a.relays.map((r) => r.stop())))
  }
}
