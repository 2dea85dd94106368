// What goes into the call machine (a verified rumor) and what comes out of it (events, automatic
// answers, transcripts to write): the types machine.ts and the modules it calls (owner, policy,
// timeouts) share, in a module below them all.
import type { P2PMessage } from '../nostr/p2p.ts'
import type { FileInfo, P2PEvent } from '../store/schema.ts'

/** What a sync hands the state machine: one verified rumor, already parsed. */
export interface Incoming {
  id: string
  /** the gift wrap it came in (a file: the last chunk's), for de-duplication across runs */
  wrapId?: string
  from: string
  at: number
  /** the sender's milliseconds, to order what was sent within one second */
  ms?: number
  /** it came as a NIP-04 DM of the original skill (legacy.ts) */
  legacy?: true
  msg: Exclude<P2PMessage, { type: 'file-chunk' }> | { type: 'file'; callId: string; fileId: string; file: FileInfo }
}

/** A message the machine wants sent back (an automatic answer). */
export interface Reply {
  peer: string
  /** always about a call */
  msg: Exclude<P2PMessage, { type: 'dm' }>
  /** to an agent of the original skill, over NIP-04 (the call may have no record: too old, refused) */
  legacy?: true
}

export interface Applied {
  events: P2PEvent[]
  replies: Reply[]
  /** calls whose transcript must be (re)written */
  finished: string[]
  /** what was dropped and why, for --verbose */
  ignored: string[]
  /** message events whose text their call log holds too (by entry id): the journal may let go
   *  of the text and read it back from there */
  logged: Map<P2PEvent, string>
}
