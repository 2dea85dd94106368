// An agent whose runs are SIGKILLed at random moments (test/kills.test.ts): each run may be
// killed after a seeded random delay; what the run had done by then is read back from its
// --verbose log (the phase it died in) and from the home (whether it died holding the lock).
// Every `poll` output, of killed runs too, is kept, to check later that no event was printed
// twice.
import { spawn } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { CLI, HERMETIC, runCli, tempHome } from './cli.ts'

/** A small fast seeded PRNG (mulberry32): the same seed gives the same kills and delays. */
export function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}

/** Where a killed run was, from its --verbose log: each phase begins with a line. */
export type Phase = 'starting' | 'syncing' | 'acting' | 'publishing' | 'finishing'
const MARKS: Array<[Phase, RegExp]> = [
  ['syncing', / connected in /],
  ['acting', /\] sync: /],
  ['publishing', /> \["EVENT",\{"kind":1059/],
  ['finishing', /publish kind 1059: accepted/],
]
const phaseOf = (log: string): Phase => MARKS.filter(([, re]) => re.test(log)).at(-1)?.[0] ?? 'starting'

export interface Run {
  args: string[]
  killed: boolean
  code: number | null
  stdout: string
  stderr: string
  ms: number
  phase?: Phase
  /** it died holding the state lock (inside a state update) */
  heldLock?: boolean
  json(): any
}

export interface Kill {
  agent: string
  command: string
  /** the phase aimed at, and the one the run had reached when it died */
  aim: Phase
  phase: Phase
  heldLock: boolean
}

export interface Printing {
  /** the poll's place in this agent's sequence of polls */
  poll: number
  killed: boolean
  /** a killed poll: whether it had marked its events printed (its lease is gone); undefined
   *  when the state does not tell */
  settled?: boolean
  event: Record<string, any>
}

/** How long each phase lasted in a run that was not killed (ms). */
type Lengths = Partial<Record<Phase, number>>

export class KillAgent {
  readonly home = tempHome('p2p-kills-')
  readonly kills: Kill[] = []
  readonly printings: Printing[] = []
  /** how long each local run took (one right after a kill must not wait for the lock) */
  readonly localMs: number[] = []
  private polls = 0
  /** online runs, killed or not, and local ones */
  runs = 0
  /** per command, how long the phases of its latest runs that were not killed lasted */
  private readonly lengths = new Map<string, Lengths[]>()

  constructor(
    readonly name: string,
    private readonly relays: string[],
    private readonly rng: () => number,
    /** how likely a killable run of this command is to be killed */
    private readonly killChance: (command: string) => number,
  ) {}

  /** One run, perhaps killed (`killChance`) when `killable`: a phase is picked among those such runs
   *  went through lately, and the run is killed at a random moment of it, counted from the log
   *  line that begins it (phases are short and uneven, and start-up time varies with the load:
   *  aiming at a phase lands kills in each). A killed poll's output counts as printed. */
  async run(args: string[], opts: { killable?: boolean } = {}): Promise<Run> {
    const command = args[0]
    this.runs++
    const aim = opts.killable === true && this.rng() < this.killChance(command) ? this.aim(command) : undefined
    const r = await this.spawn([...args, '--json', '--verbose', '--timeout', '3000'], aim)
    const run: Run = { args, ...r, json: () => JSON.parse(r.stdout) }
    if (aim && run.killed) {
      run.phase = phaseOf(r.stderr)
      run.heldLock = this.lockHeld()
      this.kills.push({ agent: this.name, command, aim: aim.phase, phase: run.phase, heldLock: run.heldLock })
    } else if (!run.killed) this.learn(command, r.stderr)
    if (command === 'poll') this.record(run)
    return run
  }

  /** A local command (no network), never killed; it must succeed. */
  async local(args: string[]): Promise<any> {
    this.runs++
    const r = await runCli([...args, '--json'], this.env())
    this.localMs.push(r.ms)
    if (r.code !== 0) throw new Error(`${this.name} ${args.join(' ')}: exit ${r.code}\n${r.stdout}\n${r.stderr}`)
    return r.json()
  }

  /** The events this agent's polls printed, of killed polls too (when their output was whole). */
  printed(): Array<Record<string, any>> {
    return this.printings.map((p) => p.event)
  }

  lockHeld(): boolean {
    const lock = join(this.home, 'p2p-state.lock')
    return existsSync(lock) && readdirSync(lock).length > 0
  }

  private env = () => ({
    ...HERMETIC,
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    P2P_HOME: this.home,
    P2P_RELAYS: this.relays.join(','),
  })

  private spawn(args: string[], aim?: { mark: Phase; afterMs: number }) {
    const started = Date.now()
    return new Promise<{ killed: boolean; code: number | null; stdout: string; stderr: string; ms: number }>((resolve, reject) => {
      const child = spawn(process.execPath, [CLI, ...args], { env: this.env(), stdio: ['ignore', 'pipe', 'pipe'] })
      let stdout = ''
      let stderr = ''
      let timer: NodeJS.Timeout | undefined
      const killLater = (ms: number) => {
        timer ??= setTimeout(() => child.kill('SIGKILL'), ms)
      }
      if (aim?.mark === 'starting') killLater(aim.afterMs)
      const mark = aim && MARKS.find(([p]) => p === aim.mark)?.[1]
      child.stdout.on('data', (d) => (stdout += d))
      child.stderr.on('data', (d) => {
        stderr += d
        if (aim && mark?.test(stderr)) killLater(aim.afterMs)
      })
      const hang = setTimeout(() => child.kill('SIGKILL'), 30_000)
      child.on('error', reject)
      child.on('close', (code, signal) => {
        clearTimeout(timer)
        clearTimeout(hang)
        resolve({ killed: signal === 'SIGKILL', code, stdout, stderr, ms: Date.now() - started })
      })
    })
  }

  /** A phase (start-up seldom: it is long and does nothing yet), and when in it to kill. A
   *  publish takes a few ms, less than it takes us to see its log line: a kill aimed at it is
   *  timed from the line before. */
  private aim(command: string): { phase: Phase; mark: Phase; afterMs: number } {
    // commands run once a call (call, answer, end) are timed like `send`, which goes the same way,
    // and before that like the first `status`
    const runs = this.lengths.get(command) ?? this.lengths.get('send') ?? this.lengths.get('status') ?? []
    const lengths: Lengths = runs.length ? runs[Math.floor(this.rng() * runs.length)] : { starting: 300 }
    const later = (Object.keys(lengths) as Phase[]).filter((p) => p !== 'starting')
    const phase = later.length && this.rng() > 0.1 ? later[Math.floor(this.rng() * later.length)] : 'starting'
    const within = this.rng() * (lengths[phase] ?? 0)
    if (phase === 'publishing') return { phase, mark: 'acting', afterMs: Math.round((lengths.acting ?? 0) + within) }
    return { phase, mark: phase, afterMs: Math.round(within) }
  }

  /** How long each phase of a run lasted, from its log (start-up: until the first line). */
  private learn(command: string, log: string): void {
    const marks = log
      .split('\n')
      .map((l) => /^\[\s*(\d+) ms\] (.*)$/.exec(l))
      .filter((m) => m !== null)
      .map((m) => ({ at: Number(m[1]), line: m[2] }))
    const begun = MARKS.map(([phase, re]) => [phase, marks.find((m) => re.test(`] ${m.line}`))?.at] as const).filter(
      (b): b is readonly [Phase, number] => b[1] !== undefined,
    )
    if (!begun.length) return
    const lengths: Lengths = { starting: begun[0][1] + 150 } // the log's clock starts once node has loaded us
    begun.forEach(([phase, at], i) => {
      lengths[phase] = (begun[i + 1]?.[1] ?? (marks.at(-1)?.at ?? at) + 30) - at
    })
    this.lengths.set(command, [...(this.lengths.get(command) ?? []), lengths].slice(-5))
  }

  private record(run: Run): void {
    const poll = this.polls++
    let events: Array<Record<string, any>> = []
    try {
      events = JSON.parse(run.stdout).events ?? []
    } catch {
      if (!run.killed && run.code === 0) throw new Error(`${this.name} poll printed no JSON:\n${run.stdout}\n${run.stderr}`)
      // killed while writing: nothing whole reached the reader
    }
    const settled = run.killed && events.length ? this.leasesSettled() : undefined
    for (const event of events) this.printings.push({ poll, killed: run.killed, settled, event })
  }

  /** No print lease is open: the (only, since this agent runs one command at a time) poll that
   *  printed had marked its events printed before it died. */
  private leasesSettled(): boolean | undefined {
    try {
      const leases = JSON.parse(readFileSync(join(this.home, 'p2p-state.json'), 'utf8')).printLeases
      return Array.isArray(leases) ? leases.length === 0 : undefined
    } catch {
      return undefined
    }
  }
}
