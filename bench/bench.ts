// `npm run bench`: the built CLI's times beside their baselines, all measured in one run on this
// machine so that the ratios compare. Not a test: nothing here passes or fails.
//   --json               one JSON document instead of Markdown tables
//   BENCH_SIZES=small    1,000 / 5,000 wraps and messages instead of 10,000 / 50,000 (full)
//   BENCH_ONLY=a,b       only these groups (startup, calls, window, latency, history, blackhole)
//   BENCH_RUNS=n         timed runs a row (default 15)
// The 10,000 / 50,000 gift wraps are made once a day into the OS tmp dir (bench/wraps.ts).
import { startRelay } from '../test/helpers/relay.ts'
import { blackHoleRows } from './blackhole.ts'
import { historyRows } from './history.ts'
import { type Group, load, report } from './report.ts'
import { callRows, startupRows } from './startup.ts'
import { latencyRows, type WindowAgent, windowAgent, windowRows } from './window.ts'

const SIZES: Record<string, number[]> = { small: [1_000, 5_000], full: [10_000, 50_000] }
const GROUPS = ['startup', 'calls', 'window', 'latency', 'history', 'blackhole']

const sizes = SIZES[process.env.BENCH_SIZES ?? 'full']
if (!sizes) throw new Error(`BENCH_SIZES is one of ${Object.keys(SIZES).join(', ')}`)
const only = process.env.BENCH_ONLY ? process.env.BENCH_ONLY.split(',') : GROUPS
const unknown = only.filter((g) => !GROUPS.includes(g))
if (unknown.length) throw new Error(`BENCH_ONLY names groups of ${GROUPS.join(', ')}, not ${unknown.join(', ')}`)
const wanted = (group: string) => only.includes(group)

const loadAtStart = load()
const groups: Group[] = []
if (wanted('startup') || wanted('calls')) {
  const relays = await Promise.all([startRelay(), startRelay(), startRelay()])
  try {
    const urls = relays.map((r) => r.url)
    if (wanted('startup')) groups.push({ name: 'startup', title: 'Start-up and one online round', rows: await startupRows(urls) })
    if (wanted('calls')) groups.push({ name: 'calls', title: 'A call: latency, files, waiting events', rows: await callRows(urls) })
  } finally {
    await Promise.all(relays.map((r) => r.stop()))
  }
}
if (wanted('window') || wanted('latency')) {
  const agents: WindowAgent[] = []
  try {
    for (const count of wanted('window') ? [0, ...sizes] : [0, sizes[0]]) agents.push(await windowAgent(count))
    if (wanted('window')) groups.push({ name: 'window', title: 'Gift wraps in the 2-day window', rows: await windowRows(agents) })
    if (wanted('latency')) {
      const rows = await latencyRows(agents.filter((a) => a.count <= sizes[0]))
      groups.push({ name: 'latency', title: 'Latency to a waiting poll', rows })
    }
  } finally {
    await Promise.all(agents.map((a) => a.relay.stop()))
  }
}
if (wanted('history')) groups.push({ name: 'history', title: 'Messages of history', rows: await historyRows(sizes) })
if (wanted('blackhole')) groups.push({ name: 'blackhole', title: 'A black hole among live relays', rows: await blackHoleRows() })

console.log(report(groups, { sizes, loadAtStart, loadAtEnd: load() }, process.argv.includes('--json')))
