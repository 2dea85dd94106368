// The state file's schema: what this agent has learned from relays and what it has done.
// Versioned, and migrated on read: parseState turns any file we ever wrote into a State.
import { P2PError } from '../errors.ts'
import type { InboxSource } from '../nostr/nip65.ts'
import type { Announcement } from '../nostr/presence.ts'

export const STATE_VERSION = 1

/** An agent as last announced; `eventId` is not fetched and checked again. */
export type AgentRecord = Announcement

interface RelayHealth {
  lastOk?: number
  /** when a sync last read everything it asked this relay for (EOSE) */
  lastSynced?: number
  lastError?: string
  /** when the relay last failed to take our announcement: skipped until presence is due again */
  announceFailedAt?: number
  /** NIP-77: whether it reconciled our gift wraps when last asked, and when that was (one that
   *  did not is read page by page, and asked again after a while) */
  negentropy?: boolean
  negentropyCheckedAt?: number
  /** a page-by-page read of its gift wraps that a run left unfinished: it stands for everything
   *  published before `top`, and has read everything dated after `until`; the next run goes on
   *  from `until` (inclusive) */
  wrapPaging?: { top: number; until: number }
}

/** A relay's health record, created on first use. */
export function healthOf(state: State, url: string): RelayHealth {
  state.relayHealth[url] ??= {}
  return state.relayHealth[url]
}

/** Journal entries a poll is printing: theirs until it settles, or its process is gone. */
export interface PrintLease {
  token: string
  pid: number
  at: number
  seqs: number[]
}

type CallState = 'ringing' | 'incoming' | 'active' | 'rejected' | 'ended' | 'expired'

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
  type:
    | 'call-request'
    | 'call-accepted'
    | 'call-rejected'
    | 'message'
    | 'file'
    | 'escalation'
    | 'owner-message'
    | 'call-ended'
    | 'direct-message'
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

/** Something to publish, queued before the first attempt (write-ahead) and gone once a relay
 *  accepted it; retried by later runs until then, or until it is given up. */
export interface OutboxEntry {
  /** the rumor id (a file: its file id) */
  id: string
  peer: string
  callId: string | null
  /** the kind 14 rumor, re-wrapped on each attempt (a file has its chunks rebuilt instead) */
  rumor?: { id: string; pubkey: string; created_at: number; kind: number; tags: string[][]; content: string }
  /** for a file: the saved copy to send again in chunks, and the chunks some relay accepted */
  file?: { path: string; fileId: string; name: string; sha256?: string; at: number; ms: number; sent?: number[] }
  queuedAt: number
  /** attempts that did not deliver it */
  attempts: number
  lastError?: string
  /** a relay said rate-limited: not retried before this (Unix seconds) */
  nextAttemptAt?: number
  /** not retried any more, and why; `outbox` shows it until dropped */
  gaveUp?: { at: number; why: string }
}

/** A decision handed to the owner; the owner's next messages are linked to the latest one. */
interface Escalation {
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
    /** the single gift-wrap cursor of versions before giftWrapCursors: where a relay without a
     *  cursor of its own starts (no longer moved) */
    giftWrap: number
    /** the last journal seq that `poll` printed */
    polled: number
  }
  agents: Record<string, AgentRecord>
  /** inbox relays of peers (kind 10050, else NIP-65 read relays), by hex pubkey */
  inboxes: Record<string, { relays: string[]; source: InboxSource; at: number }>
  calls: Record<string, CallRecord>
  /** rumor ids of the DMs taken (outside calls, and the owner's), by when we took them */
  dmIds: Record<string, number>
  /** call-ends that came before their request (by call id), so that the request is not taken */
  earlyEnds: Record<string, { from: string; seenAt: number }>
  /** Unix seconds of each relay's last complete gift-wrap sync, by relay URL */
  giftWrapCursors: Record<string, number>
  /** gift-wrap ids already processed, with their created_at, forgotten once out of the window */
  seen: Record<string, number>
  journal: JournalEntry[]
  nextSeq: number
  /** journal seqs above cursor.polled already printed (polls may finish out of order) */
  printed: number[]
  /** events polls are printing now */
  printLeases: PrintLease[]
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
  dmIds: {},
  earlyEnds: {},
  giftWrapCursors: {},
  seen: {},
  journal: [],
  nextSeq: 1,
  printed: [],
  printLeases: [],
  outbox: [],
  escalations: [],
  relayHealth: {},
})

/** Not one of our state files: moved aside by the store, never thrown further. */
export class CorruptState extends Error {}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

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
      'state',
      'upgrade p2p-comm (`git pull && npm ci`), or point P2P_HOME elsewhere',
    )
  }
  const base = emptyState()
  const objects = ['cursor', 'agents', 'inboxes', 'calls', 'dmIds', 'earlyEnds', 'giftWrapCursors', 'seen', 'relayHealth'] as const
  for (const key of objects) {
    if (doc[key] !== undefined && !isRecord(doc[key])) throw new CorruptState(`${key} is not an object`)
  }
  for (const key of ['journal', 'outbox', 'escalations', 'printed', 'printLeases'] as const) {
    if (doc[key] !== undefined && !Array.isArray(doc[key])) throw new CorruptState(`${key} is not a list`)
  }
  // Version 1 is the first schema: migration so far only fills in what an older writer lacked.
  const state = { ...base, ...doc, version: STATE_VERSION } as State
  state.cursor = { ...base.cursor, ...(doc.cursor as object) }
  // an entry of the wrong shape (a hand edit, a bug) goes alone, not the whole file
  state.calls = entriesLike(state.calls, (c) => typeof c.id === 'string' && typeof c.peer === 'string' && Array.isArray(c.messages))
  state.agents = entriesLike(state.agents, (a) => typeof a.pubkey === 'string' && typeof a.name === 'string')
  state.inboxes = entriesLike(state.inboxes, (i) => Array.isArray(i.relays))
  return state
}

function entriesLike<T>(record: Record<string, T>, valid: (value: Record<string, unknown>) => boolean): Record<string, T> {
  return Object.fromEntries(Object.entries(record).filter(([, v]) => isRecord(v) && valid(v))) as Record<string, T>
}
