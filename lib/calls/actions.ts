// What our own commands do to calls: pure functions of (state, now), like machine.ts. A
// refusal is a P2PError with a code and the facts; the command line adds what to do next.
import { stateError } from '../errors.ts'
import { npub } from '../nostr/keys.ts'
import type { CallRecord, State } from '../store/schema.ts'
import type { Reply } from './inputs.ts'
import { newCall } from './machine.ts'
import { isKnown } from './policy.ts'
import { activeCalls, incomingCalls, liveCall, liveCalls, openCallWith } from './queries.ts'
import { expireCalls } from './timeouts.ts'

const notInCall = () => stateError('no-active-call', 'there is no active call')

/** Refuses when `maxCalls` calls are live already (with one: "already in call …", as ever). */
function requireRoom(state: State, maxCalls: number, withPeer: boolean): void {
  const live = liveCalls(state)
  if (live.length < maxCalls) return
  if (live.length === 1)
    throw stateError('already-in-call', `already in call ${live[0].id} (${live[0].state})${withPeer ? ` with ${npub(live[0].peer)}` : ''}`)
  throw stateError('already-in-call', `already in ${live.length} calls (${ids(live)}), the most maxCalls allows`)
}

const ids = (calls: CallRecord[]) => calls.map((c) => c.id).join(', ')

/** The call a command acts on, among `candidates`: the one named (`--call`), or the only one.
 *  Never a guess: with several and none named, the refusal lists their ids. */
function pickCall(candidates: CallRecord[], callId: string | undefined): CallRecord | undefined {
  if (callId !== undefined) {
    const call = candidates.find((c) => c.id === callId)
    if (call) return call
    const open = candidates.length ? ` (active: ${ids(candidates)})` : ''
    throw stateError('no-such-active-call', `call ${callId} is not active${open}`)
  }
  if (candidates.length > 1)
    throw stateError('several-calls-active', `${candidates.length} calls are active: ${ids(candidates)}; name one with --call <id>`)
  return candidates[0]
}

/** `legacy`: held over NIP-04 with an agent of the original skill. */
export function startCall(
  state: State,
  peer: string,
  topic: string,
  callId: string,
  now: number,
  maxCalls = 1,
  legacy = false,
): CallRecord {
  requireRoom(state, maxCalls, true)
  expireCalls(state, now)
  const open = openCallWith(state, peer, now)
  if (open)
    throw stateError('already-in-call', `already in call ${open.id} (${open.state}) with ${npub(peer)}: one call at a time with an agent`)
  const call = newCall(callId, peer, topic, 'outgoing', 'ringing', now, now)
  if (legacy) call.legacy = true
  state.calls[callId] = call
  return call
}

/** Picks the waiting call to answer: the one named, or the only one. */
function waitingCall(state: State, callId: string | undefined, now: number): CallRecord {
  expireCalls(state, now)
  const waiting = incomingCalls(state)
  if (callId) {
    const call = state.calls[callId]
    if (call?.state === 'incoming') return call
    throw stateError('no-such-call', `no incoming call ${callId} is waiting`)
  }
  if (waiting.length === 1) return waiting[0]
  if (waiting.length === 0) throw stateError('no-incoming-call', 'no incoming call is waiting')
  throw stateError('several-calls-waiting', `${waiting.length} calls are waiting: ${waiting.map((c) => c.id).join(', ')}`)
}

/** Accepts: the call becomes active; when that leaves no room for another (`maxCalls`), the
 *  other waiting calls are declined as busy (over NIP-04 only to keys we know: machine.ts). */
export function acceptCall(state: State, callId: string | undefined, now: number, maxCalls = 1): { call: CallRecord; replies: Reply[] } {
  requireRoom(state, maxCalls, false)
  const call = waitingCall(state, callId, now)
  call.state = 'active'
  call.startedAt = now
  call.updatedAt = now
  const replies: Reply[] = [{ peer: call.peer, msg: { type: 'call-accept', callId: call.id } }]
  if (liveCalls(state).length < maxCalls) return { call, replies }
  for (const other of incomingCalls(state)) {
    other.state = 'rejected'
    other.reason = 'busy: took another call'
    other.updatedAt = now
    if (!other.legacy || isKnown(state, other.peer))
      replies.push({ peer: other.peer, msg: { type: 'call-reject', callId: other.id, reason: 'busy: took another call, try again later' } })
  }
  return { call, replies }
}

export function rejectCall(state: State, callId: string | undefined, reason: string, now: number): CallRecord {
  const call = waitingCall(state, callId, now)
  call.state = 'rejected'
  call.reason = reason
  call.updatedAt = now
  return call
}

/** The active call, for send and sendfile: the one named, or the only one. */
export function requireActive(state: State, now: number, callId?: string): CallRecord {
  expireCalls(state, now)
  const call = pickCall(activeCalls(state), callId)
  if (call) return call
  const ringing = liveCall(state)
  if (ringing) throw stateError('call-not-answered', `call ${ringing.id} has not been answered yet`)
  throw notInCall()
}

/** The active call an escalation is about, if any: the one named, or the only one. */
export function escalatedCall(state: State, callId?: string): CallRecord | undefined {
  return pickCall(activeCalls(state), callId)
}

/** Ends the active call, or cancels the ringing one (the one named, or the only one). When
 *  there is none because the peer ended the call we were in (since we last looked), says so,
 *  and which call it was. */
export function endCall(state: State, me: string, now: number, callId?: string): CallRecord {
  expireCalls(state, now)
  const call = pickCall(liveCalls(state), callId)
  if (!call) {
    const last = Object.values(state.calls).sort((a, b) => b.updatedAt - a.updatedAt)[0]
    if (last?.state === 'ended' && last.endedBy === last.peer) {
      const where = last.transcript ? `; its transcript is ${last.transcript}` : ''
      throw stateError('call-ended-by-peer', `call ${last.id} was already ended by the peer (${npub(last.peer)})${where}`)
    }
    throw notInCall()
  }
  call.state = 'ended'
  call.endedAt = now
  call.endedBy = me
  call.updatedAt = now
  return call
}
