// NIP-77 frames on one connection: NEG-OPEN, NEG-MSG and NEG-CLOSE go out; NEG-MSG and NEG-ERR
// come back, and so does a NOTICE from a relay that does not know the verb. What the messages
// mean is nip77.ts's.
//
// A session is never retried after AUTH: a relay that keeps what the filter asks for to
// authenticated readers may still leave it out of its NIP-77 answer to them (strfry's
// negentropy thread is never told who is AUTHed: ../shared/NOTES.md), so a reconciliation
// behind AUTH proves nothing and the reader goes page by page instead (`behindAuth`).
import type { Filter } from 'nostr-tools/filter'
import type { RelayAuth } from './auth.ts'

/** What came back for a session: a message to reconcile; the relay's refusal (NEG-ERR, or a
 *  NOTICE about NIP-77 before it answered); `closed` when the connection ended or the read
 *  was given up. */
export type NegReply =
  | { type: 'msg'; hex: string }
  | { type: 'err'; reason: string }
  | { type: 'notice'; reason: string }
  | { type: 'closed'; reason: string }

export interface NegSession {
  send(hex: string): void
  /** ends the session (NEG-CLOSE, when the relay still holds it) */
  close(): void
}

interface Open {
  /** the relay answered since the session was opened */
  answered: boolean
  onReply: (reply: NegReply) => void
}

/** A NOTICE that says the relay does not take NIP-77 (strfry's `negentropy disabled` and
 *  `negentropy error:`, a verb it does not know, a message it could not parse); any other
 *  NOTICE on the connection (`bad req:`, too many REQs) is about something else. */
const NOT_NIP77 =
  /negentropy|\bNEG-|unknown (cmd|command|message|type|verb)|unsupported|not supported|unrecogni[sz]ed|could not parse|unparseable|invalid literal/i

export const isNip77Notice = (text: string): boolean => NOT_NIP77.test(text)

export class NegChannel {
  private serial = 0
  private readonly sessions = new Map<string, Open>()

  constructor(
    private readonly send: (message: unknown[]) => void,
    private readonly auth: RelayAuth,
  ) {}

  /** Whether the relay asked us to authenticate on this connection: its reads are restricted. */
  get behindAuth(): boolean {
    return this.auth.challenged
  }

  /** Opens a session on `filter` with the initiator's first message; replies go to `onReply`. */
  open(filter: Filter, initial: string, onReply: (reply: NegReply) => void): NegSession {
    const id = `neg:${++this.serial}`
    this.sessions.set(id, { answered: false, onReply })
    this.send(['NEG-OPEN', id, filter, initial])
    return {
      send: (hex) => {
        if (this.sessions.has(id)) this.send(['NEG-MSG', id, hex])
      },
      close: () => {
        if (this.sessions.delete(id)) this.send(['NEG-CLOSE', id])
      },
    }
  }

  /** Takes a NEG-MSG, a NEG-ERR, or a NOTICE (the answer of a relay that does not know NIP-77
   *  to a session it has not answered otherwise). */
  receive(type: string, a: unknown, b: unknown): void {
    if (type === 'NOTICE') {
      const reason = String(a ?? '')
      if (!isNip77Notice(reason)) return
      for (const [id, s] of this.sessions) if (!s.answered) this.end(id, { type: 'notice', reason })
      return
    }
    const id = String(a)
    const session = this.sessions.get(id)
    if (!session) return
    session.answered = true
    if (type === 'NEG-MSG' && typeof b === 'string') session.onReply({ type: 'msg', hex: b })
    else if (type === 'NEG-ERR') this.end(id, { type: 'err', reason: String(b ?? '') })
  }

  /** Ends every session with `reason` (the connection closed, or the read was given up). */
  fail(reason: string): void {
    for (const id of [...this.sessions.keys()]) this.end(id, { type: 'closed', reason })
  }

  private end(id: string, reply: NegReply): void {
    const session = this.sessions.get(id)
    if (session && this.sessions.delete(id)) session.onReply(reply)
  }
}
