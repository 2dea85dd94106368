// What a sync asks relays for, and how their answers fold into the state: pure functions of
// (state, relay results), so they are tested without a network.
import type { Filter } from 'nostr-tools/filter'
import { MAX_PRESENCE_EVENTS } from '../limits.ts'
import { GIFT_WRAP_KIND, INBOX_RELAYS_KIND, PRESENCE_KIND, PRESENCE_TOPIC, RELAY_LIST_KIND } from '../nostr/kinds.ts'
import { parsePresence } from '../nostr/presence.ts'
import type { QueryOutcome, RelayReport } from '../nostr/relay/pool.ts'
import { healthOf, type State } from '../store/schema.ts'
import { GIFT_WRAP_LOOKBACK_S, PRESENCE_OVERLAP_S, RESYNC_AFTER_S } from '../timing.ts'

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

export function foldSync(
  state: State,
  outcome: QueryOutcome,
  reports: RelayReport[],
  me: string,
  now: number,
  onlineWindow: number,
): SyncSummary {
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
    const health = healthOf(state, report.url)
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

/** Relays that connect but have not been read in full lately: worth waiting for. */
export function patientRelays(state: State, urls: string[], now: number): string[] {
  return urls.filter((url) => {
    const h = state.relayHealth[url]
    return h?.lastOk !== undefined && (h.lastSynced ?? 0) < now - RESYNC_AFTER_S
  })
}
