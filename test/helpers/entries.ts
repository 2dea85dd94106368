// A call's entries as the store reads them: from an agent's call log on disk, and those a
// change queued and not yet written (unit tests apply changes without a store).
import { join } from 'node:path'
import { CallLog } from '../../lib/store/calllog.ts'
import type { State, TranscriptEntry } from '../../lib/store/schema.ts'

export const entriesOf = (state: State, callId: string, home = '/nonexistent'): TranscriptEntry[] =>
  new CallLog(join(home, 'p2p-calls')).entries(state, callId)
