// NIP-65 relay lists (kind 10002) and their NIP-17 twin, the DM inbox list (kind 10050): what
// we publish about where to reach us, and where a peer reads.
import type { Event, EventTemplate } from 'nostr-tools/pure'
import { MAX_PEER_RELAYS } from '../limits.ts'
import { INBOX_RELAYS_KIND, newest, RELAY_LIST_KIND } from './kinds.ts'
import { validRelayUrls } from './relay-url.ts'

export type InboxSource = 'nip17' | 'nip65'

export const relayListEvent = (relays: string[], now: number): EventTemplate => ({
  kind: RELAY_LIST_KIND,
  created_at: now,
  tags: relays.map((url) => ['r', url]),
  content: '',
})

export const inboxRelaysEvent = (relays: string[], now: number): EventTemplate => ({
  kind: INBOX_RELAYS_KIND,
  created_at: now,
  tags: relays.map((url) => ['relay', url]),
  content: '',
})

/** Whether two lists hold the same items, in any order. */
export const sameSet = (a: string[], b: string[]) => a.length === b.length && a.every((x) => b.includes(x))

/** Does this relay's copy of a relay list (10002 or 10050) name exactly these relays? */
export function relayListIsCurrent(held: Event | undefined, relays: string[]): boolean {
  if (!held) return false
  const tagName = held.kind === RELAY_LIST_KIND ? 'r' : 'relay'
  return sameSet(
    held.tags.filter((t) => t[0] === tagName).map((t) => t[1]),
    relays,
  )
}

/** The relays a peer reads DMs from: its kind 10050 list (NIP-17), else its NIP-65 read relays. */
export function inboxFromLists(events: Event[], peer: string): { relays: string[]; source: InboxSource } | null {
  const urls = (event: Event | undefined, keep: (t: string[]) => boolean) =>
    event
      ? validRelayUrls(
          event.tags.filter((t) => typeof t[1] === 'string' && keep(t)).map((t) => t[1]),
          MAX_PEER_RELAYS,
        )
      : []
  const inbox = urls(
    newest(events, (e) => e.pubkey === peer && e.kind === INBOX_RELAYS_KIND),
    (t) => t[0] === 'relay',
  )
  if (inbox.length) return { relays: inbox, source: 'nip17' }
  const reads = urls(
    newest(events, (e) => e.pubkey === peer && e.kind === RELAY_LIST_KIND),
    (t) => t[0] === 'r' && (t[2] === undefined || t[2] === 'read'),
  )
  return reads.length ? { relays: reads, source: 'nip65' } : null
}
