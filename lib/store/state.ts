// The state store: one way to change the state, update(), which takes the cross-process lock,
// re-reads the file if another process replaced it, applies a change, bounds what grows, and
// writes it atomically (lowdb's text file: temp file + rename). Call messages live beside it,
// in the call logs, and the ids already taken in a file the state names (store/known-ids.ts).
import { renameSync, statSync } from 'node:fs'
import { TextFileSync } from 'lowdb/node'
import {
  MAX_AGENTS,
  MAX_EARLY_ENDS,
  MAX_ESCALATIONS,
  MAX_FINISHED_CALLS,
  MAX_INBOXES,
  MAX_JOURNAL,
  MAX_JOURNAL_BYTES,
  MAX_OUTBOX_FAILED,
  MAX_SEEN,
  MAX_SHAREABLE,
  MAX_UNANSWERED_CALLS,
  MAX_UNPRINTED,
} from '../limits.ts'
import { AGENT_TTL_S, DM_ID_TTL_S, EARLY_END_TTL_S, GIFT_WRAP_LOOKBACK_S, INBOX_TTL_S, MAX_CLOCK_SKEW_S, unixNow } from '../timing.ts'
import { CallLog } from './calllog.ts'
import { type HomePaths, ownDir } from './home.ts'
import { readKnown, removeOtherKnown, UnreadableIds, writeKnown } from './known-ids.ts'
import { withLock } from './lock.ts'
import { CorruptState, parseState } from './parse.ts'
import { knownKeys, makesKnown } from './peers.ts'
import { type CallRecord, emptyState, type JournalEntry, type State } from './schema.ts'

export class StateStore {
  readonly calls: CallLog
  private readonly file: TextFileSync
  /** The state as last read or written by this process, and the file it came from: a run
   *  parses the file once, and again only when another process has replaced it since. */
  private cache?: { state: State; text: string; stamp: string }

  constructor(
    private readonly paths: Pick<HomePaths, 'dir' | 'state' | 'lock' | 'calls' | 'known'>,
    private readonly warn: (message: string) => void,
    /** unprinted events the journal could not keep: told, never dropped silently */
    private readonly onDropped: (dropped: Dropped) => void = () => {},
  ) {
    this.calls = new CallLog(paths)
    this.file = new TextFileSync(paths.state)
  }

  /** A consistent snapshot of the state (the store's own copy: read it, do not change it). */
  read(): Promise<State> {
    return withLock(this.paths.lock, async () => this.load())
  }

  /** Applies `change` to the freshest state under the lock and saves it atomically (unless it
   *  changed nothing): call log entries and the ids taken first, so that a kill between them and
   *  the state loses nothing (the state still names the ids file it was written with). */
  update<R>(change: (state: State) => R): Promise<R> {
    return withLock(this.paths.lock, async () => {
      const state = this.load()
      try {
        const result = change(state)
        this.calls.flush(state)
        const { forgotten, dropped } = bound(state)
        const newIds = state.seen.changed || state.rumorIds.changed
        const generation = (state.knownIds ?? 0) + (newIds ? 1 : 0)
        if (newIds) {
          writeKnown(ownDir(this.paths.dir, this.paths.known), generation, state)
          state.knownIds = generation
        }
        const text = JSON.stringify(state)
        if (text !== this.cache?.text) {
          this.file.write(text)
          this.cache = { state, text, stamp: stampOf(this.paths.state) }
        }
        if (newIds) {
          state.seen.changed = state.rumorIds.changed = false
          removeOtherKnown(this.paths.known, generation)
        }
        for (const callId of forgotten) this.calls.remove(callId)
        if (dropped) this.onDropped(dropped)
        return result
      } catch (err) {
        this.cache = undefined // half changed: the file is the truth
        throw err
      }
    })
  }

