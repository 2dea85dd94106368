// Calls, messages and queued items as the contract shows them (CLI.md `Call`, `Message`, `outbox`).

import { npub } from '../nostr/keys.ts'
import { TAG } from '../nostr/kinds.ts'
import type { CallRecord, FileInfo, OutboxEntry, State, TranscriptEntry } from '../store/schema.ts'

export interface CallView {
  id: string
  peer: { npub: string; name: string }
  topic: string
  direction: CallRecord['direction']
  state: CallRecord['state']
  createdAt: number
  startedAt: number | null
  endedAt: number | null
  reason: string | null
  /** held over NIP-04 with an agent of the original skill (config legacy on) */
  legacy?: true
}

export interface MessageView {
  from: string
  text: string
  at: number
  file?: FileInfo
  /** a decision handed to a human (ours or the peer's), not a message */
  escalation?: true
}

export const peerName = (state: State, pubkey: string): string => state.agents[pubkey]?.name ?? ''

/** npub → name of every agent we know, for plain output. */
export const agentNames = (state: State): Map<string, string> => new Map(Object.values(state.agents).map((a) => [npub(a.pubkey), a.name]))

export function callView(call: CallRecord, state: State): CallView {
  return {
    id: call.id,
    peer: { npub: npub(call.peer), name: peerName(state, call.peer) },
    topic: call.topic,
    direction: call.direction,
    state: call.state,
    createdAt: call.createdAt,
    startedAt: call.startedAt ?? null,
    endedAt: call.endedAt ?? null,
    reason: call.reason ?? null,
    ...(call.legacy ? { legacy: call.legacy } : {}),
  }
}

export const messageView = (m: TranscriptEntry): MessageView => ({
  from: npub(m.from),
  text: m.text,
  at: m.at,
  ...(m.file ? { file: m.file } : {}),
  ...(m.escalation ? { escalation: true as const } : {}),
})

/** A queued item, as `status` and `outbox` show it: `waiting` is retried by later runs,
 *  `failed` was given up (`gaveUp` says why) and stays until dropped. */
export function outboxView(e: OutboxEntry) {
  return {
    id: e.id,
    callId: e.callId,
    peer: npub(e.peer),
    type: e.file ? 'file' : (e.rumor?.tags.find((t) => t[0] === TAG.p2p)?.[1] ?? 'dm'),
    queuedAt: e.queuedAt,
    attempts: e.attempts,
    lastError: e.lastError ?? null,
    state: e.gaveUp ? ('failed' as const) : ('waiting' as const),
    nextAttemptAt: e.nextAttemptAt ?? null,
    gaveUp: e.gaveUp?.why ?? null,
    ...(e.file ? { file: { name: e.file.name, chunksSent: e.file.sent?.length ?? 0 } } : {}),
  }
}

/** Where our announcement is visible now: the relays whose copy under `name` has not expired,
 *  and until when the last of them holds it (null when none does). */
export function visibility(state: State, name: string, now: number): { name: string; relays: string[]; visibleUntil: number | null } {
  const held = state.ownPresence?.name === name ? Object.entries(state.ownPresence.relays).filter(([, until]) => until > now) : []
  return { name, relays: held.map(([url]) => url), visibleUntil: held.length ? Math.max(...held.map(([, until]) => until)) : null }
}
