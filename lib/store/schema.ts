// The state file's schema: what this agent has learned from relays and what it has done.
// Versioned, and migrated on read (parse.ts turns any file we ever wrote into a State).
import type { RemoteFile } from '../nostr/dm.ts'
import type { InboxSource } from '../nostr/nip65.ts'
import type { Announcement } from '../nostr/presence.ts'
import { KnownIds } from './known-ids.ts'
import type { RelayHealth } from './relay-health.ts'

/** 2: a call's messages moved out of the state into its call log (store/calllog.ts).
 *  3: the ids of wraps and rumors taken moved out into a file of their own (store/known-ids.ts). */
export const STATE_VERSION = 3

/** An agent as last announced; `eventId` is not fetched and checked again. */
export type AgentRecord = Announcement

/** Journal entries a poll is printing: theirs until it settles, or its process (pid and start time) is gone. */
export interface PrintLease {
  token: string
  pid: number
  start?: string
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
  /** a decision handed to a human (ours or the peer's): counted apart from messages */
  escalation?: true
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
  /** hex pubkey of whoever ended it: us or the peer */
  endedBy?: string
  reason?: string
  /** entries in its call log (the entries themselves live there, not in the state) */
  messageCount: number
  /** of those, escalations (ours and the peer's) */
  escalations?: number
  /** the bytes of its call log this state counts: lines after them were appended by a run
   *  killed before it saved the state, and are not part of the call */
  logBytes?: number
  /** path of the Markdown transcript, once written */
  transcript?: string
  /** held over NIP-04 with an agent of the original skill (nostr/legacy.ts) */
  legacy?: true
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
    | 'owner-proof'
    | 'call-ended'
    | 'direct-message'
  callId: string | null
  /** owner-message: the message's own id (`share` takes it) */
  id?: string
  /** npub */
  from: string
  /** the sender's name as last announced ('' when never heard of; 'owner' for an unnamed owner) */
  name?: string
  at: number
  topic?: string
  /** call-request: what the caller says it does, and whether it is known (store/peers.ts) */
  about?: string
  known?: boolean
  text?: string
  reason?: string
  /** a file of the call; an owner's file message: where to fetch it and how to decrypt it */
  file?: FileInfo | RemoteFile
  expired?: boolean
  /** owner-message, owner-proof: the escalation it answers, when there is one */
  escalationId?: string
  /** owner-proof: the owner's key (npub), whether the proof checks out (`reason` when not),
   *  the escalation's text, and when the owner wrote the message */
  owner?: string
  verified?: boolean
  question?: string
  sentAt?: number | null
  /** owner-message: 14 text, 7 reaction, 15 file message */
  kind?: number
  /** owner-message of kind 7: the message reacted to */
  reactsTo?: string
  /** NIP-40: the sender asked that it not be kept past this (Unix seconds) */
  expiresAt?: number
}

export interface JournalEntry {
  seq: number
  /** a message's text may be left out (over the journal's byte budget): its call log has it */
  event: P2PEvent
  /** the call log entry of a message event */
  entryId?: string
  /** `poll --exec` hooks for it that were killed or timed out (hooks.ts) */
  hookKills?: number
}

type Unsigned = { id: string; pubkey: string; created_at: number; kind: number; tags: string[][]; content: string }

/** Something to publish, queued before the first attempt (write-ahead) and gone once a relay
 *  accepted it; retried by later runs until then, or until it is given up. */
export interface OutboxEntry {
  /** the rumor id (a file: its file id) */
  id: string
  peer: string
  callId: string | null
  /** the kind 14 rumor, re-wrapped on each attempt (a file has its chunks rebuilt instead) */
  rumor?: Unsigned
  /** for a file: the saved copy to send again in chunks, and the chunks some relay accepted */
  file?: { path: string; fileId: string; name: string; sha256?: string; at: number; ms: number; sent?: number[] }
  /** to an agent of the original skill: its NIP-04 DM, signed once and sent as it is (encrypted
   *  again it would be another event, taken twice); up to 64 KiB, dropped once given up */
  dm?: Unsigned & { sig: string }
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
  /** the DM the owner got (the newest MAX_SHAREABLE only): `share` shows it as the question */
  rumor?: Unsigned
}

/** An owner's message in the seal its client signed, for `share` to show a peer. */
export interface OwnerMessage {
  /** the message's (rumor's) id, as its owner-message event says */
  id: string
  at: number
  seal: Unsigned & { sig: string }
  /** the message its `e` tag names: the escalation it answers, if it is one of ours */
  replyTo?: string
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
    /** NIP-04 DMs read up to then, before each relay had a cursor: where one without starts */
    legacy?: number
  }
  agents: Record<string, AgentRecord>
  /** inbox relays of peers (kind 10050, else NIP-65 read relays), by hex pubkey */
  inboxes: Record<string, { relays: string[]; source: InboxSource; at: number }>
  calls: Record<string, CallRecord>
  /** ids of everything taken into a call or the journal (rumor ids; a file: its file id), by
   *  when we took it: a rumor wrapped twice, or served again, is taken once */
  rumorIds: KnownIds
  /** entries added by this run, which the store appends to their call logs before it writes
   *  the state: never saved in the state file */
  newEntries?: Record<string, TranscriptEntry[]>
  /** call-ends that came before their request (by call id), so that the request is not taken */
  earlyEnds: Record<string, { from: string; seenAt: number }>
  /** Unix seconds of each relay's last complete gift-wrap sync, by relay URL */
  giftWrapCursors: Record<string, number>
  /** gift-wrap ids already processed, with their created_at, forgotten once out of the window */
  seen: KnownIds
  /** the file of `seen` and `rumorIds` that goes with this state (p2p-known/<n>.bin) */
  knownIds?: number
  journal: JournalEntry[]
  nextSeq: number
  /** journal seqs above cursor.polled already printed (polls may finish out of order) */
  printed: number[]
  /** events polls are printing now */
  printLeases: PrintLease[]
  outbox: OutboxEntry[]
  escalations: Escalation[]
  /** the owner's newest messages (MAX_SHAREABLE), as they came */
  ownerMessages?: OwnerMessage[]
  relayHealth: Record<string, RelayHealth>
  /** our own announcement as relays hold it: under which name, and until when on each relay */
  ownPresence?: OwnPresence
  /** when our lists and profile last went to the indexer relays, what they said (a digest),
   *  and whether some indexer took them */
  indexed?: { digest: string; at: number; ok: boolean }
  /** `allow`: keys that may call whatever `accept` says (and count as known): hex key → since when */
  allowed?: Record<string, number>
  /** `block`: keys whose call requests and DMs are dropped unseen: hex key → since when */
  blocked?: Record<string, number>
  /** callers refused by the `accept` policy: hex key → when they were last told so */
  policyReplies?: Record<string, number>
}

export interface OwnPresence {
  name: string
  /** relay URL → when its copy expires (NIP-40, Unix seconds) */
  relays: Record<string, number>
}

export const emptyState = (): State => ({
  version: STATE_VERSION,
  cursor: { presence: 0, presenceWindow: 0, giftWrap: 0, polled: 0 },
  agents: {},
  inboxes: {},
  calls: {},
  rumorIds: new KnownIds(),
  earlyEnds: {},
  giftWrapCursors: {},
  seen: new KnownIds(),
  journal: [],
  nextSeq: 1,
  printed: [],
  printLeases: [],
  outbox: [],
  escalations: [],
  relayHealth: {},
})