  private load(): State {
    const stamp = stampOf(this.paths.state)
    if (this.cache && this.cache.stamp === stamp) return this.cache.state
    const text = this.file.read()
    let state: State
    try {
      state = text === null ? emptyState() : parseState(text)
    } catch (err) {
      if (!(err instanceof CorruptState)) throw err
      // Never discard silently: keep the bad file beside the new one for inspection.
      const aside = `${this.paths.state}.corrupt-${Date.now()}`
      renameSync(this.paths.state, aside)
      this.warn(`warning: the state file was unreadable (${err.message}); moved it to ${aside} and started afresh`)
      state = emptyState()
    }
    if (state.knownIds !== undefined) {
      try {
        Object.assign(state, readKnown(this.paths.known, state.knownIds))
      } catch (err) {
        if (!(err instanceof UnreadableIds)) throw err // not readable now (permissions, I/O): kept, not written over
        this.warn(
          `warning: the ids already taken were unreadable (${err.message}): wraps still on relays are opened again, and a message may show twice`,
        )
        state.seen.changed = true
      }
    }
    this.cache = { state, text: text ?? '', stamp }
    return state
  }
}

/** Which file is there now: a write replaces the file (a new inode and time) by a rename. */
function stampOf(path: string): string {
  try {
    const s = statSync(path, { bigint: true })
    return `${s.ino}:${s.size}:${s.mtimeNs}`
  } catch {
    return 'none'
  }
}

/** Events no poll had printed that the journal could not keep: how many, and which cap. */
export interface Dropped {
  count: number
  reason: string
}

/** The journal keeps every event no poll has printed, and as many printed ones as fit, in
 *  count and in bytes. When even the unprinted are too many, direct messages (strangers can
 *  send any number) go first, oldest first; call events go only beyond a hard cap (they stay
 *  in their call's transcript), and their texts stay in the call logs. Returns the unprinted
 *  ones it dropped (never silently: the run says so), not those that asked to disappear. */
function boundJournal(state: State, now: number): Dropped | undefined {
  // a message that asked to disappear (NIP-40) goes at its time, printed or not
  state.journal = state.journal.filter((j) => j.event.expiresAt === undefined || j.event.expiresAt > now)
  const done = (seq: number) => seq <= state.cursor.polled || state.printed.includes(seq)
  const unprinted = state.journal.filter((j) => !done(j.seq))
  const printed = state.journal.filter((j) => done(j.seq))
  let excess = unprinted.length - MAX_JOURNAL
  const kept = unprinted.filter((j) => !(excess > 0 && j.event.type === 'direct-message' && excess-- > 0))
  const room = Math.max(0, MAX_JOURNAL - kept.length)
  const cut = kept.slice(-MAX_UNPRINTED)
  state.journal = [...printed.slice(printed.length - room), ...cut]
  // a finished call's printed messages keep their text in its call log and transcript only:
  // read back from there if ever needed, and not parsed by every run
  for (const j of state.journal)
    if (j.entryId && done(j.seq) && isFinished(j.event.callId ? state.calls[j.event.callId] : undefined)) delete j.event.text
  const overBytes = fitJournalBytes(state, done)
  const inJournal = new Set(state.journal.map((j) => j.seq))
  state.printed = state.printed.filter((seq) => inJournal.has(seq))
  const count = unprinted.length - cut.length + overBytes
  if (count === 0) return undefined
  const caps = [
    kept.length < unprinted.length ? `${MAX_JOURNAL} events` : '',
    cut.length < kept.length ? `${MAX_UNPRINTED} unprinted events` : '',
    overBytes ? `${MAX_JOURNAL_BYTES} bytes` : '',
  ]
  return { count, reason: `journal full (it keeps at most ${caps.filter(Boolean).join(', and ')})` }
}

/** A call over for good (or forgotten): it takes no more messages but late ones, which are new events. */
const isFinished = (call: CallRecord | undefined): boolean =>
  call === undefined || call.state === 'ended' || call.state === 'rejected' || call.state === 'expired'

/** Over the byte budget, printed events go, then strangers' messages, then the text of the
 *  messages whose call log holds it (read back from there when printed). Returns how many
 *  unprinted events went. */
function fitJournalBytes(state: State, done: (seq: number) => boolean): number {
  let over = JSON.stringify(state.journal).length - MAX_JOURNAL_BYTES
  if (over <= 0) return 0
  const sizes = new Map(state.journal.map((j) => [j, JSON.stringify(j).length]))
  const rank = (j: JournalEntry) => (done(j.seq) ? 0 : j.event.type === 'direct-message' ? 1 : 2)
  const dropped = new Set<JournalEntry>()
  for (const j of [...state.journal].sort((a, b) => rank(a) - rank(b) || a.seq - b.seq)) {
    if (over <= 0) break
    if (rank(j) < 2) dropped.add(j)
    else if (j.entryId && j.event.text !== undefined) delete j.event.text
    else continue
    over -= (sizes.get(j) ?? 0) - (dropped.has(j) ? 0 : JSON.stringify(j).length)
  }
  state.journal = state.journal.filter((j) => !dropped.has(j))
  return [...dropped].filter((j) => !done(j.seq)).length
}

