// Questions about the calls in the state, for the machine, our own actions and the commands.
import type { CallRecord, State } from '../store/schema.ts'

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
