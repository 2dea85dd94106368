// The call state machine: pure functions of (state, what happened, now). Nothing here touches
// the network or the disk, so every transition is unit-tested directly.
//
//   outgoing: ringing → active | rejected | expired;   active → ended
//   incoming: incoming → active | rejected | expired;  active → ended
//
// At most `maxCalls` active calls at a time (1 unless configured), and one call per peer.
// Requests are answered within RING_TIMEOUT_S or expire on both sides; an active call with no
// message either way for the idle timeout ends (timeouts.ts). Events for unknown calls, from someone who is not the peer, or for finished calls
// are ignored; a message that overtakes the accept it follows still makes the call active.
// This file applies what arrives; actions.ts applies what our own commands do.

import { MAX_WAITING_CALLS } from '../limits.ts'
import { npub } from '../nostr/keys.ts'
import { checkProof } from '../nostr/owner-proof.ts'
import type { CallRecord, P2PEvent, State, TranscriptEntry } from '../store/schema.ts'
import { CALLER_CLOCK_SKEW_S, DEFAULT_IDLE_TIMEOUT_S, RING_TIMEOUT_S } from '../timing.ts'
import { escalationEntry, proofEntry } from './escalation.ts'
import type { Applied, Incoming } from './inputs.ts'
import { applyFromOwner, firstSight } from './owner.ts'
import { isKnown, type Policy, screen } from './policy.ts'
import { activeCalls, openCallWith, sentBeforeEnd, waitingCalls } from './queries.ts'
import { endIdleCalls, expireCalls } from './timeouts.ts'
import { addEntry } from './transcript.ts'

// Same-second rumors are applied in protocol order: a request before its accept, messages
// before the end.
const ORDER: Record<Incoming['msg']['type'], number> = {
  'call-request': 0,
  'call-accept': 1,
  'call-reject': 1,
  message: 2,
  file: 2,
  escalation: 2,
  'owner-proof': 2,
  dm: 2,
  'call-end': 3,
}

/** `owner`: the hex key of this agent's human owner, whose plain DMs are answers to escalations;
 *  `rules`: who may reach us (`accept`, policy.ts), how many calls may be active at once
 *  (`maxCalls`, 1 by default: beyond, requests are declined as busy) and how long an active
 *  call may go silent (`idleS`, seconds). */
export function applyIncoming(
  state: State,
  items: Incoming[],
  me: string,
  now: number,
  owner?: string,
  rules: { accept?: Policy['accept']; maxCalls?: number; idleS?: number } = {},
): Applied {
  const out: Applied = { events: [], replies: [], finished: [], ignored: [], logged: new Map() }
  const sorted = [...items].sort((a, b) => a.at - b.at || ORDER[a.msg.type] - ORDER[b.msg.type] || (a.ms ?? 0) - (b.ms ?? 0))
  for (const item of sorted) {
    if (item.from === me) recordOwn(state, item, now)
    else if (item.from === owner && item.msg.type === 'dm')
      firstSight(state, item.id, now) && applyFromOwner(state, item, item.msg, now, out)
    else {
      const answered = out.replies.length
      applyFromPeer(state, item, now, out, { accept: rules.accept ?? 'anyone', owner }, rules.maxCalls ?? 1)
      if (item.legacy) answerLegacy(state, out, answered)
    }
  }
  expireCalls(state, now, out)
  endIdleCalls(state, me, now, rules.idleS ?? DEFAULT_IDLE_TIMEOUT_S, out)
  return out
}

/** Answers go back the way the message came; over NIP-04, whose DMs show relays our key
 *  writing to theirs, only to keys we know (a stranger's NIP-04 request gets no answer). */
function answerLegacy(state: State, out: Applied, from: number): void {
  for (const reply of out.replies.splice(from)) {
    if (isKnown(state, reply.peer)) out.replies.push({ ...reply, legacy: true })
    else
      out.ignored.push(
        `${reply.msg.type} ${reply.msg.callId} to ${reply.peer.slice(0, 12)}: not sent (no NIP-04 answer to a key we never talked to)`,
      )
  }
}