/** Drops the oldest entries of a record beyond `max`, by the number each maps to. */
function keepNewest<T>(record: Record<string, T>, max: number, at: (value: T) => number): void {
  if (Object.keys(record).length <= max) return
  const entries = Object.entries(record)
  for (const [key] of entries.sort((a, b) => at(a[1]) - at(b[1])).slice(0, entries.length - max)) delete record[key]
}

/** Keeps the file from growing without bound: what is pruned can no longer matter, but for
 *  unprinted events a flood pushed out of the journal (`dropped`, counted). Returns those and
 *  the finished calls it forgot (their transcripts stay on disk). */
export function bound(state: State, now = unixNow()): { forgotten: string[]; dropped?: Dropped } {
  // a known key keeps its announcement (its name) however old, whatever strangers announce
  const known = knownKeys(state)
  for (const [pubkey, agent] of Object.entries(state.agents)) {
    if (agent.lastSeen < now - AGENT_TTL_S && !known.has(pubkey)) delete state.agents[pubkey]
  }
  keepNewest(state.agents, MAX_AGENTS, (a) => (known.has(a.pubkey) ? Infinity : a.lastSeen))
  // a cached inbox list is looked up again after INBOX_TTL_S anyway
  for (const [pubkey, inbox] of Object.entries(state.inboxes)) if (inbox.at <= now - INBOX_TTL_S) delete state.inboxes[pubkey]
  keepNewest(state.inboxes, MAX_INBOXES, (i) => i.at)
  for (const [id, end] of Object.entries(state.earlyEnds)) if (end.seenAt < now - EARLY_END_TTL_S) delete state.earlyEnds[id]
  keepNewest(state.earlyEnds, MAX_EARLY_ENDS, (e) => e.seenAt)
  // A relay away for longer than an agent is remembered starts afresh when it comes back.
  for (const [url, at] of Object.entries(state.giftWrapCursors)) if (at < now - AGENT_TTL_S) delete state.giftWrapCursors[url]
  // A wrap dated before every relay's sync window can never be served to us again.
  const cursors = Object.values(state.giftWrapCursors)
  const oldestWrap = cursors.length ? Math.min(...cursors) - GIFT_WRAP_LOOKBACK_S : -Infinity
  state.seen.forget(oldestWrap, MAX_SEEN)
  const dropped = boundJournal(state, now)
  // a rumor is remembered while a wrap of it could still be served, and for DM_ID_TTL_S at least
  state.rumorIds.forget(Math.min(now - DM_ID_TTL_S, oldestWrap - MAX_CLOCK_SKEW_S), MAX_SEEN)
  const failed = state.outbox.filter((e) => e.gaveUp)
  if (failed.length > MAX_OUTBOX_FAILED) {
    const old = new Set(failed.sort((a, b) => (a.gaveUp?.at ?? 0) - (b.gaveUp?.at ?? 0)).slice(0, failed.length - MAX_OUTBOX_FAILED))
    state.outbox = state.outbox.filter((e) => !old.has(e))
  }
  if (state.escalations.length > MAX_ESCALATIONS) state.escalations.splice(0, state.escalations.length - MAX_ESCALATIONS)
  for (const e of state.escalations.slice(0, -MAX_SHAREABLE)) delete e.rumor
  state.ownerMessages?.splice(0, state.ownerMessages.length - MAX_SHAREABLE)
  const finished = Object.values(state.calls)
    .filter(isFinished)
    .sort((a, b) => b.updatedAt - a.updatedAt)
  // calls nobody answered (any key can make them) are counted apart: they never evict real history
  const forgotten = [
    ...finished.filter(makesKnown).slice(MAX_FINISHED_CALLS),
    ...finished.filter((c) => !makesKnown(c)).slice(MAX_UNANSWERED_CALLS),
  ]
  for (const call of forgotten) delete state.calls[call.id]
  return { forgotten: forgotten.map((c) => c.id), ...(dropped ? { dropped } : {}) }
}
