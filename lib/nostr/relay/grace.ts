// The grace rule shared by queries and publishes: once one relay has given a good answer, the
// others get a grace period, then are given up on, so a silent relay never holds up the rest.
import { GRACE_MIN_MS } from '../../timing.ts'

/** Runs `task` on every connection; once one result is `good`, the connections still working
 *  (or still connecting) get a grace period, then are given up on: `abandon` stops what they
 *  were doing and says what to report instead (or undefined: keep waiting for this one). A
 *  silent relay never holds up the others. */
export async function graced<C, T>(
  connections: C[],
  task: (c: C) => Promise<T>,
  good: (result: T) => boolean,
  abandon: (c: C, reason: string) => T | undefined,
): Promise<T[]> {
  const started = Date.now()
  const pending = new Map<C, (result: T) => void>()
  let timer: ReturnType<typeof setTimeout> | undefined
  const giveUp = () => {
    const reason = `slower than the other relays: gave up after ${Date.now() - started} ms`
    for (const [c, resolve] of pending) {
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
        if (good(result) && !timer && pending.size > 0) timer = setTimeout(giveUp, Math.max(GRACE_MIN_MS, 3 * (Date.now() - started)))
        return result
      }),
    )
  } finally {
    clearTimeout(timer)
  }
}
