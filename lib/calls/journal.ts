// The journal: every contract Event (CLI.md) the state machine produced, numbered, so that
// `poll` prints each one once and `status` shows what no poll has printed yet.
import type { P2PEvent, State } from '../store/schema.ts'

/** Appends events to the journal that `poll` and `status` read. */
export function journal(state: State, events: P2PEvent[]): void {
  for (const event of events) state.journal.push({ seq: state.nextSeq++, event })
}

/** The events no `poll` has printed yet; with `claim`, marks them printed. */
export function unpolled(state: State, claim: boolean): P2PEvent[] {
  const fresh = state.journal.filter((j) => j.seq > state.cursor.polled).map((j) => j.event)
  if (claim) state.cursor.polled = state.nextSeq - 1
  return fresh
}
