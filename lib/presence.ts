// Presence and relay lists: what an agent announces about itself.
// - kind 30078 (NIP-78 addressable app data), tags d=<agentId> and t=openclaw-p2p, plaintext JSON
//   content: the original p2p-comm skill's format, so its agents and ours see each other, with
//   our fields added; a NIP-40 expiration so relays drop it when the agent goes quiet.
// - kind 10002 (NIP-65) and kind 10050 (NIP-17 inbox relays): where to reach this agent.
import type { Event, EventTemplate } from 'nostr-tools/pure'
import type { AgentRecord } from './state.ts'

export const PRESENCE_KIND = 30078
export const PRESENCE_TOPIC = 'openclaw-p2p'
export const RELAY_LIST_KIND = 10002
export const INBOX_RELAYS_KIND = 10050
/** Re-announce when the newest announcement a relay holds is this old. */
export const PRESENCE_REFRESH_S = 120
/** NIP-40: relays may drop an announcement this long after it was made. */
export const PRESENCE_EXPIRY_S = 600
export const CLIENT = 'p2p-comm'

export interface Presence {
  agentId: string
  name: string
  about: string
  relays: string[]
  version: string
}

export function presenceEvent(p: Presence, now: number): EventTemplate {
  const content = {
    agentId: p.agentId,
    name: p.name,
    capabilities: [],
    timestamp: now * 1000,
    about: p.about,
    client: CLIENT,
    version: p.version,
    protocols: ['nip17'],
    relays: p.relays,
  }
  return {
    kind: PRESENCE_KIND,
    created_at: now,
    tags: [
      ['d', p.agentId],
      ['t', PRESENCE_TOPIC],
      ['expiration', String(now + PRESENCE_EXPIRY_S)],
      ['alt', `p2p-comm agent presence: ${p.name}`],
    ],
    content: JSON.stringify(content),
  }
}

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

const tag = (event: Event, name: string) => event.tags.find((t) => t[0] === name)?.[1]

/** Peer text is capped and stripped of control characters before it is stored. */
const clean = (value: unknown, max: number): string =>
  typeof value === 'string' ? value.replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ').trim().slice(0, max) : ''

/** Reads an announcement from either implementation; null when it is not one. */
export function parsePresence(event: Event): AgentRecord | null {
  if (event.kind !== PRESENCE_KIND || !event.tags.some((t) => t[0] === 't' && t[1] === PRESENCE_TOPIC)) return null
  let content: Record<string, unknown> = {}
  try {
    const parsed = JSON.parse(event.content)
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) content = parsed
  } catch {
    // an announcement with unreadable content still says the key is online
  }
  const agentId = clean(content.agentId, 64) || clean(tag(event, 'd'), 64)
  return {
    pubkey: event.pubkey,
    eventId: event.id,
    agentId,
    name: clean(content.name, 64) || agentId,
    about: clean(content.about, 500),
    lastSeen: event.created_at,
    ...(content.client === CLIENT ? { client: `${CLIENT} ${clean(content.version, 20)}`.trim() } : {}),
    nip17: Array.isArray(content.protocols) && content.protocols.includes('nip17'),
  }
}

const sameSet = (a: string[], b: string[]) => a.length === b.length && a.every((x) => b.includes(x))

/** Does this relay's copy of our announcement still say what we would say, and is it fresh? */
export function presenceIsCurrent(held: Event | undefined, desired: Presence, now: number): boolean {
  if (!held || held.created_at <= now - PRESENCE_REFRESH_S || tag(held, 'd') !== desired.agentId) return false
  try {
    const c = JSON.parse(held.content)
    return c.name === desired.name && c.about === desired.about && c.version === desired.version && sameSet(c.relays ?? [], desired.relays)
  } catch {
    return false
  }
}

/** Does this relay's copy of a relay list (10002 or 10050) name exactly these relays? */
export function relayListIsCurrent(held: Event | undefined, relays: string[]): boolean {
  if (!held) return false
  const tagName = held.kind === RELAY_LIST_KIND ? 'r' : 'relay'
  return sameSet(held.tags.filter((t) => t[0] === tagName).map((t) => t[1]), relays)
}
