// Calls and their entries as the store keeps them: an active call's record to put in a state,
// and a call's entries as the store reads them: from an agent's call log on disk, and those a
// change queued and not yet written (unit tests apply changes without a store).
import { join } from 'node:path'
import { CallLog } from '../../lib/store/calllog.ts'
import type { CallRecord, State, TranscriptEntry } from '../../lib/store/schema.ts'

/** An active incoming call with `peer`, made at `at`, with nothing in its log yet. */
export const activeCall = (id: string, peer: string, at: number): CallRecord => ({
  id,
  peer,
  topic: 't',
  direction: 'incoming',
  state: 'active',
  createdAt: at,
  updatedAt: at,
  messageCount: 0,
})

export const entriesOf = (state: State, callId: string, home = '/nonexistent'): TranscriptEntry[] =>
  new CallLog({ dir: home, calls: join(home, 'p2p-calls') }).entries(state, callId)
