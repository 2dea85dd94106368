// A cross-process lock around every read-modify-write of the state, so that cron and an
// agent's own invocation never lose each other's updates. Held for milliseconds (never across
// network I/O), so waiting is short and a lock left by a killed process is recognised fast:
// its pid is gone, or it is older than LOCK_STALE_MS.

import { randomBytes } from 'node:crypto'
import { linkSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs'
import { stateError } from '../errors.ts'
import { LOCK_RETRY_MAX_MS, LOCK_STALE_MS, LOCK_WAIT_MS } from '../timing.ts'

interface Holder {
  pid: number
  at: number
  token: string
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
  let holder: Holder | null = null
  for (let attempt = 0; ; attempt++) {
    if (tryCreate(path, token)) return
    holder = readHolder(path)
    if (holder === null || isStale(holder)) {
      breakLock(path, holder, token)
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

/** Writes the lock complete in a temp file and links it into place: link() is atomic and
 *  fails when the lock exists, so a lock file is never seen half-written. */
function tryCreate(path: string, token: string): boolean {
  const tmp = `${path}.${token}.tmp`
  writeFileSync(tmp, JSON.stringify({ pid: process.pid, at: Date.now(), token }), { mode: 0o600 })
  try {
    linkSync(tmp, path)
    return true
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    return false
  } finally {
    unlinkSync(tmp)
  }
}

function readHolder(path: string): Holder | null {
  try {
    const doc = JSON.parse(readFileSync(path, 'utf8'))
    if (typeof doc.pid === 'number' && typeof doc.at === 'number' && typeof doc.token === 'string') return doc
  } catch {
    // unreadable: not a lock we wrote (locks are linked into place complete)
  }
  return null
}

function isStale(holder: Holder): boolean {
  if (Date.now() - holder.at > LOCK_STALE_MS) return true
  if (holder.pid === process.pid) return false
  try {
    process.kill(holder.pid, 0)
    return false
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH'
  }
}

/** Moves a stale lock aside; if what was moved turns out to be a fresh lock (another process
 *  broke the stale one and took it in between), puts it back. */
function breakLock(path: string, seen: Holder | null, token: string): void {
  const aside = `${path}.${token}.stale`
  try {
    renameSync(path, aside)
  } catch {
    return // someone else moved or released it: just try again
  }
  const moved = readHolder(aside)
  if (seen && moved && moved.token !== seen.token) {
    try {
      linkSync(aside, path)
    } catch {
      // a third process already holds the lock; the one we moved will find its lock gone
    }
  }
  unlinkSync(aside)
}

function release(path: string, token: string): void {
  if (readHolder(path)?.token !== token) return
  try {
    unlinkSync(path)
  } catch {
    // already gone
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
