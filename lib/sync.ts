// Folding what relays returned into the state: pure functions of (state, relay results), so
// they are tested without a network.
import type { Event } from 'nostr-tools/pure'
import type { Filter } from 'nostr-tools/filter'
import { GIFT_WRAP_LOOKBACK_S, type State, type P2PEvent } from './state.ts'
import { GIFT_WRAP_KIND } from './dm.ts'
import type { QueryOutcome, RelayReport } from './relay/session.ts'
import { PRESENCE_KIND, PRESENCE_TOPIC, RELAY_LIST_KIND, INBOX_RELAYS_KIND, parsePresence } from './presence.ts'

/** Presence is re-read this far behind the cursor, for events that reached a relay late. */
const PRESENCE_OVERLAP_S = 120
const MAX_PRESENCE_EVENTS = 1_000

/** Index of the gift-wrap filter in syncFilters(): the one read in full, page by page. */
export const GIFT_WRAP_FILTER = 0

export function syncFilters(state: State, me: string, now: number, onlineWindow: number): Filter[] {
  const cursor = state.cursor.presenceWindow >= onlineWindow ? state.cursor.presence - PRESENCE_OVERLAP_S : 0
  const since = Math.max(now - onlineWindow, cursor)
  return [
    // NIP-59 backdates wraps up to 2 days: read that far behind the last complete sync
    { kinds: [GIFT_WRAP_KIND], '#p': [me], since: (state.cursor.giftWrap || now) - GIFT_WRAP_LOOKBACK_S },
    { kinds: [PRESENCE_KIND], '#t': [PRESENCE_TOPIC], since, limit: MAX_PRESENCE_EVENTS },
    // our own announcements and relay lists, to republish only where they are missing or stale
    { kinds: [PRESENCE_KIND], authors: [me], '#t': [PRESENCE_TOPIC] },
    { kinds: [RELAY_LIST_KIND, INBOX_RELAYS_KIND], authors: [me] },
  ]
}

export interface SyncSummary {
  /** agents heard from that were not online before this sync */
  newAgents: string[]
}

export function foldSync(state: State, outcome: QueryOutcome, reports: RelayReport[], me: string, now: number, onlineWindow: number): SyncSummary {
  const newAgents: string[] = []
  for (const event of outcome.events) {
    if (event.pubkey === me) continue
    const agent = parsePresence(event)
    if (!agent) continue
    agent.lastSeen = Math.min(agent.lastSeen, now)
    const known = state.agents[agent.pubkey]
    if (known && known.lastSeen >= agent.lastSeen) continue
    if (!known || known.lastSeen < now - onlineWindow) newAgents.push(agent.pubkey)
    state.agents[agent.pubkey] = agent
  }
  for (const report of reports) {
    const health = (state.relayHealth[report.url] ??= { lastAttempt: now })
    health.lastAttempt = now
    if (report.connected) {
      health.lastOk = now
      if (outcome.results.some((r) => r.url === report.url && r.complete)) health.lastSynced = now
      delete health.lastError
    } else {
      health.lastError = report.error ?? 'unreachable'
    }
  }
  // Only a relay that said EOSE has told us everything: without one, keep the old cursor.
  if (outcome.results.some((r) => r.complete)) {
    state.cursor = { ...state.cursor, presence: now, presenceWindow: onlineWindow, giftWrap: now }
  }
  return { newAgents }
}

/** Appends events to the journal that `poll` and `status` read. */
export function journal(state: State, events: P2PEvent[]): void {
  for (const event of events) state.journal.push({ seq: state.nextSeq++, event })
}

/** The events no `poll` has printed yet; with `claim`, marks them printed. */
export function unpolled(state: State, claim: boolean): P2PEvent[] {
  const fresh = state.journal.filter((j) => j.seq > state.cursor.polled).map((j) => j.event)
  if (claim) state.cursor.polled = state.nextSeq - 1
  return fresh
}

/** A relay not read in full for this long is waited for until the deadline, even when the
 *  others answered first. */
const RESYNC_AFTER_S = 600

/** Relays that connect but have not been read in full lately: worth waiting for. */
export function patientRelays(state: State, urls: string[], now: number): string[] {
  return urls.filter((url) => {
    const h = state.relayHealth[url]
    return h?.lastOk !== undefined && (h.lastSynced ?? 0) < now - RESYNC_AFTER_S
  })
}

/** The newest of our own events of `kind` (and d tag) that `url` served. */
export function heldBy(outcome: QueryOutcome, url: string, me: string, kind: number, d?: string): Event | undefined {
  return outcome.events
    .filter((e) => e.pubkey === me && e.kind === kind && outcome.seenOn.get(e.id)?.has(url))
    .filter((e) => d === undefined || e.tags.some((t) => t[0] === 'd' && t[1] === d))
    .sort((a, b) => b.created_at - a.created_at)[0]
}
