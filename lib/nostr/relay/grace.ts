// The grace rule shared by queries and publishes: once one relay has given a good answer, the
// others get a grace period, then are given up on, so a silent relay never holds up the rest.
// Relays held back (they answered nothing in an earlier run) are not even given that while
// they have not connected: they are waited for only while the others are. One that connects
// (it was down, and is back) is graced like the others.
import { GRACE_MIN_MS } from '../../timing.ts'

/** Why a held-back relay was given up on. */
export const HELD_BACK = 'not waited for: it answered nothing in an earlier run'

/** Runs `task` on every connection; once one result is `good`, the connections still working
 *  (or still connecting) get a grace period, then are given up on: `abandon` stops what they
 *  were doing and says what to report instead (or undefined: keep waiting for this one). A
 *  silent relay never holds up the others. Connections `heldBack` (asked again each time) are
 *  given up on as soon as one result is good and no other connection is still working (unless
 *  all were held back: then none is). */
export async function graced<C, T>(
  connections: C[],
  task: (c: C) => Promise<T>,
  good: (result: T) => boolean,
  abandon: (c: C, reason: string) => T | undefined,
  heldBack: (c: C) => boolean = () => false,
): Promise<T[]> {
  const started = Date.now()
  const pending = new Map<C, (result: T) => void>()
  const behind = connections.every(heldBack) ? new Set<C>() : new Set(connections.filter(heldBack))
  let timer: ReturnType<typeof setTimeout> | undefined
  let anyGood = false
  const giveUp = (reason: string, only: (c: C) => boolean = () => true) => {
    for (const [c, resolve] of pending) {
      if (!only(c)) continue
      const instead = abandon(c, reason)
      if (instead !== undefined) resolve(instead)
    }
  }
  try {
    return await Promise.all(
      connections.map(async (c) => {
        const result = await new Promise<T>((resolve) => {
          pending.set(c, resolve)
          task(c).then(resolve)
        })
        pending.delete(c)
        anyGood ||= good(result)
        if (anyGood && pending.size > 0 && [...pending.keys()].every((p) => behind.has(p) && heldBack(p))) giveUp(HELD_BACK)
        else if (good(result) && !timer && pending.size > 0) {
          timer = setTimeout(
            () => giveUp(`slower than the other relays: gave up after ${Date.now() - started} ms`),
            Math.max(GRACE_MIN_MS, 3 * (Date.now() - started)),
          )
        }
        return result
      }),
    )
  } finally {
    clearTimeout(timer)
  }
}
