// Calls as the contract shows them (CLI.md `Call`).
import type { State, CallRecord } from './state.ts'
import { npub } from './pubkey.ts'

export interface CallView {
  id: string
  peer: { npub: string; name: string }
  topic: string
  direction: CallRecord['direction']
  state: CallRecord['state']
}

export function callView(call: CallRecord, state: State): CallView {
  return {
    id: call.id,
    peer: { npub: npub(call.peer), name: state.agents[call.peer]?.name ?? '' },
    topic: call.topic,
    direction: call.direction,
    state: call.state,
  }
}

export const activeCall = (state: State): CallRecord | undefined =>
  Object.values(state.calls).find((c) => c.state === 'active' || c.state === 'ringing')

export const incomingCalls = (state: State): CallRecord[] =>
  Object.values(state.calls).filter((c) => c.state === 'incoming')
