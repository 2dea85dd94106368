// Questions about the calls in the state, for the machine, our own actions and the commands.
import type { CallRecord, State } from '../store/schema.ts'
import { RING_TIMEOUT_S } from '../timing.ts'

const isLive = (c: CallRecord) => c.state === 'active' || c.state === 'ringing'
/** Sent before the call's end (dated at or before it): kept, though it arrives after the end. */
export const sentBeforeEnd = (c: CallRecord, at: number) => c.state === 'ended' && c.endedAt !== undefined && at <= c.endedAt
/** Whether a message or file dated `at` still belongs in the call. */
export const takesTalk = (c: CallRecord, at: number): boolean => isLive(c) || sentBeforeEnd(c, at)
/** The call being talked in (accepted, not ended), if any. */
export const activeCall = (state: State): CallRecord | undefined => Object.values(state.calls).find((c) => c.state === 'active')
/** The call we are in or are placing: active, or ringing (ours, not answered yet). */
export const liveCall = (state: State): CallRecord | undefined => Object.values(state.calls).find(isLive)
/** Every call being talked in (several when `maxCalls` > 1), oldest first. */
export const activeCalls = (state: State): CallRecord[] => byAge(Object.values(state.calls).filter((c) => c.state === 'active'))
/** Every call we are in or are placing, oldest first. */
export const liveCalls = (state: State): CallRecord[] => byAge(Object.values(state.calls).filter(isLive))
const byAge = (calls: CallRecord[]) => calls.sort((a, b) => a.createdAt - b.createdAt)
export const incomingCalls = (state: State): CallRecord[] =>
  Object.values(state.calls)
    .filter((c) => c.state === 'incoming')
    .sort((a, b) => a.createdAt - b.createdAt)
/** A request (ours or the peer's) that has rung longer than RING_TIMEOUT_S on our clock. */
export const ringOver = (c: CallRecord, now: number): boolean => c.createdAt < now - RING_TIMEOUT_S
/** Incoming calls still waiting for our answer (those past the ring timeout expire next). */
export const waitingCalls = (state: State, now: number): CallRecord[] => incomingCalls(state).filter((c) => !ringOver(c, now))
/** The call `key` holds with us (live, or waiting for our answer), if any: one at a time. */
export const openCallWith = (state: State, key: string, now: number): CallRecord | undefined =>
  Object.values(state.calls).find((c) => c.peer === key && (isLive(c) || (c.state === 'incoming' && !ringOver(c, now))))
/** The peers a command about call `callId` (or, unnamed, about any open call) may write to:
 *  their relay lists are looked up in the sync's flight (session/deliver.ts lookAhead). */
export const peersOfCalls = (state: State, callId?: string): string[] =>
  Object.values(state.calls)
    .filter((c) => (callId ? c.id === callId : isLive(c) || c.state === 'incoming'))
    .map((c) => c.peer)
