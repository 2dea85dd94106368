// The journal: every contract Event (CLI.md) the state machine produced, numbered, so that
// `poll` prints each one once and `status` shows what no poll has printed yet. A poll leases
// the events it is about to print and marks them printed only once they were printed (and their
// hook ran): a poll killed, or writing into a closed pipe, leaves them for the next one, while
// overlapping polls never print the same event.
import type { JournalEntry, P2PEvent, PrintLease, State } from '../store/schema.ts'

/** Appends events to the journal that `poll` and `status` read; `logged` names the call log
 *  entries that hold the text of message events. */
export function journal(state: State, events: P2PEvent[], logged = new Map<P2PEvent, string>()): void {
  for (const event of events) {
    const entryId = logged.get(event)
    state.journal.push({ seq: state.nextSeq++, event, ...(entryId ? { entryId } : {}) })
  }
}

const isPrinted = (state: State, seq: number) => seq <= state.cursor.polled || state.printed.includes(seq)

/** The journal entries no `poll` has printed yet. */
export function unpolled(state: State): JournalEntry[] {
  return state.journal.filter((j) => !isPrinted(state, j.seq))
}

/** Leases the oldest unprinted events no live lease holds, at most `max`; `live` tells whether
 *  another poll's lease still counts (its process runs, and it is recent). */
export function leaseUnprinted(
  state: State,
  lease: Omit<PrintLease, 'seqs'>,
  live: (l: PrintLease) => boolean,
  max = Infinity,
): JournalEntry[] {
  state.printLeases = state.printLeases.filter(live)
  const held = new Set(state.printLeases.flatMap((l) => l.seqs))
  const entries = state.journal.filter((j) => !isPrinted(state, j.seq) && !held.has(j.seq)).slice(0, max)
  if (entries.length) state.printLeases.push({ ...lease, seqs: entries.map((j) => j.seq) })
  return entries
}

/** Ends a lease: `done` are printed now; the rest go back to be printed by a later poll. */
export function settleLease(state: State, token: string, done: number[]): void {
  state.printLeases = state.printLeases.filter((l) => l.token !== token)
  markPrinted(state, done)
}

/** Counts a killed or timed-out hook against each of these events. */
export function countHookKills(state: State, seqs: number[]): void {
  for (const j of state.journal) if (seqs.includes(j.seq)) j.hookKills = (j.hookKills ?? 0) + 1
}

/** A call's events that its transcript showed (`end` prints it whole): printed, as by a poll. */
export function markCallShown(state: State, callId: string): void {
  markPrinted(
    state,
    state.journal.filter((j) => j.event.callId === callId).map((j) => j.seq),
  )
}

function markPrinted(state: State, seqs: number[]): void {
  state.printed.push(...seqs.filter((seq) => !isPrinted(state, seq)))
  state.printed.sort((a, b) => a - b)
  // the watermark moves over every printed seq directly above it
  while (state.printed[0] === state.cursor.polled + 1 || (state.printed.length && state.printed[0] <= state.cursor.polled)) {
    state.cursor.polled = Math.max(state.cursor.polled, state.printed.shift() as number)
  }
  if (!state.journal.some((j) => !isPrinted(state, j.seq)) && state.printLeases.length === 0) {
    state.cursor.polled = Math.max(state.cursor.polled, state.nextSeq - 1)
    state.printed = []
  }
}
