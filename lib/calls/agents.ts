// Who is online: agents whose announcement is within the window and has not expired (NIP-40),
// newest first, never ourselves.
import { stateError, usageError } from '../errors.ts'
import { npub, parsePubkey } from '../nostr/keys.ts'
import { nameLook } from '../sanitize.ts'
import { knownKeys } from '../store/peers.ts'
import type { AgentRecord, State } from '../store/schema.ts'

interface OnlineAgent extends AgentRecord {
  /** another key announces the same name, or one that looks the same (online, or a key we know
   *  offline): never merged, shown per key */
  nameShared: boolean
}

export function onlineAgents(state: State, me: string, now: number, window: number): OnlineAgent[] {
  const agents = Object.values(state.agents)
    .filter((a) => a.pubkey !== me && a.lastSeen >= now - window && (a.expiresAt === undefined || a.expiresAt > now))
    .sort((a, b) => b.lastSeen - a.lastSeen)
  const online = new Set(agents.map((a) => a.pubkey))
  const count = new Map<string, number>()
  for (const a of [...agents, ...knownAgents(state, me).filter((k) => !online.has(k.pubkey))])
    count.set(nameLook(a.name), (count.get(nameLook(a.name)) ?? 0) + 1)
  return agents.map((a) => ({ ...a, nameShared: (count.get(nameLook(a.name)) ?? 0) > 1 }))
}

/** `list --find`: the words of `find` (split on spaces and commas), each of which must appear,
 *  case-insensitively, in the agent's name, about or one of its capabilities. */
export function findAgents<T extends AgentRecord>(agents: T[], find: string): T[] {
  const words = find
    .toLowerCase()
    .split(/[\s,]+/)
    .filter(Boolean)
  return agents.filter((a) => {
    const fields = [a.name, a.about, ...(a.capabilities ?? [])].map((f) => f.toLowerCase())
    return words.every((w) => fields.some((f) => f.includes(w)))
  })
}

/** An agent whose announcement says it speaks no NIP-17: one of the original skill (nostr/legacy.ts). */
export const speaksOnlyNip04 = (agent: AgentRecord | undefined): boolean => agent?.nip17 === false

/** The hex key an agent argument names: an npub, nprofile or hex key, or a name from `list`. */
export function resolveAgent(state: State, arg: string, me: string, now: number, window: number): string {
  const key = parsePubkey(arg)
  if (key) {
    if (key === me) throw usageError('call-self', 'that is this agent itself')
    return key
  }
  if (/^(npub1|nprofile1)/.test(arg) || /^[0-9a-f]{20,}$/i.test(arg)) {
    throw usageError('bad-npub', `"${arg}" is not a valid npub, nprofile or hex key`)
  }
  if (!nameLook(arg)) throw usageError('bad-agent', 'name the agent to call: an npub, or a name from `list`')
  const named = (agents: AgentRecord[]) => agents.filter((a) => nameLook(a.name) === nameLook(arg))
  // a key we know keeps its name, online or not, whoever else announces it now
  const known = named(knownAgents(state, me))
  const online = named(onlineAgents(state, me, now, window))
  const matches = known.length ? known : online.length ? online : named(Object.values(state.agents).filter((a) => a.pubkey !== me))
  if (matches.length === 1) return matches[0].pubkey
  if (matches.length > 1) {
    throw stateError('ambiguous-agent', `${matches.length} keys use the name "${arg}": ${matches.map((a) => npub(a.pubkey)).join(', ')}`)
  }
  throw stateError('unknown-agent', `no agent named "${arg}" is known`)
}

/** The announcements of the keys we know (called, in an answered call with us, or allowed). */
function knownAgents(state: State, me: string): AgentRecord[] {
  const known = knownKeys(state)
  return Object.values(state.agents).filter((a) => a.pubkey !== me && known.has(a.pubkey))
}
