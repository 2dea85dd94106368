// What our own commands do to calls: pure functions of (state, now), like machine.ts. A
// refusal is a P2PError with a code and the facts; the command line adds what to do next.
import { stateError } from '../errors.ts'
import { npub } from '../nostr/keys.ts'
import type { CallRecord, State } from '../store/schema.ts'
import { expireCalls, newCall, type Reply } from './machine.ts'
import { activeCall, incomingCalls, liveCall } from './queries.ts'

const notInCall = () => stateError('no-active-call', 'there is no active call')

export function startCall(state: State, peer: string, topic: string, callId: string, now: number): CallRecord {
  const live = liveCall(state)
  if (live) throw stateError('already-in-call', `already in call ${live.id} (${live.state}) with ${npub(live.peer)}`)
  expireCalls(state, now)
  const call = newCall(callId, peer, topic, 'outgoing', 'ringing', now, now)
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

/** Accepts: the call becomes active; other waiting calls are declined as busy. */
export function acceptCall(state: State, callId: string | undefined, now: number): { call: CallRecord; replies: Reply[] } {
  const live = liveCall(state)
  if (live) throw stateError('already-in-call', `already in call ${live.id} (${live.state})`)
  const call = waitingCall(state, callId, now)
  call.state = 'active'
  call.startedAt = now
  call.updatedAt = now
  const replies: Reply[] = [{ peer: call.peer, msg: { type: 'call-accept', callId: call.id } }]
  for (const other of incomingCalls(state)) {
    other.state = 'rejected'
    other.reason = 'busy: took another call'
    other.updatedAt = now
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

/** The active call, for send and sendfile. */
export function requireActive(state: State, now: number): CallRecord {
  expireCalls(state, now)
  const call = activeCall(state)
  if (call) return call
  const ringing = liveCall(state)
  if (ringing) throw stateError('call-not-answered', `call ${ringing.id} has not been answered yet`)
  throw notInCall()
}

/** Ends the active call, or cancels the ringing one. When there is none because the peer
 *  ended the call we were in (since we last looked), says so, and which call it was. */
export function endCall(state: State, me: string, now: number): CallRecord {
  expireCalls(state, now)
  const call = liveCall(state)
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
