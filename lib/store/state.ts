// The state store: one way to change the state, update(), which takes the cross-process lock,
// re-reads the file, applies a change, bounds what grows, and writes it atomically (lowdb:
// temp file + rename).
import { renameSync } from 'node:fs'
import { LowSync } from 'lowdb'
import { DataFileSync } from 'lowdb/node'
import {
  MAX_AGENTS,
  MAX_EARLY_ENDS,
  MAX_ESCALATIONS,
  MAX_FINISHED_CALLS,
  MAX_JOURNAL,
  MAX_OUTBOX_FAILED,
  MAX_SEEN,
  MAX_UNPRINTED,
} from '../limits.ts'
import { AGENT_TTL_S, DM_ID_TTL_S, EARLY_END_TTL_S, GIFT_WRAP_LOOKBACK_S, unixNow } from '../timing.ts'
import { withLock } from './lock.ts'
import { CorruptState, emptyState, parseState, type State } from './schema.ts'

export class StateStore {
  constructor(
    private readonly path: string,
    private readonly lockPath: string,
    private readonly warn: (message: string) => void,
  ) {}

  /** A consistent snapshot of the state. */
  read(): Promise<State> {
    return withLock(this.lockPath, async () => this.load().data)
  }

  /** Applies `change` to the freshest state under the lock and saves it atomically. */
  update<R>(change: (state: State) => R): Promise<R> {
    return withLock(this.lockPath, async () => {
      const db = this.load()
      const result = change(db.data)
      bound(db.data)
      db.write()
      return result
    })
  }

  private load(): LowSync<State> {
    const db = new LowSync<State>(
      new DataFileSync<State>(this.path, { parse: parseState, stringify: (s) => JSON.stringify(s) }),
      emptyState(),
    )
    try {
      db.read()
    } catch (err) {
      if (!(err instanceof CorruptState)) throw err
      // Never discard silently: keep the bad file beside the new one for inspection.
      const aside = `${this.path}.corrupt-${Date.now()}`
      renameSync(this.path, aside)
      this.warn(`warning: the state file was unreadable (${err.message}); moved it to ${aside} and started afresh`)
      db.data = emptyState()
    }
    return db
  }
}

/** The journal keeps every event no poll has printed, and as many printed ones as fit. When
 *  even the unprinted are too many, direct messages (strangers can send any number) go first,
 *  oldest first; call events go only beyond a hard cap. */
function boundJournal(state: State): void {
  const done = (seq: number) => seq <= state.cursor.polled || state.printed.includes(seq)
  const unprinted = state.journal.filter((j) => !done(j.seq))
  const printed = state.journal.filter((j) => done(j.seq))
  let excess = unprinted.length - MAX_JOURNAL
  const kept = unprinted.filter((j) => !(excess > 0 && j.event.type === 'direct-message' && excess-- > 0))
  const room = Math.max(0, MAX_JOURNAL - kept.length)
  state.journal = [...printed.slice(printed.length - room), ...kept.slice(-MAX_UNPRINTED)]
  const inJournal = new Set(state.journal.map((j) => j.seq))
  state.printed = state.printed.filter((seq) => inJournal.has(seq))
}

/** Keeps the file from growing without bound: what is pruned can no longer matter. */
export function bound(state: State, now = unixNow()): void {
  for (const [pubkey, agent] of Object.entries(state.agents)) {
    if (agent.lastSeen < now - AGENT_TTL_S) delete state.agents[pubkey]
  }
  const agents = Object.values(state.agents)
  if (agents.length > MAX_AGENTS) {
    for (const a of agents.sort((x, y) => x.lastSeen - y.lastSeen).slice(0, agents.length - MAX_AGENTS)) delete state.agents[a.pubkey]
  }
  for (const [id, end] of Object.entries(state.earlyEnds)) if (end.seenAt < now - EARLY_END_TTL_S) delete state.earlyEnds[id]
  const ends = Object.entries(state.earlyEnds)
  if (ends.length > MAX_EARLY_ENDS)
    for (const [id] of ends.sort((a, b) => a[1].seenAt - b[1].seenAt).slice(0, ends.length - MAX_EARLY_ENDS)) delete state.earlyEnds[id]
  // A relay away for longer than an agent is remembered starts afresh when it comes back.
  for (const [url, at] of Object.entries(state.giftWrapCursors)) if (at < now - AGENT_TTL_S) delete state.giftWrapCursors[url]
  // A wrap dated before every relay's sync window can never be served to us again.
  const cursors = Object.values(state.giftWrapCursors)
  const oldestWrap = cursors.length ? Math.min(...cursors) - GIFT_WRAP_LOOKBACK_S : -Infinity
  for (const [id, createdAt] of Object.entries(state.seen)) if (createdAt < oldestWrap) delete state.seen[id]
  const seen = Object.entries(state.seen)
  if (seen.length > MAX_SEEN) {
    for (const [id] of seen.sort((a, b) => a[1] - b[1]).slice(0, seen.length - MAX_SEEN)) delete state.seen[id]
  }
  boundJournal(state)
  for (const [id, at] of Object.entries(state.dmIds)) if (at < now - DM_ID_TTL_S) delete state.dmIds[id]
  const dmIds = Object.entries(state.dmIds)
  if (dmIds.length > MAX_SEEN)
    for (const [id] of dmIds.sort((a, b) => a[1] - b[1]).slice(0, dmIds.length - MAX_SEEN)) delete state.dmIds[id]
  const failed = state.outbox.filter((e) => e.gaveUp)
  if (failed.length > MAX_OUTBOX_FAILED) {
    const old = new Set(failed.sort((a, b) => (a.gaveUp?.at ?? 0) - (b.gaveUp?.at ?? 0)).slice(0, failed.length - MAX_OUTBOX_FAILED))
    state.outbox = state.outbox.filter((e) => !old.has(e))
  }
  if (state.escalations.length > MAX_ESCALATIONS) state.escalations.splice(0, state.escalations.length - MAX_ESCALATIONS)
  const finished = Object.values(state.calls)
    .filter((c) => c.state === 'ended' || c.state === 'rejected' || c.state === 'expired')
    .sort((a, b) => b.updatedAt - a.updatedAt)
  for (const call of finished.slice(MAX_FINISHED_CALLS)) delete state.calls[call.id]
}
