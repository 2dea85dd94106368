// Publishing many events to a set of relays by one deadline: a window of events in flight, a
// pause whenever a relay says `rate-limited:` (the refused event goes back in the line), and no
// further events to a relay that refused one for good. Never rejects: it reports which events
// landed (some relay said OK true) and what each relay answered.
import type { Event } from 'nostr-tools/pure'
import { PUBLISH_WINDOW } from '../limits.ts'
import type { RelayPool } from '../nostr/relay/pool.ts'
import { classifyRefusal } from '../nostr/relay/refusal.ts'
import { RATE_LIMIT_PAUSE_MAX_MS, RATE_LIMIT_PAUSE_MS, sleep } from '../timing.ts'

export interface RelayTally {
  accepted: number
  /** the last refusal, when there was one */
  reason?: string
  /** it refused for good (invalid, blocked, pow, restricted): nothing more was sent there */
  permanent?: boolean
}

export interface Published {
  /** per event: some relay accepted it */
  landed: boolean[]
  relays: Map<string, RelayTally>
  /** some relay said rate-limited and not every event got through */
  rateLimited: boolean
}

export async function publishAll(pool: RelayPool, events: Event[], urls: string[], deadline: number): Promise<Published> {
  const relays = new Map<string, RelayTally>(urls.map((u) => [u, { accepted: 0 }]))
  const landed = events.map(() => false)
  const line = events.map((_e, i) => i)
  let pauseUntil = 0
  let pause = RATE_LIMIT_PAUSE_MS
  let rateLimited = false

  const worker = async () => {
    while (line.length && Date.now() < deadline) {
      if (pauseUntil > Date.now()) {
        await sleep(Math.min(pauseUntil, deadline) - Date.now())
        continue
      }
      const i = line.shift() as number
      const targets = urls.filter((u) => !relays.get(u)?.permanent)
      if (!targets.length) return
      let limited = false
      for (const s of await pool.publish(events[i], targets, deadline)) {
        const tally = relays.get(s.url) as RelayTally
        if (s.ok) {
          tally.accepted++
          landed[i] = true
          continue
        }
        tally.reason = s.reason
        const kind = classifyRefusal(s.reason)
        if (kind === 'permanent') tally.permanent = true
        if (kind === 'rate-limited') limited = true
      }
      if (landed[i] || !limited) continue
      rateLimited = true
      line.push(i)
      pauseUntil = Date.now() + pause
      pause = Math.min(2 * pause, RATE_LIMIT_PAUSE_MAX_MS)
    }
  }
  await Promise.all(Array.from({ length: Math.min(PUBLISH_WINDOW, events.length) }, worker))
  return { landed, relays, rateLimited: rateLimited && landed.includes(false) }
}
