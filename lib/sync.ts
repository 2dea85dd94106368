// Folding what relays returned into the state: pure functions of (state, relay results), so
// they are tested without a network.
import type { Event } from 'nostr-tools/pure'
import type { Filter } from 'nostr-tools/filter'
import type { State } from './state.ts'
import type { QueryOutcome, RelayReport } from './relay/session.ts'
import { PRESENCE_KIND, PRESENCE_TOPIC, RELAY_LIST_KIND, INBOX_RELAYS_KIND, parsePresence } from './presence.ts'

/** Presence is re-read this far behind the cursor, for events that reached a relay late. */
const PRESENCE_OVERLAP_S = 120
const MAX_PRESENCE_EVENTS = 1_000

export function syncFilters(state: State, me: string, now: number, onlineWindow: number): Filter[] {
  const cursor = state.cursor.presenceWindow >= onlineWindow ? state.cursor.presence - PRESENCE_OVERLAP_S : 0
  const since = Math.max(now - onlineWindow, cursor)
  return [
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
      delete health.lastError
    } else {
      health.lastError = report.error ?? 'unreachable'
    }
  }
  // Only a relay that said EOSE has told us everything: without one, keep the old cursor.
  if (outcome.results.some((r) => r.complete)) state.cursor = { ...state.cursor, presence: now, presenceWindow: onlineWindow }
  return { newAgents }
}

/** The newest of our own events of `kind` (and d tag) that `url` served. */
export function heldBy(outcome: QueryOutcome, url: string, me: string, kind: number, d?: string): Event | undefined {
  return outcome.events
    .filter((e) => e.pubkey === me && e.kind === kind && outcome.seenOn.get(e.id)?.has(url))
    .filter((e) => d === undefined || e.tags.some((t) => t[0] === 'd' && t[1] === d))
    .sort((a, b) => b.created_at - a.created_at)[0]
}
