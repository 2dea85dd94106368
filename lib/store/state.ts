// The state store: one way to change the state, update(), which takes the cross-process lock,
// re-reads the file, applies a change, bounds what grows, and writes it atomically (lowdb:
// temp file + rename).
import { renameSync } from 'node:fs'
import { LowSync } from 'lowdb'
import { DataFileSync } from 'lowdb/node'
import { MAX_ESCALATIONS, MAX_FINISHED_CALLS, MAX_JOURNAL, MAX_OUTBOX_FAILED, MAX_SEEN } from '../limits.ts'
import { AGENT_TTL_S, GIFT_WRAP_LOOKBACK_S, unixNow } from '../timing.ts'
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

/** Keeps the file from growing without bound: what is pruned can no longer matter. */
export function bound(state: State, now = unixNow()): void {
  for (const [pubkey, agent] of Object.entries(state.agents)) {
    if (agent.lastSeen < now - AGENT_TTL_S) delete state.agents[pubkey]
  }
  // A wrap dated before the sync window can never be served to us again.
  const oldestWrap = state.cursor.giftWrap - GIFT_WRAP_LOOKBACK_S
  for (const [id, createdAt] of Object.entries(state.seen)) if (createdAt < oldestWrap) delete state.seen[id]
  const seen = Object.entries(state.seen)
  if (seen.length > MAX_SEEN) {
    for (const [id] of seen.sort((a, b) => a[1] - b[1]).slice(0, seen.length - MAX_SEEN)) delete state.seen[id]
  }
  if (state.journal.length > MAX_JOURNAL) state.journal.splice(0, state.journal.length - MAX_JOURNAL)
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
