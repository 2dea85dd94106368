// What time does to calls, on our clock: a request not answered within RING_TIMEOUT_S expires,
// and an active call with no message either way for the idle timeout (`config set
// idleTimeout`) ends, so that a silent peer cannot hold a call slot for ever.
import { npub } from '../nostr/keys.ts'
import type { State } from '../store/schema.ts'
import { RING_TIMEOUT_S } from '../timing.ts'
import type { Applied } from './inputs.ts'
import { activeCalls, ringOver } from './queries.ts'

export function expireCalls(state: State, now: number, out?: Applied): void {
  for (const call of Object.values(state.calls)) {
    if ((call.state !== 'ringing' && call.state !== 'incoming') || !ringOver(call, now)) continue
    call.state = 'expired'
    call.updatedAt = now
    if (call.direction === 'outgoing') {
      out?.events.push({
        type: 'call-rejected',
        callId: call.id,
        from: npub(call.peer),
        name: state.agents[call.peer]?.name ?? '',
        at: now,
        reason: `no answer within ${RING_TIMEOUT_S / 60} minutes`,
        expired: true,
      })
    }
  }
}

/** Ends the active calls in which nothing was said either way for `idleS` seconds (a call's
 *  `updatedAt` moves with every message, file and escalation, ours or the peer's): the peer is
 *  told, the transcript written, and a `call-ended` event says why. */
export function endIdleCalls(state: State, me: string, now: number, idleS: number, out: Applied): void {
  for (const call of activeCalls(state)) {
    if (call.updatedAt > now - idleS) continue
    const reason = `idle: no message either way for ${idleS % 60 ? `${idleS} seconds` : `${idleS / 60} minutes`}`
    Object.assign(call, { state: 'ended', endedAt: now, endedBy: me, updatedAt: now, reason })
    out.finished.push(call.id)
    out.replies.push({ peer: call.peer, msg: { type: 'call-end', callId: call.id }, ...(call.legacy ? { legacy: call.legacy } : {}) })
    out.events.push({
      type: 'call-ended',
      callId: call.id,
      from: npub(call.peer),
      name: state.agents[call.peer]?.name ?? '',
      at: now,
      reason,
    })
  }
}
