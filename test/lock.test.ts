// The state lock under contention: many processes taking one lock many times never hold it at
// once (issue 12: a release between a failed attempt and reading the holder let a second one in).

import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'

const CONTENDER = resolve(import.meta.dirname, 'helpers/lock-contender.ts')
const PROCESSES = 24
const ROUNDS = 150

const dir = mkdtempSync(join(tmpdir(), 'p2p-lock-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('the state lock', () => {
  it(`${PROCESSES} processes x ${ROUNDS} acquisitions: never two inside at once, no update lost`, async () => {
    const lock = join(dir, 'p2p-state.lock')
    const marker = join(dir, 'inside')
    const counter = join(dir, 'counter')
    writeFileSync(counter, '0')
    const children = Array.from({ length: PROCESSES }, () =>
      spawn(process.execPath, ['--import', 'tsx', CONTENDER, lock, marker, counter, `${ROUNDS}`], {
        stdio: ['pipe', 'pipe', 'inherit'],
      }),
    )
    const outputs = children.map((child) => {
      let out = ''
      child.stdout.on('data', (chunk) => {
        out += chunk
      })
      const ready = new Promise<void>((ok) => {
        const check = () => (out.includes('ready\n') ? ok() : child.stdout.once('data', check))
        check()
      })
      const done = new Promise<string>((ok) => child.once('close', (code) => ok(`${code}\n${out}`)))
      return { ready, done }
    })
    // all start together, once every one has loaded
    await Promise.all(outputs.map((o) => o.ready))
    for (const child of children) child.stdin.end('go\n')

    let overlaps = 0
    for (const o of outputs) {
      const [code, , result] = (await o.done).split('\n')
      expect(code).toBe('0')
      overlaps += JSON.parse(result).overlaps
    }
    const counted = Number(readFileSync(counter, 'utf8'))
    expect({ overlaps, counted }).toEqual({ overlaps: 0, counted: PROCESSES * ROUNDS })
  }, 120_000)
})
