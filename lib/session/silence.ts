// Which relays to wait for: one that answered nothing is marked silent and, until a back-off
// gives it a full chance again, waited for only while the others are; one that connects but was
// not read in full lately is waited for until the deadline. Pure functions of the state.
import type { RelayHealth } from '../store/relay-health.ts'
import type { State } from '../store/schema.ts'
import { RESYNC_AFTER_S, SILENT_RETRY_MAX_S, SILENT_RETRY_S } from '../timing.ts'

/** A relay that answered no REQ (no connection, no EOSE) is marked silent. One that was given
 *  a full chance and missed it again is given the next one after a back-off, doubling up to a
 *  cap; one held back (waited for only while the others were) keeps its mark as it was. An
 *  answer, held back or not, clears the mark. */
export function noteSilence(health: RelayHealth, answered: boolean, heldBack: boolean, now: number): void {
  if (answered) {
    delete health.silentSince
    delete health.retryAt
    delete health.retryAfterS
    return
  }
  if (heldBack) return
  const after = health.retryAfterS ? Math.min(2 * health.retryAfterS, SILENT_RETRY_MAX_S) : SILENT_RETRY_S
  health.silentSince ??= now
  health.retryAfterS = after
  health.retryAt = now + after
}

/** Relays that answered nothing last time and are not due for a full chance yet: waited for
 *  only while the others are (they are still tried, in the background). */
export function silentRelays(state: State, urls: string[], now: number): string[] {
  return urls.filter((url) => (state.relayHealth[url]?.retryAt ?? 0) > now)
}

/** Relays that connect but have not been read in full lately: worth waiting for (unless held
 *  back as silent: a relay that never sends EOSE would otherwise cost the deadline every run). */
export function patientRelays(state: State, urls: string[], now: number): string[] {
  const silent = new Set(silentRelays(state, urls, now))
  return urls.filter((url) => {
    const h = state.relayHealth[url]
    return h?.lastOk !== undefined && (h.lastSynced ?? 0) < now - RESYNC_AFTER_S && !silent.has(url)
  })
}
