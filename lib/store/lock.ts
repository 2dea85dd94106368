// A cross-process lock around every read-modify-write of the state, so that cron and an
// agent's own invocation never lose each other's updates. Held for milliseconds (never across
// network I/O), so waiting is short and a lock left by a killed process is recognised fast:
// its pid is gone, or it is older than LOCK_STALE_MS.
//
// The lock is a directory holding one file named by its holder's random token ({pid, at}
// inside). To take it, a process builds its directory, file included, under a name of its own
// and renames it onto the lock path: rename() is atomic and fails while the lock directory
// holds a file, but replaces an empty one. Freeing the lock is removing the holder's file, and
// every removal names the token it means, so no one ever removes a lock they have not
// identified: a lock released and retaken meanwhile has another name, which the remover
// misses (ENOENT). An emptied directory is free; rmdir() tidies it away and cannot remove a
// taken one.

import { randomBytes } from 'node:crypto'
import { mkdirSync, readdirSync, readFileSync, renameSync, rmdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { stateError } from '../errors.ts'
import { LOCK_RETRY_MAX_MS, LOCK_STALE_MS, LOCK_WAIT_MS, sleep } from '../timing.ts'
import { stillRuns } from './process.ts'

interface Holder {
  pid: number
  at: number
}

export async function withLock<T>(path: string, fn: () => Promise<T>): Promise<T> {
  const token = randomBytes(8).toString('hex')
  await acquire(path, token)
  try {
    return await fn()
  } finally {
    release(path, token)
  }
}

async function acquire(path: string, token: string): Promise<void> {
  const started = Date.now()
  for (let attempt = 0; ; attempt++) {
    const held = tryTake(path, token)
    if (held === true) return
    if (held === undefined) continue // released in between: try again at once
    const holder = readHolder(held)
    if (holder === 'gone') continue
    if (holder === null || isStale(holder)) {
      // unlink() names the holder we identified, and never removes a directory
      removeQuietly(() => unlinkSync(held))
      removeQuietly(() => rmdirSync(path))
      continue
    }
    if (Date.now() - started > LOCK_WAIT_MS) {
      throw stateError(
        'state-locked',
        `the state is locked by another p2p process (pid ${holder.pid}) for over ${LOCK_WAIT_MS / 1000} s`,
        `wait for it to finish; if no p2p process is running, remove ${path}`,
      )
    }
    // back off a little more on each attempt, jittered so that waiters do not move in step
    await sleep(Math.min(LOCK_RETRY_MAX_MS, 2 + attempt * 2) * (0.5 + Math.random()))
  }
}

/** True when the lock is ours; else the holder's file (the lock path itself for a lock file
 *  left by an older version), or undefined when the lock was released in between. */
function tryTake(path: string, token: string): true | string | undefined {
  const mine = `${path}.${token}.tmp`
  try {
    mkdirSync(mine, { mode: 0o700 })
    writeFileSync(join(mine, token), JSON.stringify({ pid: process.pid, at: Date.now() }), { mode: 0o600 })
    renameSync(mine, path)
    return true
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOTDIR') return path
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err
  } finally {
    rmSync(mine, { recursive: true, force: true }) // gone already once renamed
  }
  try {
    const name = readdirSync(path)[0]
    return name === undefined ? undefined : join(path, name)
  } catch {
    return undefined
  }
}

/** The holder whose file this is; 'gone' once it has released; null when unreadable (not a
 *  lock we wrote: ours are renamed into place complete). */
function readHolder(file: string): Holder | 'gone' | null {
  try {
    const doc = JSON.parse(readFileSync(file, 'utf8'))
    if (typeof doc.pid === 'number' && typeof doc.at === 'number') return doc
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'gone'
  }
  return null
}

function isStale(holder: Holder): boolean {
  if (Date.now() - holder.at > LOCK_STALE_MS) return true
  return holder.pid !== process.pid && !stillRuns(holder.pid)
}

/** Removes our own file only: if ours was broken as stale, the name is gone and nothing is. */
function release(path: string, token: string): void {
  removeQuietly(() => unlinkSync(join(path, token)))
  removeQuietly(() => rmdirSync(path))
}

function removeQuietly(remove: () => void): void {
  try {
    remove()
  } catch {
    // gone already, or taken again (a directory with a file in it is never removed)
  }
}
