// Messages of history (issue 13): every run reads and rewrites the whole history. The history is
// built the way an agent gets one: a peer calls, the agent answers, the peer's messages arrive
// as gift wraps and a poll takes them in (timed: applying N messages). Then quiet polls, on the
// relay that holds those wraps (N wraps in the window as well) and on the relay the call was set
// up on (history only; the agent still remembers the N wrap ids it saw, as any agent does for
// the two days the wraps stay in the window).
import { wrapRumor } from '../lib/nostr/nip59.ts'
import { buildRumor } from '../lib/nostr/p2p.ts'
import { startRelay } from '../test/helpers/relay.ts'
import { publishAll } from '../test/helpers/stranger.ts'
import { benchAgent, type Row, row, UNHURRIED, versus } from './measure.ts'
import { seededDb, wrapSet, writeIdentity } from './wraps.ts'

const n = (count: number) => count.toLocaleString('en-US')

export async function historyRows(sizes: number[]): Promise<Row[]> {
  const applying: Row[] = []
  const withWindow: Row[] = []
  const alone: Row[] = []
  for (const count of [0, ...sizes]) {
    const set = await wrapSet(count)
    const [setup, held] = await Promise.all([startRelay(), startRelay({ dbFile: seededDb(set) })])
    try {
      const agent = benchAgent([setup.url])
      writeIdentity(agent.home, set.agentSk)
      await agent.p2p('status')
      const request = buildRumor(
        { type: 'call-request', callId: set.callId, topic: 'benchmark history' },
        set.peer,
        set.agent,
        Math.floor(Date.now() / 1000),
        'bench peer',
      )
      await publishAll(setup.url, [wrapRumor(request, set.peerSk, set.agent)])
      await agent.p2p('poll')
      await agent.p2p('answer', 'accept', '--call', set.callId)
      // the peer's messages, on the other relay: one poll takes them all in (given the time it needs)
      const onHeld = agent.on([held.url])
      const ms = await onHeld.p2p('poll', ...UNHURRIED)
      const calls = (await agent.json<{ calls: Array<{ id: string; messages: number }> }>('history')).calls
      const kept = calls.find((c) => c.id === set.callId)?.messages
      if (kept !== count) throw new Error(`the call holds ${kept} messages after the poll, not ${count}`)
      const apply = row(`poll applying ${n(count)} incoming messages`, [ms])
      applying.push(applying.length ? versus(apply, applying[0]) : apply)
      const window = await onHeld.measure(`quiet poll, ${n(count)} messages of history, on the relay holding their wraps`, ['poll'])
      withWindow.push(withWindow.length ? versus(window, withWindow[0]) : window)
      const history = await agent.measure(`quiet poll, ${n(count)} messages of history, on another relay`, ['poll'])
      alone.push(alone.length ? versus(history, alone[0]) : history)
    } finally {
      await Promise.all([setup.stop(), held.stop()])
    }
  }
  return [...alone, ...withWindow, ...applying]
}
