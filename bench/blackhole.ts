// A black hole among live relays (issue 13): a relay that accepts TCP and never answers. The
// first run that meets it, and the runs after it (a relay that did not answer last time should
// cost nothing then), beside the same agents on the two live relays alone.
import { startBlackHole, startRelay } from '../test/helpers/relay.ts'
import { type BenchAgent, benchAgent, interleaved, type Row, RUNS, row, versus } from './measure.ts'

/** Agents that meet the black hole for the first time: each gives one "first run". */
const FIRST_RUNS = 5

export async function blackHoleRows(): Promise<Row[]> {
  const live = await Promise.all([startRelay(), startRelay()])
  const hole = await startBlackHole()
  try {
    const urls = live.map((r) => r.url)
    const base = benchAgent(urls)
    await base.p2p('status')
    const first: number[] = []
    const withHole: BenchAgent[] = []
    for (let h = 0; h < Math.min(RUNS, FIRST_RUNS); h++) {
      const agent = benchAgent(urls)
      await agent.p2p('status')
      await agent.p2p('poll')
      withHole.push(agent.on([...urls, hole.url]))
      first.push(await withHole[h].p2p('poll'))
    }
    let next = 0
    const [alone, later] = await interleaved([
      { name: 'quiet poll, 2 live relays', time: () => base.p2p('poll') },
      { name: 'quiet poll, 2 live + 1 black hole: the 2nd to Nth runs', time: () => withHole[next++ % withHole.length].p2p('poll') },
    ])
    return [alone, versus(row('quiet poll, 2 live + 1 black hole: the first run that meets it', first), alone), versus(later, alone)]
  } finally {
    await Promise.all([...live.map((r) => r.stop()), hole.stop()])
  }
}
