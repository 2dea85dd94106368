// `npm run bench`: the built CLI's times beside their baselines, all measured in one run on this
// machine so that the ratios compare. Not a test: nothing here passes or fails.
//   --json               one JSON document instead of Markdown tables
//   BENCH_SIZES=small    1,000 / 5,000 wraps and messages instead of 10,000 / 50,000 (full), and
//                        a crowd of 10,000 announcements instead of 100,000
//   BENCH_ONLY=a,b       only these groups (startup, calls, window, latency, history, blackhole, turns, crowd,
//                        specialist, traffic)
//   BENCH_DELAY_MS=n     the turns group's delay each way (default 100)
//   BENCH_MODES=a,b      the turns group's relay modes (plain, strfry, khatru, nostr-rs-relay)
//   BENCH_RUNS=n         timed runs a row (default 15)
// The 10,000 / 50,000 gift wraps are made once a day into the OS tmp dir (bench/wraps.ts).
import { startRelay } from '../test/helpers/relay.ts'
import { blackHoleRows } from './blackhole.ts'
import { crowdRows } from './crowd.ts'
import { historyRows } from './history.ts'
import { type Row, removeTempDirs } from './measure.ts'
import { type Group, load, report } from './report.ts'
import { specialistRows } from './specialist.ts'
import { callRows, startupRows } from './startup.ts'
import { trafficRows } from './traffic.ts'
import { DELAY_MS, turnRows } from './turns.ts'
import { latencyRows, type WindowAgent, windowAgent, windowRows } from './window.ts'

const SIZES: Record<string, number[]> = { small: [1_000, 5_000], full: [10_000, 50_000] }
const CROWDS: Record<string, number> = { small: 10_000, full: 100_000 }
const GROUPS = ['startup', 'calls', 'window', 'latency', 'history', 'blackhole', 'turns', 'crowd', 'specialist', 'traffic']

const sizes = SIZES[process.env.BENCH_SIZES ?? 'full']
if (!sizes) throw new Error(`BENCH_SIZES is one of ${Object.keys(SIZES).join(', ')}`)
const only = process.env.BENCH_ONLY ? process.env.BENCH_ONLY.split(',') : GROUPS
const unknown = only.filter((g) => !GROUPS.includes(g))
if (unknown.length) throw new Error(`BENCH_ONLY names groups of ${GROUPS.join(', ')}, not ${unknown.join(', ')}`)
const wanted = (group: string) => only.includes(group)

const loadAtStart = load()
const groups: Group[] = []
/** Runs one group; a group that fails is reported as failed, and the others still run. */
async function group(name: string, title: string, rows: () => Promise<Row[]>): Promise<void> {
  if (!wanted(name)) return
  try {
    groups.push({ name, title, rows: await rows() })
  } catch (err) {
    process.stderr.write(`bench: group ${name} failed: ${(err as Error).stack}\n`)
    groups.push({ name, title, rows: [], error: (err as Error).message })
  }
}

try {
  if (wanted('startup') || wanted('calls')) {
    const relays = await Promise.all([startRelay(), startRelay(), startRelay()])
    const urls = relays.map((r) => r.url)
    await group('startup', 'Start-up and one online round', () => startupRows(urls))
    await group('calls', 'A call: latency, files, waiting events', () => callRows(urls))
    await Promise.all(relays.map((r) => r.stop()))
  }
  if (wanted('window') || wanted('latency')) {
    const agents: WindowAgent[] = []
    const ready = (async () => {
      for (const count of wanted('window') ? [0, ...sizes] : [0, sizes[0]]) agents.push(await windowAgent(count))
    })()
    await group('window', 'Gift wraps in the 2-day window', async () => {
      await ready
      return windowRows(agents)
    })
    await group('latency', 'Latency to a waiting poll', async () => {
      await ready
      return latencyRows(agents.filter((a) => a.count <= sizes[0]))
    })
    await Promise.all(agents.map((a) => a.relay.stop()))
  }
  await group('history', 'Messages of history', () => historyRows(sizes))
  await group('blackhole', 'A black hole among live relays', () => blackHoleRows())
  await group('turns', `Round trips per command: ${DELAY_MS} ms each way against 0 ms, per relay mode`, () => turnRows())
  const crowd = CROWDS[process.env.BENCH_SIZES ?? 'full']
  await group('crowd', `Discovery with ${crowd.toLocaleString('en-US')} agents announced, against an empty relay`, () => crowdRows(crowd))
  await group('specialist', "A specialist's day: many calls at once, a long history", () => specialistRows())
  await group('traffic', 'What a quiet agent costs a relay in an hour', () => trafficRows())
} finally {
  removeTempDirs()
}

console.log(report(groups, { sizes, loadAtStart, loadAtEnd: load() }, process.argv.includes('--json')))
