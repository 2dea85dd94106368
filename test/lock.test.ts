// The state lock under contention: many processes taking one lock many times never hold it at
// once (issue 12: a release between a failed attempt and reading the holder let a second one
// in), and holders killed inside it are got past at once.

import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { LOCK_STALE_MS } from '../lib/timing.ts'

const CONTENDER = resolve(import.meta.dirname, 'helpers/lock-contender.ts')

const dir = mkdtempSync(join(tmpdir(), 'p2p-lock-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

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
    spawn(process.execPath, ['--import', 'tsx', CONTENDER, lock, marker, counter, `${rounds}`, `${at}`], {
      stdio: ['pipe', 'pipe', 'inherit'],
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
  }, 120_000)

  it('12 processes x 50 acquisitions, 4 killed inside: the others get past each at once', async () => {
    const { overlaps, counted, expected, ms } = await contend('dying', 12, 50, 4)
    expect({ overlaps, counted }).toEqual({ overlaps: 0, counted: expected })
    // a dead holder's pid is gone: its lock is broken without waiting for it to go stale
    expect(ms).toBeLessThan(LOCK_STALE_MS)
  }, 120_000)
})
