// The state file: what this agent has learned from relays and what it has done. One schema
// (versioned, migrated on read), one way to change it: update(), which takes the cross-process
// lock, re-reads the file, applies a change and writes it atomically (lowdb: temp file + rename).
import { renameSync } from 'node:fs'
import { LowSync } from 'lowdb'
import { DataFileSync } from 'lowdb/node'
import { withLock } from './lock.ts'
import { P2PError, EXIT } from './errors.ts'

export const STATE_VERSION = 1
/** NIP-59 dates gift wraps up to 2 days in the past: a sync reads this far behind its cursor. */
export const GIFT_WRAP_LOOKBACK_S = 2 * 24 * 3600 + 3600
/** Agents not heard from for this long are forgotten. */
export const AGENT_TTL_S = 7 * 24 * 3600
/** Finished calls kept (with their messages) beyond this many are dropped, oldest first;
 *  their transcripts stay on disk. */
export const MAX_FINISHED_CALLS = 1_000
/** Events kept for `poll` and `status`, newest last. */
export const MAX_JOURNAL = 1_000
export const MAX_ESCALATIONS = 100
/** A flood of gift wraps cannot grow the file past this many remembered ids (oldest go first). */
export const MAX_SEEN = 100_000

export interface AgentRecord {
  pubkey: string
  /** the announcement this record comes from: not fetched and checked again */
  eventId?: string
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
  /** when a sync last read everything it asked this relay for (EOSE) */
  lastSynced?: number
  lastError?: string
  /** when the relay last failed to take our announcement: skipped until presence is due again */
  announceFailedAt?: number
}

export type CallState = 'ringing' | 'incoming' | 'active' | 'rejected' | 'ended' | 'expired'

export interface FileInfo {
  name: string
  size: number
  sha256: string
  path: string
}

export interface TranscriptEntry {
  /** the rumor id (a file: its file id), for de-duplication */
  id: string
  /** hex pubkey of the author */
  from: string
  at: number
  /** the sender's milliseconds, when known: orders entries within one second */
  ms?: number
  text: string
  file?: FileInfo
}

export interface CallRecord {
  id: string
  /** hex pubkey */
  peer: string
  topic: string
  direction: 'outgoing' | 'incoming'
  state: CallState
  createdAt: number
  updatedAt: number
  startedAt?: number
  endedAt?: number
  reason?: string
  messages: TranscriptEntry[]
  /** path of the Markdown transcript, once written */
  transcript?: string
}

/** A contract `Event` (CLI.md), as journalled for `poll` and `status`. */
export interface P2PEvent {
  type: 'call-request' | 'call-accepted' | 'call-rejected' | 'message' | 'file' | 'escalation' | 'owner-message' | 'call-ended' | 'direct-message'
  callId: string | null
  /** npub */
  from: string
  at: number
  topic?: string
  text?: string
  reason?: string
  file?: FileInfo
  expired?: boolean
  /** owner-message: the escalation it answers, when there is one */
  escalationId?: string
}

export interface JournalEntry {
  seq: number
  event: P2PEvent
}

/** Something no relay accepted yet: retried by every later run until one does. */
export interface OutboxEntry {
  /** the rumor id */
  id: string
  peer: string
  callId: string | null
  /** the kind 14 rumor, re-wrapped on each attempt (a file has its chunks rebuilt instead) */
  rumor?: { id: string; pubkey: string; created_at: number; kind: number; tags: string[][]; content: string }
  /** for a file: the saved copy to send again in chunks */
  file?: { path: string; fileId: string; name: string; at: number; ms: number }
  queuedAt: number
  attempts: number
  lastError?: string
}

/** A decision handed to the owner; the owner's next messages are linked to the latest one. */
export interface Escalation {
  id: string
  callId: string | null
  reason: string
  at: number
}

export interface State {
  version: number
  cursor: {
    /** Unix seconds up to which presence has been read, and the online window it was read for
     *  (a wider window must read further back than the cursor). */
    presence: number
    presenceWindow: number
    /** Unix seconds of the last complete gift-wrap sync */
    giftWrap: number
    /** the last journal seq that `poll` printed */
    polled: number
  }
  agents: Record<string, AgentRecord>
  /** inbox relays of peers (kind 10050, else NIP-65 read relays), by hex pubkey */
  inboxes: Record<string, { relays: string[]; source: 'nip17' | 'nip65'; at: number }>
  calls: Record<string, CallRecord>
  /** gift-wrap ids already processed, with their created_at, forgotten once out of the window */
  seen: Record<string, number>
  journal: JournalEntry[]
  nextSeq: number
  outbox: OutboxEntry[]
  escalations: Escalation[]
  relayHealth: Record<string, RelayHealth>
}

export const emptyState = (): State => ({
  version: STATE_VERSION,
  cursor: { presence: 0, presenceWindow: 0, giftWrap: 0, polled: 0 },
  agents: {},
  inboxes: {},
  calls: {},
  seen: {},
  journal: [],
  nextSeq: 1,
  outbox: [],
  escalations: [],
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
  const objects = ['cursor', 'agents', 'inboxes', 'calls', 'seen', 'relayHealth'] as const
  for (const key of objects) {
    if (doc[key] !== undefined && !isRecord(doc[key])) throw new CorruptState(`${key} is not an object`)
  }
  for (const key of ['journal', 'outbox', 'escalations'] as const) {
    if (doc[key] !== undefined && !Array.isArray(doc[key])) throw new CorruptState(`${key} is not a list`)
  }
  // Version 1 is the first schema: migration so far only fills in what an older writer lacked.
  const state = { ...base, ...doc, version: STATE_VERSION } as State
  state.cursor = { ...base.cursor, ...(doc.cursor as object) }
  return state
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

/** Keeps the file from growing without bound: what is pruned can no longer matter. */
export function bound(state: State, now = Math.floor(Date.now() / 1000)): void {
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
  if (state.escalations.length > MAX_ESCALATIONS) state.escalations.splice(0, state.escalations.length - MAX_ESCALATIONS)
  const finished = Object.values(state.calls)
    .filter((c) => c.state === 'ended' || c.state === 'rejected' || c.state === 'expired')
    .sort((a, b) => b.updatedAt - a.updatedAt)
  for (const call of finished.slice(MAX_FINISHED_CALLS)) delete state.calls[call.id]
}
