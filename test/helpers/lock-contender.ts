// One contender for test/lock.test.ts: takes the lock `rounds` times once told to start, and
// in each critical section creates a marker file exclusively (EEXIST: someone else is inside)
// and bumps a counter file (a lost update: someone else was inside). Prints its overlap count.
// With <dieAt>, it kills itself while holding the lock in that round, before touching anything.
// Usage (bundled by the test): node lock-contender.mjs <lock> <marker> <counter> <rounds> [dieAt]

import { readFileSync, unlinkSync, writeFileSync } from 'node:fs'
import { withLock } from '../../lib/store/lock.ts'

const [lock, marker, counter, rounds, dieAt] = process.argv.slice(2)
let overlaps = 0

async function criticalSection(round: number): Promise<void> {
  if (round === Number(dieAt)) process.kill(process.pid, 'SIGKILL')
  let mine = true
  try {
    writeFileSync(marker, `${process.pid}`, { flag: 'wx' })
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    overlaps++
    mine = false
  }
  const count = Number(readFileSync(counter, 'utf8'))
  await new Promise((resolve) => setImmediate(resolve)) // let the others run while we are inside
  writeFileSync(counter, `${count + 1}`)
  if (mine) unlinkSync(marker)
}

process.stdout.write('ready\n')
process.stdin.once('data', async () => {
  for (let i = 0; i < Number(rounds); i++) await withLock(lock, () => criticalSection(i))
  process.stdout.write(`${JSON.stringify({ overlaps })}\n`)
  process.exit(0)
})
