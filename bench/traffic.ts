// What an agent costs relays (issue 26, point 6): a quiet agent's traffic over one hour, on one
// relay: what it publishes, the REQs and NIP-77 openings it sends, and the bytes the relay sends
// it. Two ways of staying reachable: a `poll` every minute (cron), and `poll --wait 60` run again
// as soon as it returns (an agent waiting for work). The hour passes on the agent's clock
// (P2P_TEST_CLOCK_OFFSET_S moves it a minute a run), so that its presence falls due as it would;
// the waits themselves are cut to 2 s (nothing arrives: a quiet wait's traffic is its start and
// its end).
import { startRelay } from '../test/helpers/relay.ts'
import { benchAgent, captured, cli, type Row } from './measure.ts'

const RUNS_AN_HOUR = 60

interface Tally {
  events: number
  reqs: number
  negOpens: number
  bytes: number
}

/** Frames the agent sent, from its --verbose log. */
const count = (log: string, frame: string) => log.split('\n').filter((l) => l.includes(`> ["${frame}"`)).length

async function hour(args: string[]): Promise<Tally> {
  const relay = await startRelay()
  try {
    const agent = benchAgent([relay.url])
    for (const a of [['config', 'set', 'indexers', 'none'], ['config', 'set', 'name', 'quiet-agent'], ['status']]) await agent.p2p(...a)
    const tally: Tally = { events: 0, reqs: 0, negOpens: 0, bytes: 0 }
    for (let minute = 1; minute <= RUNS_AN_HOUR; minute++) {
      const before = relay.traffic.bytes
      const env = { ...agent.env, P2P_TEST_CLOCK_OFFSET_S: String(minute * 60) }
      const { stderr } = await captured([cli, ...args, '--verbose'], env)
      tally.events += count(stderr, 'EVENT')
      tally.reqs += count(stderr, 'REQ')
      tally.negOpens += count(stderr, 'NEG-OPEN')
      tally.bytes += relay.traffic.bytes - before
    }
    return tally
  } finally {
    await relay.stop()
  }
}

/** Rows whose numbers are counts: the name says what, the "time" columns hold nothing. */
const line = (name: string, t: Tally): Row => ({
  name: `${name}: ${t.events} events published, ${t.reqs} REQs, ${t.negOpens} NIP-77 opens, ${(t.bytes / 1024).toFixed(0)} KiB read`,
  meanMs: 0,
  medianMs: 0,
  runs: RUNS_AN_HOUR,
})

export async function trafficRows(): Promise<Row[]> {
  return [
    line('`poll` every minute, an hour', await hour(['poll'])),
    line('`poll --wait 60` again and again, an hour', await hour(['poll', '--wait', '2'])),
  ]
}
