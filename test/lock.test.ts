// The state lock under contention: many processes taking one lock many times never hold it at
// once (issue 12: a release between a failed attempt and reading the holder let a second one
// in), and holders killed inside it are got past at once.

import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { build } from 'esbuild'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { withLock } from '../lib/store/lock.ts'
import { LOCK_STALE_MS, LOCK_WAIT_MS } from '../lib/timing.ts'

const CONTENDER = resolve(import.meta.dirname, 'helpers/lock-contender.ts')

const dir = mkdtempSync(join(tmpdir(), 'p2p-lock-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
// bundled once: 36 contenders each loading TypeScript through tsx cost ~13 s of CPU
const contender = join(dir, 'lock-contender.mjs')
beforeAll(async () => {
  await build({ entryPoints: [CONTENDER], outfile: contender, bundle: true, platform: 'node', format: 'esm', logLevel: 'warning' })
})

/** Runs `processes` contenders of `rounds` each, started together; the first `dying` kill
 *  themselves inside the lock at a random round. Returns the overlaps seen and the count of
 *  critical sections completed, the count the counter file should show, and the time taken. */
async function contend(name: string, processes: number, rounds: number, dying = 0) {
  const lock = join(dir, `${name}.lock`)
  const marker = join(dir, `${name}.inside`)
  const counter = join(dir, `${name}.counter`)
  writeFileSync(counter, '0')
  const dieAt = Array.from({ length: processes }, (_, i) => (i < dying ? Math.floor(Math.random() * rounds) : -1))
  const children = dieAt.map((at) =>
    spawn(process.execPath, [contender, lock, marker, counter, `${rounds}`, `${at}`], {
      stdio: ['pipe', 'pipe', 'inherit'],
      // what is tested is that no two are inside at once and no update is lost, not how long
      // the last of 24 waits on a busy machine (seen: over LOCK_WAIT_MS with both cores loaded)
      env: { ...process.env, P2P_TEST_LOCK_WAIT_MS: '600000' },
    }),
  )
  const runs = children.map((child) => {
    let out = ''
    child.stdout.on('data', (chunk) => {
      out += chunk
    })
    const ready = new Promise<void>((ok) => {
      const check = () => (out.includes('ready\n') ? ok() : child.stdout.once('data', check))
      check()
    })
    const done = new Promise<{ code: number | null; out: string }>((ok) => child.once('close', (code) => ok({ code, out })))
    return { ready, done }
  })
  // all start together, once every one has loaded
  await Promise.all(runs.map((r) => r.ready))
  for (const child of children) child.stdin.end('go\n')
  const started = Date.now()

  let overlaps = 0
  let expected = 0
  for (const [i, run] of runs.entries()) {
    const { code, out } = await run.done
    if (dieAt[i] >= 0) {
      expect(code).toBeNull() // killed
      expected += dieAt[i]
      continue
    }
    expect(code).toBe(0)
    overlaps += JSON.parse(out.split('\n')[1]).overlaps
    expected += rounds
  }
  return { overlaps, counted: Number(readFileSync(counter, 'utf8')), expected, ms: Date.now() - started }
}

describe('the state lock', () => {
  it('24 processes x 150 acquisitions: never two inside at once, no update lost', async () => {
    const { overlaps, counted, expected } = await contend('busy', 24, 150)
    expect({ overlaps, counted }).toEqual({ overlaps: 0, counted: expected })
  }, 240_000) // ~25 s alone; 85-97 s seen with both cores kept busy beside the suite

  it('12 processes x 50 acquisitions, 4 killed inside: the others get past each at once', async () => {
    const { overlaps, counted, expected, ms } = await contend('dying', 12, 50, 4)
    expect({ overlaps, counted }).toEqual({ overlaps: 0, counted: expected })
    // a dead holder's pid is gone: its lock is broken without waiting for it to go stale
    expect(ms).toBeLessThan(LOCK_STALE_MS)
  }, 120_000)
})

/** Puts a holder's lock in place as another process would: a directory with its token file. */
function holdAs(lock: string, token: string, holder: object): void {
  mkdirSync(`${lock}.${token}`)
  writeFileSync(join(`${lock}.${token}`, token), JSON.stringify(holder))
  renameSync(`${lock}.${token}`, lock)
}

const DEAD_PID = 999_999_99

describe('the state lock, one holder at a time', () => {
  afterEach(() => vi.useRealTimers())

  it('breaks at once a lock whose process is gone, or older than LOCK_STALE_MS whatever its pid', async () => {
    const lock = join(dir, 'stale.lock')
    holdAs(lock, 'dead', { pid: DEAD_PID, at: Date.now() })
    expect(await withLock(lock, async () => readdirSync(lock).length)).toBe(1)
    holdAs(lock, 'old', { pid: process.ppid, at: Date.now() - LOCK_STALE_MS - 1 })
    expect(await withLock(lock, async () => readdirSync(lock).length)).toBe(1)
    expect(existsSync(lock)).toBe(false)
  })

  it('breaks a lock file left by an older version when its process is gone', async () => {
    const lock = join(dir, 'old-format.lock')
    writeFileSync(lock, JSON.stringify({ pid: DEAD_PID, at: Date.now(), token: 'dead' }))
    await withLock(lock, async () => expect(readdirSync(lock)).toHaveLength(1))
    expect(existsSync(lock)).toBe(false)
  })

  it('waits for a live holder, then fails with state-locked after LOCK_WAIT_MS, leaving its lock', async () => {
    const lock = join(dir, 'live.lock')
    holdAs(lock, 'live', { pid: process.ppid, at: Date.now() })
    vi.useFakeTimers()
    const taking = withLock(lock, async () => 'entered')
    const failed = expect(taking).rejects.toMatchObject({ code: 'state-locked' })
    await vi.advanceTimersByTimeAsync(LOCK_WAIT_MS + 1_000)
    await failed
    expect(readdirSync(lock)).toEqual(['live'])
  })

  it("a holder whose lock was broken as stale does not remove the next holder's on release", async () => {
    const lock = join(dir, 'broken.lock')
    await withLock(lock, async () => {
      const [mine] = readdirSync(lock)
      unlinkSync(join(lock, mine)) // broken as stale by another run...
      holdAs(lock, 'next', { pid: process.ppid, at: Date.now() }) // ...which took the lock
    })
    expect(readdirSync(lock)).toEqual(['next'])
  })
})
