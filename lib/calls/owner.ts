// What the agent's human owner sends: answers to escalations as text, reactions or files,
// from any NIP-17 client (their phone).
import type { PersonalDm } from '../nostr/dm.ts'
import { npub } from '../nostr/keys.ts'
import type { State } from '../store/schema.ts'
import type { Applied, Incoming } from './inputs.ts'
import { activeCalls } from './queries.ts'
import { appendEntry } from './transcript.ts'

/** The owner's words, reaction or file: linked to the escalation it answers (its `e` tag), or
 *  else the latest, and added to the transcript of the call that escalation came from while it
 *  is active (unlinked, with one call active: that call's). Its seal is kept for `share`. A
 *  message that asks to disappear (NIP-40) is journalled with its expiry, and kept nowhere else. */
export function applyFromOwner(state: State, item: Incoming, msg: PersonalDm, now: number, out: Applied): void {
  if (msg.expiresAt !== undefined && msg.expiresAt <= now) return void out.ignored.push('owner message: expired (NIP-40)')
  const answered = msg.replyTo ? state.escalations.find((e) => e.id === msg.replyTo) : undefined
  // a reply to something else of ours (a note) answers no escalation; only an unlinked one is
  // taken as an answer to the latest
  const escalation = msg.replyTo ? answered : state.escalations.at(-1)
  const active = activeCalls(state)
  const inCall = answered
    ? active.find((c) => c.id === answered.callId)
    : active.length === 1
      ? active[0]
      : active.find((c) => c.id === escalation?.callId)
  const kind = msg.kind ?? 14
  const text = kind === 7 ? `reacted ${msg.text}` : kind === 15 ? `sent a file: ${msg.text}` : msg.text
  if (inCall && msg.expiresAt === undefined) appendEntry(state, inCall, { id: item.id, from: item.from, at: item.at, ms: item.ms, text })
  // kept as it came, for `share` to show a peer (bounded by store/state.ts)
  if (msg.seal && msg.expiresAt === undefined) {
    state.ownerMessages ??= []
    state.ownerMessages.push({ id: item.id, at: item.at, seal: msg.seal, ...(msg.replyTo ? { replyTo: msg.replyTo } : {}) })
  }
  out.events.push({
    id: item.id,
    type: 'owner-message',
    callId: answered ? answered.callId : (inCall?.id ?? escalation?.callId ?? null),
    from: npub(item.from),
    name: state.agents[item.from]?.name ?? 'owner',
    at: item.at,
    text: msg.text,
    kind,
    ...(kind === 7 && msg.replyTo ? { reactsTo: msg.replyTo } : {}),
    ...(msg.file ? { file: msg.file } : {}),
    ...(msg.expiresAt !== undefined ? { expiresAt: msg.expiresAt } : {}),
    ...(escalation ? { escalationId: escalation.id } : {}),
  })
}

/** Whether a DM is new (by rumor id), remembering it: wrap ids alone do not tell, since a client
 *  may wrap one rumor twice. */
export function firstSight(state: State, rumorId: string, now: number): boolean {
  return state.rumorIds.add(rumorId, now)
}