/** Why a call request from `from` is declined without ringing, if it is: one call per key,
 *  `maxCalls` active, or too many waiting. */
function declineWhy(state: State, from: string, now: number, maxCalls: number): string | undefined {
  const open = openCallWith(state, from, now)
  if (open) return `one call at a time: call ${open.id} with this agent is still open`
  if (activeCalls(state).length >= maxCalls) return 'busy: in another call, try again later'
  if (waitingCalls(state, now).length >= MAX_WAITING_CALLS) return 'busy: too many calls waiting, try again later'
}

// each `return` below ends the handling of one item (the value returned means nothing)
function applyFromPeer(state: State, item: Incoming, now: number, out: Applied, policy: Policy, maxCalls: number) {
  const { msg, from, at } = item
  const event = (type: P2PEvent['type'], callId: string | null, extra: Partial<P2PEvent> = {}): P2PEvent => {
    // who it is by name too (as last announced; empty when never heard of), for hooks and agents
    const e: P2PEvent = { type, callId, from: npub(from), name: state.agents[from]?.name ?? '', at, ...extra }
    out.events.push(e)
    return e
  }
  const ignore = (why: string): void =>
    void out.ignored.push(`${msg.type} ${'callId' in msg ? msg.callId : ''} from ${from.slice(0, 12)}: ${why}`)

  if (msg.type === 'dm' || msg.type === 'call-request') {
    // blocked keys, and strangers the accept policy keeps out, go no further
    const refused = screen(state, from, msg, now, policy)
    if (refused?.reply) out.replies.push(refused.reply)
    if (refused) return ignore(refused.why)
  }
  if (msg.type === 'dm') {
    if (msg.kind !== undefined) return ignore('a reaction or file message from someone who is not the owner')
    if (msg.expiresAt !== undefined && msg.expiresAt <= now) return ignore('expired (NIP-40)')
    if (!firstSight(state, item.id, now)) return ignore('seen before (the same DM wrapped again)')
    return void event('direct-message', null, { text: msg.text })
  }
  if (msg.type === 'call-request') {
    if (state.calls[msg.callId]) return ignore('call id already in use')
    if (at < now - RING_TIMEOUT_S - CALLER_CLOCK_SKEW_S) {
      const reason = `too old: your request is dated ${now - at} s ago by our clock (check your clock, and call again)`
      out.replies.push({ peer: from, msg: { type: 'call-reject', callId: msg.callId, reason } })
      return ignore('older than the ring timeout (a replay, or too late): answered as too old')
    }
    if (state.earlyEnds[msg.callId]?.from === from) {
      delete state.earlyEnds[msg.callId]
      return ignore('its caller ended it before it arrived')
    }
    const declined = declineWhy(state, from, now, maxCalls)
    if (declined) {
      // no call record (any key can call): the answer is all it leaves, once per request
      if (!firstSight(state, item.id, now)) return ignore('seen before (declined already)')
      out.replies.push({ peer: from, msg: { type: 'call-reject', callId: msg.callId, reason: declined } })
      return ignore(`declined: ${declined}`)
    }
    // it rings for RING_TIMEOUT_S on our clock, whatever the caller's clock says
    const known = isKnown(state, from)
    state.calls[msg.callId] = newCall(msg.callId, from, msg.topic, 'incoming', 'incoming', now, now)
    if (item.legacy) state.calls[msg.callId].legacy = true
    // named as the request says (its caller's name now), else as last announced
    const name = msg.name ?? state.agents[from]?.name ?? ''
    return void event('call-request', msg.callId, { topic: msg.topic, name, about: state.agents[from]?.about ?? '', known })
  }

  const call = state.calls[msg.callId]
  if (!call && msg.type === 'call-end') {
    // it may have overtaken its request (another relay): remembered, so that the request is not taken
    state.earlyEnds[msg.callId] = { from, seenAt: now }
    return ignore('unknown call (remembered, in case its request comes later)')
  }
  if (!call) return ignore('unknown call')
  if (call.peer !== from) return ignore('sender is not in this call')
  if (Boolean(item.legacy) !== Boolean(call.legacy)) return ignore('came by the other protocol than its call (NIP-04 or NIP-17)')
  const touch = (next: CallRecord['state']) => {
    call.state = next
    call.updatedAt = now
  }
  switch (msg.type) {
    case 'call-accept':
      if (call.direction !== 'outgoing') return ignore('not our call to be accepted')
      if (call.state === 'expired') {
        out.replies.push({ peer: from, msg: { type: 'call-end', callId: call.id } })
        return
      }
      if (call.state !== 'ringing') return ignore(`call is ${call.state}`)
      touch('active')
      call.startedAt = at
      return void event('call-accepted', call.id)
    case 'call-reject':
      if (call.direction !== 'outgoing' || call.state !== 'ringing') return ignore(`call is ${call.state}`)
      touch('rejected')
      call.reason = msg.reason
      return void event('call-rejected', call.id, { reason: msg.reason })
    case 'escalation': {
      if (call.state !== 'active') return ignore(`call is ${call.state}`)
      if (!addEntry(state, call, { id: item.id, from, at, ms: item.ms, ...escalationEntry(msg.reason) }, now)) return ignore('seen before')
      return void event('escalation', call.id, { reason: msg.reason })
    }
    case 'owner-proof': {
      if (call.state !== 'active') return ignore(`call is ${call.state}`)
      const { owner, ...check } = checkProof(msg.proof, from, msg.sealSigned === true, call.id)
      if (!addEntry(state, call, { id: item.id, from, at, ms: item.ms, text: proofEntry(check) }, now)) return ignore('seen before')
      return void event('owner-proof', call.id, { ...check, owner: owner ? npub(owner) : '' })
    }
    case 'message':
    case 'file': {
      if (call.state === 'ringing') {
        // the accept is late or lost: the peer talking means the call is on
        touch('active')
        call.startedAt = at
        event('call-accepted', call.id)
      }
      const late = sentBeforeEnd(call, at)
      if (call.state !== 'active' && !late) return ignore(`call is ${call.state}`)
      const entry: TranscriptEntry =
        msg.type === 'message'
          ? { id: item.id, from, at, ms: item.ms, text: msg.text }
          : { id: msg.fileId, from, at, ms: item.ms, text: msg.file.name, file: msg.file }
      if (!addEntry(state, call, entry, now)) return ignore('seen before')
      if (late) out.finished.push(call.id)
      if (msg.type === 'file') return void event('file', call.id, { file: msg.file })
      return void out.logged.set(event('message', call.id, { text: msg.text }), entry.id)
    }
    case 'call-end':
      if (call.state !== 'active' && call.state !== 'ringing' && call.state !== 'incoming') return ignore(`call is ${call.state}`)
      touch('ended')
      call.endedAt = at
      call.endedBy = from
      if (call.messageCount > 0 || call.startedAt !== undefined) out.finished.push(call.id)
      return void event('call-ended', call.id)
  }
}

/** Our own messages, from the copies NIP-17 wraps to the sender: fills gaps in transcripts
 *  (another run of ours sent them) without ever changing a call's state. */
function recordOwn(state: State, item: Incoming, now: number): void {
  if (item.msg.type !== 'message') return
  const call = state.calls[item.msg.callId]
  if (call) addEntry(state, call, { id: item.id, from: item.from, at: item.at, ms: item.ms, text: item.msg.text }, now)
}

export function newCall(
  id: string,
  peer: string,
  topic: string,
  direction: CallRecord['direction'],
  state: CallRecord['state'],
  at: number,
  now: number,
): CallRecord {
  return { id, peer, topic, direction, state, createdAt: at, updatedAt: now, messageCount: 0 }
}
