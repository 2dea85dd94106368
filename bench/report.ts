// The benchmark's output: Markdown tables (one per group, ready for docs/performance.md) or, with
// --json, one document with every row.
import { cpus, loadavg } from 'node:os'
import { type Row, RUNS } from './measure.ts'

export interface Group {
  name: string
  title: string
  rows: Row[]
  /** why the group has no rows */
  error?: string
}

export interface Setting {
  sizes: number[]
  loadAtStart: number[]
  loadAtEnd: number[]
}

export const load = () => loadavg().map((l) => Number(l.toFixed(2)))

export function report(groups: Group[], setting: Setting, json: boolean): string {
  const cpu = cpus()
  if (json) {
    const rows = groups.flatMap((g) => g.rows.map((r) => ({ group: g.name, ...r })))
    return JSON.stringify({ node: process.version, cpus: cpu.length, cpu: cpu[0]?.model, runs: RUNS, ...setting, rows }, null, 2)
  }
  const lines = [
    `p2p-comm benchmark: node ${process.version}, ${cpu.length} × ${cpu[0]?.model}, up to ${RUNS} timed runs a row, loopback relays,`,
    `sizes ${setting.sizes.join(' / ')}; load average (1, 5, 15 min) ${setting.loadAtStart.join(' ')} at the start, ${setting.loadAtEnd.join(' ')} at the end`,
  ]
  for (const group of groups) {
    lines.push('', `### ${group.title}`, '')
    if (group.error) lines.push(`failed: ${group.error}`)
    else lines.push('| what | runs | mean ms | median ms | median vs baseline |', '|---|--:|--:|--:|---|')
    for (const r of group.rows) {
      const vs = r.ratio === undefined ? '' : `${r.ratio.toFixed(2)}x ${signed(r.medianMs - (r.floorMs ?? 0))} (${r.floor})`
      const turns = r.turns === undefined ? '' : `: **${r.turns.toFixed(1)} round trips**`
      lines.push(`| ${r.name} | ${r.runs} | ${r.meanMs.toFixed(0)} | ${r.medianMs.toFixed(0)} | ${vs}${turns} |`)
    }
  }
  return lines.join('\n')
}

const signed = (ms: number) => `${ms < 0 ? '−' : '+'}${Math.abs(ms).toFixed(0)} ms`
