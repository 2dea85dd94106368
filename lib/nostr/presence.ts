// Presence: kind 30078 (NIP-78 addressable app data), tags d=<agentId> and t=openclaw-p2p, a
// `t` per search token (relays index them: discovery asks for matches, not for everyone),
// plaintext JSON content: the original p2p-comm skill's format, so its agents and ours see each
// other, with our fields added; a NIP-40 expiration so relays drop it when the agent goes quiet.
import type { Event, EventTemplate } from 'nostr-tools/pure'
import { MAX_ABOUT, MAX_CAPABILITIES, MAX_CAPABILITY, MAX_NAME, MAX_SEARCH_TAGS, MAX_SEARCH_TOKEN, MAX_VERSION } from '../limits.ts'
import { singleLine } from '../sanitize.ts'
import { PRESENCE_EXPIRY_S, PRESENCE_REFRESH_S } from '../timing.ts'
import { CLIENT, DELETION_KIND, expirationOf, PRESENCE_KIND, PRESENCE_TOPIC, PROFILE_KIND, tagValue } from './kinds.ts'
import { sameSet } from './nip65.ts'

export interface Presence {
  agentId: string
  name: string
  about: string
  relays: string[]
  version: string
  /** what the agent does, as the original skill announces it (`config set capabilities`) */
  capabilities?: string[]
}

/** An announcement as read from a relay (kept as the agent's record: records written by
 *  older versions may lack `eventId` and `nip17`). */
export interface Announcement {
  pubkey: string
  /** the event it was read from */
  eventId?: string
  name: string
  about: string
  agentId: string
  lastSeen: number
  /** its NIP-40 expiration (Unix seconds): not online after it, whatever the window says */
  expiresAt?: number
  /** "p2p-comm <version>" when the announcer is one of ours */
  client?: string
  nip17?: boolean
  /** what it says it does (one line each, capped); absent in records of older versions */
  capabilities?: string[]
}

export function presenceEvent(p: Presence, now: number): EventTemplate {
  const content = {
    agentId: p.agentId,
    name: p.name,
    capabilities: p.capabilities ?? [],
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
      ...searchTokens([p.name, ...(p.capabilities ?? [])]).map((token) => ['t', token]),
      ['expiration', String(now + PRESENCE_EXPIRY_S)],
      ['alt', `p2p-comm agent presence: ${p.name}`],
    ],
    content: JSON.stringify(content),
  }
}

/** The search tokens of what an agent says it is (its name, then its capabilities): each in
 *  lower case, whole and word by word, at most MAX_SEARCH_TOKEN characters and MAX_SEARCH_TAGS in
 *  all. A relay matches a `#t` filter exactly, so `list --find` asks for its words as they are. */
export function searchTokens(values: string[]): string[] {
  const tokens = values.flatMap((value) => {
    const whole = searchWord(value)
    return [whole, ...whole.split(/[^\p{L}\p{N}]+/u)]
  })
  const fit = tokens.filter((t) => t && t.length <= MAX_SEARCH_TOKEN && t !== PRESENCE_TOPIC)
  return [...new Set(fit)].slice(0, MAX_SEARCH_TAGS)
}

/** One word of a search, as search tokens are written. */
export const searchWord = (word: string): string => word.normalize('NFKC').toLowerCase().trim().replace(/\s+/g, ' ')

/** Reads an announcement from either implementation; null when it is not one. Peer text is
 *  kept on one line and capped. */
export function parsePresence(event: Event): Announcement | null {
  if (event.kind !== PRESENCE_KIND || !event.tags.some((t) => t[0] === 't' && t[1] === PRESENCE_TOPIC)) return null
  let content: Record<string, unknown> = {}
  try {
    const parsed = JSON.parse(event.content)
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) content = parsed
  } catch {
    // an announcement with unreadable content still says the key is online
  }
  const agentId = singleLine(content.agentId, MAX_NAME) || singleLine(tagValue(event, 'd'), MAX_NAME)
  const expiresAt = expirationOf(event)
  return {
    pubkey: event.pubkey,
    eventId: event.id,
    agentId,
    name: singleLine(content.name, MAX_NAME) || agentId,
    about: singleLine(content.about, MAX_ABOUT),
    lastSeen: event.created_at,
    ...(expiresAt !== undefined ? { expiresAt } : {}),
    ...(content.client === CLIENT ? { client: `${CLIENT} ${singleLine(content.version, MAX_VERSION)}`.trim() } : {}),
    nip17: Array.isArray(content.protocols) && content.protocols.includes('nip17'),
    capabilities: readCapabilities(content.capabilities),
  }
}

/** A peer's `capabilities`: strings only, one line each, capped in length and count. */
function readCapabilities(value: unknown): string[] {
  if (!Array.isArray(value)) return []
  const caps = value.map((c) => singleLine(c, MAX_CAPABILITY)).filter(Boolean)
  return [...new Set(caps)].slice(0, MAX_CAPABILITIES)
}

/** Does this relay's copy of our announcement still say what we would say, and is it fresh? */
export function presenceIsCurrent(held: Event | undefined, desired: Presence, now: number): boolean {
  if (!held || held.created_at <= now - PRESENCE_REFRESH_S || tagValue(held, 'd') !== desired.agentId) return false
  try {
    const c = JSON.parse(held.content)
    return (
      c.name === desired.name &&
      c.about === desired.about &&
      c.version === desired.version &&
      sameSet(c.relays ?? [], desired.relays) &&
      JSON.stringify(c.capabilities ?? []) === JSON.stringify(desired.capabilities ?? [])
    )
  } catch {
    return false
  }
}

/** A NIP-09 deletion of our announcements under names we no longer use (their `d` tags), so
 *  that a renamed agent leaves no second entry behind in other clients' lists. */
export function withdrawal(pubkey: string, oldAgentIds: string[], now: number): EventTemplate {
  return {
    kind: DELETION_KIND,
    created_at: now,
    tags: [...oldAgentIds.map((d) => ['a', `${PRESENCE_KIND}:${pubkey}:${d}`]), ['k', String(PRESENCE_KIND)]],
    content: 'renamed',
  }
}

/** Our NIP-01 profile (kind 0), so that people's clients show a name rather than a bare npub,
 *  marked as a bot (NIP-24). */
export function profileEvent(p: Pick<Presence, 'name' | 'about'>, now: number): EventTemplate {
  return { kind: PROFILE_KIND, created_at: now, tags: [], content: JSON.stringify({ name: p.name, about: p.about, bot: true }) }
}

/** Does this relay's copy of our profile say what we would say? */
export function profileIsCurrent(held: Event | undefined, p: Pick<Presence, 'name' | 'about'>): boolean {
  if (!held) return false
  try {
    const c = JSON.parse(held.content)
    return c.name === p.name && c.about === p.about && c.bot === true
  } catch {
    return false
  }
}
