// The state file: what this agent has learned from relays and what it has done. One schema
// (versioned, migrated on read), one way to change it: update(), which takes the cross-process
// lock, re-reads the file, applies a change and writes it atomically (lowdb: temp file + rename).
import { renameSync } from 'node:fs'
import { LowSync } from 'lowdb'
import { DataFileSync } from 'lowdb/node'
import { withLock } from './lock.ts'
import { P2PError, EXIT } from './errors.ts'

export const STATE_VERSION = 1
/** Event ids remembered for de-duplication; the oldest are forgotten first. */
export const MAX_SEEN_IDS = 20_000
/** Agents not heard from for this long are forgotten. */
export const AGENT_TTL_S = 7 * 24 * 3600

export interface AgentRecord {
  pubkey: string
  name: string
  about: string
  agentId: string
  lastSeen: number
  client?: string
  nip17?: boolean
}

export interface RelayHealth {
  lastAttempt: number
  lastOk?: number
  lastError?: string
}

export type CallState = 'ringing' | 'incoming' | 'active' | 'rejected' | 'ended' | 'expired'

export interface CallRecord {
  id: string
  peer: string
  topic: string
  direction: 'outgoing' | 'incoming'
  state: CallState
  createdAt: number
  updatedAt: number
}

export interface State {
  version: number
  /** Unix seconds up to which presence has been read from relays, and the online window it
   *  was read for (a wider window must read further back than the cursor). */
  cursor: { presence: number; presenceWindow: number }
  agents: Record<string, AgentRecord>
  calls: Record<string, CallRecord>
  seen: string[]
  relayHealth: Record<string, RelayHealth>
}

export const emptyState = (): State => ({
  version: STATE_VERSION,
  cursor: { presence: 0, presenceWindow: 0 },
  agents: {},
  calls: {},
  seen: [],
  relayHealth: {},
})

class CorruptState extends Error {}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v)

/** Parses and migrates a state document; throws CorruptState when it is not one of ours. */
export function parseState(text: string): State {
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch {
    throw new CorruptState('not valid JSON')
  }
  if (!isRecord(doc) || typeof doc.version !== 'number') throw new CorruptState('no schema version')
  if (doc.version > STATE_VERSION) {
    throw new P2PError(
      'state-too-new',
      `the state file was written by a newer p2p-comm (schema ${doc.version}, this one reads ${STATE_VERSION})`,
      'upgrade p2p-comm (`git pull && npm ci`), or point P2P_HOME elsewhere',
      EXIT.state,
    )
  }
  const base = emptyState()
  for (const key of ['cursor', 'agents', 'calls', 'relayHealth'] as const) {
    if (doc[key] !== undefined && !isRecord(doc[key])) throw new CorruptState(`${key} is not an object`)
  }
  if (doc.seen !== undefined && !Array.isArray(doc.seen)) throw new CorruptState('seen is not a list')
  // Version 1 is the first schema: migration so far only fills in what an older writer lacked.
  return {
    version: STATE_VERSION,
    cursor: { ...base.cursor, ...(doc.cursor as object) },
    agents: (doc.agents as State['agents']) ?? base.agents,
    calls: (doc.calls as State['calls']) ?? base.calls,
    seen: (doc.seen as string[]) ?? base.seen,
    relayHealth: (doc.relayHealth as State['relayHealth']) ?? base.relayHealth,
  }
}

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

/** Keeps the file from growing without bound. */
function bound(state: State): void {
  if (state.seen.length > MAX_SEEN_IDS) state.seen.splice(0, state.seen.length - MAX_SEEN_IDS)
  const oldest = Math.floor(Date.now() / 1000) - AGENT_TTL_S
  for (const [pubkey, agent] of Object.entries(state.agents)) {
    if (agent.lastSeen < oldest) delete state.agents[pubkey]
  }
}
