// Processes and timings for the benchmark: runs of the built CLI timed from spawn to exit, the
// rows they make, and agents (a home and its relays) that the rows drive.
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

export const root = resolve(import.meta.dirname, '..')
export const cli = join(root, 'p2p.js')
export const RUNS = Number(process.env.BENCH_RUNS ?? 15)

export type Env = Record<string, string>

/** For set-up runs that must read a whole window of thousands of wraps, whatever it costs. */
export const UNHURRIED = ['--timeout', '600000']

/** Runs `node args`; the milliseconds from spawn to exit. Fails on a non-zero exit. */
export function run(args: string[], env: Env = {}, stdin?: string): Promise<number> {
  const started = process.hrtime.bigint()
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['pipe', 'ignore', 'inherit'] })
    child.on('error', fail)
    child.on('close', (code) => {
      if (code !== 0) return fail(new Error(`${args.join(' ')} exited ${code}`))
      done(Number(process.hrtime.bigint() - started) / 1e6)
    })
    child.stdin.end(stdin ?? '')
  })
}

/** Runs `node args`; its stdout and stderr. Fails on a non-zero exit. */
export function captured(args: string[], env: Env): Promise<{ stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, args, { env: { ...process.env, ...env } })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    child.on('error', fail)
    child.on('close', (code) => {
      if (code !== 0) return fail(new Error(`${args.join(' ')} exited ${code}:\n${stderr.slice(-2_000)}`))
      done({ stdout, stderr })
    })
  })
}

export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
export const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length
export const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms))

export interface Row {
  name: string
  meanMs: number
  medianMs: number
  /** how many timed runs the numbers come from */
  runs: number
  /** the row this one is compared with (measured in the same run) */
  floor?: string
  /** the baseline's median */
  floorMs?: number
  ratio?: number
  /** round trips: the extra time over the baseline, in round trips of the delay it was run at */
  turns?: number
}

export const row = (name: string, times: number[]): Row => ({ name, meanMs: mean(times), medianMs: median(times), runs: times.length })

/** `r` as a ratio of its baseline's median. */
export const versus = (r: Row, base: Row): Row => ({ ...r, floor: base.name, floorMs: base.medianMs, ratio: r.medianMs / base.medianMs })

/** Times `runs` runs of `node args`, after one untimed run that warms the file cache. */
export async function measure(name: string, args: string[], env?: Env, runs = RUNS): Promise<Row> {
  await run(args, env)
  const times: number[] = []
  for (let i = 0; i < runs; i++) times.push(await run(args, env))
  return row(name, times)
}

/** One row's timed runs: `time` runs once and says how long it took. */
export interface Case {
  name: string
  time: () => Promise<number>
}

/** Times `runs` rounds of every case in turn, after one untimed run of each (unless `warm` is
 *  false): on a machine shared with other work, load that drifts during a run would skew rows
 *  measured one after the other, while rows measured in turns see the same load. */
export async function interleaved(cases: Case[], runs = RUNS, warm = true): Promise<Row[]> {
  if (warm) for (const c of cases) await c.time()
  const times = cases.map((): number[] => [])
  for (let i = 0; i < runs; i++) for (const [k, c] of cases.entries()) times[k].push(await c.time())
  return cases.map((c, k) => row(c.name, times[k]))
}

/** Each row against the first. */
export const againstFirst = (rows: Row[]): Row[] => rows.map((r, i) => (i ? versus(r, rows[0]) : r))

const tempDirs: string[] = []

/** A new folder under the OS tmp dir, removed by removeTempDirs(). */
export function tempDir(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `p2p-bench-${name}-`))
  tempDirs.push(dir)
  return dir
}

/** Removes the homes and relay databases the benchmark made (a seeded relay's is 270 MB). */
export function removeTempDirs(): void {
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true })
}

/** An agent of the benchmark: a home, and the relays its runs use. */
export interface BenchAgent {
  home: string
  env: Env
  /** runs the CLI (fails on a non-zero exit); the milliseconds it took */
  p2p(...args: string[]): Promise<number>
  /** runs the CLI with --json; the document it printed */
  json<T = any>(...args: string[]): Promise<T>
  /** the same home on other relays */
  on(relays: string[]): BenchAgent
  /** times quiet runs of `args`, as `measure` does */
  measure(name: string, args: string[], runs?: number): Promise<Row>
}

export function benchAgent(relays: string[], home = tempDir('home')): BenchAgent {
  const env = { P2P_HOME: home, P2P_RELAYS: relays.join(',') }
  return {
    home,
    env,
    p2p: (...args) => run([cli, ...args], env),
    json: async (...args) => JSON.parse((await captured([cli, ...args, '--json'], env)).stdout),
    on: (others) => benchAgent(others, home),
    measure: (name, args, runs) => measure(name, [cli, ...args], env, runs),
  }
}
