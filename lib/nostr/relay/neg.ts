// NIP-77 frames on one connection: NEG-OPEN, NEG-MSG and NEG-CLOSE go out; NEG-MSG and NEG-ERR
// come back, and so does a NOTICE from a relay that does not know the verb. A session over kinds
// that relays keep for authenticated readers (gift wraps) waits for AUTH as a REQ does, and is
// opened once more after AUTH when the relay answered `auth-required:` (strfry sends its
// challenge with that NEG-ERR). What the messages mean is nip77.ts's.
import type { Filter } from 'nostr-tools/filter'
import { isRestrictedRead, type RelayAuth } from './auth.ts'
import { classifyRefusal } from './refusal.ts'

/** What came back for a session: a message to reconcile; the relay's refusal (NEG-ERR, or a
 *  NOTICE before it answered); `reopened` after AUTH (the wait for an answer starts again);
 *  `closed` when the connection ended or the read was given up. */
export type NegReply =
  | { type: 'msg'; hex: string }
  | { type: 'err'; reason: string }
  | { type: 'notice'; reason: string }
  | { type: 'closed'; reason: string }
  | { type: 'reopened' }

export interface NegSession {
  send(hex: string): void
  /** ends the session (NEG-CLOSE, when the relay still holds it) */
  close(): void
}

interface Open {
  filter: Filter
  initial: string
  /** the relay answered since the session was (re)opened */
  answered: boolean
  authRetried: boolean
  onReply: (reply: NegReply) => void
}

export class NegChannel {
  private serial = 0
  private readonly sessions = new Map<string, Open>()

  constructor(
    private readonly send: (message: unknown[]) => void,
    private readonly auth: RelayAuth,
  ) {}

  /** Opens a session on `filter` with the initiator's first message; replies go to `onReply`. */
  open(filter: Filter, initial: string, onReply: (reply: NegReply) => void): NegSession {
    const id = `neg:${++this.serial}`
    const session: Open = { filter, initial, answered: false, authRetried: false, onReply }
    this.sessions.set(id, session)
    // a relay that asked for AUTH may refuse gift wraps to a session opened before it succeeded
    if (isRestrictedRead([filter]) && this.auth.challenged) void this.auth.outcome().then(() => this.sendOpen(id))
    else this.sendOpen(id)
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
      for (const [id, s] of this.sessions) if (!s.answered) this.end(id, { type: 'notice', reason: String(a ?? '') })
      return
    }
    const id = String(a)
    const session = this.sessions.get(id)
    if (!session) return
    session.answered = true
    if (type === 'NEG-MSG' && typeof b === 'string') session.onReply({ type: 'msg', hex: b })
    else if (type === 'NEG-ERR') void this.refused(id, session, String(b ?? ''))
  }

  /** Ends every session with `reason` (the connection closed, or the read was given up). */
  fail(reason: string): void {
    for (const id of [...this.sessions.keys()]) this.end(id, { type: 'closed', reason })
  }

  private sendOpen(id: string): void {
    const session = this.sessions.get(id)
    if (!session) return
    if (isRestrictedRead([session.filter]) && this.auth.succeeded) session.authRetried = true
    this.send(['NEG-OPEN', id, session.filter, session.initial])
  }

  /** A NEG-ERR: the relay dropped the session. `auth-required:` is tried again once, after AUTH. */
  private async refused(id: string, session: Open, reason: string): Promise<void> {
    if (classifyRefusal(reason) === 'auth-required' && !session.authRetried) {
      session.authRetried = true
      const verdict = await this.auth.retryRead()
      if (!this.sessions.has(id)) return
      if (verdict === true) {
        session.answered = false
        session.onReply({ type: 'reopened' })
        return this.sendOpen(id)
      }
      reason = `${reason}; ${verdict}`
    }
    this.end(id, { type: 'err', reason })
  }

  private end(id: string, reply: NegReply): void {
    const session = this.sessions.get(id)
    if (session && this.sessions.delete(id)) session.onReply(reply)
  }
}
