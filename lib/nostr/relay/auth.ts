// NIP-42 on one connection: a challenge is answered at once, and the outcome is kept, so that
// reads of DMs (which deployed relays serve only to the authenticated recipient) can go out
// right behind our AUTH, be sent again when the relay answered them before it, and say why when
// it failed.
import { makeAuthEvent } from 'nostr-tools/nip42'
import type { Event, EventTemplate } from 'nostr-tools/pure'
import { RESTRICTED_READ_KINDS } from '../kinds.ts'

/** Signs NIP-42 AUTH events (the WASM signer loads on first use: hence a promise). */
export type SignAuth = (template: EventTemplate) => Event | Promise<Event>

/** How a REQ for DMs went out, as to our AUTH: before the relay asked for it; right behind it,
 *  before its OK (relays that take a connection's messages in order, strfry and nostr-rs-relay,
 *  read it as authenticated; khatru, which runs each message on its own goroutine, may not);
 *  or after the OK. */
export type SentAs = 'before' | 'behind' | 'after'

interface Attempt {
  /** settles once our AUTH is out (or could not be signed) */
  sent: Promise<void>
  eventId?: string
  outcome: Promise<boolean>
  settle: (ok: boolean) => void
  /** the relay's reason, when it refused */
  refusal?: string
  ok?: boolean
}

function conclude(attempt: Attempt, ok: boolean, reason: string): void {
  attempt.ok = ok
  if (!ok) attempt.refusal = reason
  attempt.settle(ok)
}

/** Does a REQ of these filters ask only for kinds that relays keep for authenticated readers? */
export const isRestrictedRead = (filters: Array<{ kinds?: number[] }>): boolean =>
  filters.every((f) => f.kinds !== undefined && f.kinds.length > 0 && f.kinds.every((k) => RESTRICTED_READ_KINDS.includes(k)))

export class RelayAuth {
  private attempt?: Attempt

  constructor(
    private readonly url: string,
    private readonly send: (message: unknown[]) => void,
    private readonly sign?: SignAuth,
  ) {}

  /** Whether the relay has asked us to authenticate on this connection. */
  get challenged(): boolean {
    return this.attempt !== undefined
  }

  /** Whether we are authenticated now. */
  get succeeded(): boolean {
    return this.attempt?.ok === true
  }

  /** Why reading what needs AUTH is not possible here. */
  get failure(): string {
    if (!this.sign) return 'it asks for AUTH and this run cannot sign'
    return `it refused our AUTH (${this.attempt?.refusal || 'no reason given'})`
  }

  /** How a REQ sent now goes out (see SentAs). */
  get sentAs(): SentAs {
    return this.succeeded ? 'after' : this.challenged ? 'behind' : 'before'
  }

  /** Answers the first challenge at once, and no other: one AUTH per relay and run (a relay
   *  that challenged 2,000 times had each signed, 13 s past a 4 s deadline). */
  answer(challenge: string): void {
    if (this.attempt) return
    let settle: (ok: boolean) => void = () => {}
    const outcome = new Promise<boolean>((resolve) => {
      settle = resolve
    })
    const attempt: Attempt = { sent: Promise.resolve(), outcome, settle }
    this.attempt = attempt
    const sign = this.sign
    if (!sign) {
      conclude(attempt, false, '')
      return
    }
    attempt.sent = (async () => {
      try {
        const event = await sign(makeAuthEvent(this.url, challenge))
        attempt.eventId = event.id
        this.send(['AUTH', event])
      } catch (err) {
        conclude(attempt, false, `could not sign: ${(err as Error).message}`)
      }
    })()
  }

  /** Takes the OK that answers our AUTH event; false when the OK is for something else. */
  onOk(eventId: unknown, ok: boolean, reason: string): boolean {
    const attempt = this.attempt
    if (attempt?.eventId === undefined || attempt.eventId !== eventId) return false
    conclude(attempt, ok, reason)
    return true
  }

  /** Whether a DM read that ended on EOSE had our AUTH behind it: the relay never asked, or it
   *  went out after the AUTH succeeded, or behind it and the AUTH's OK came before this EOSE. */
  answeredAuthenticated(sentAs: SentAs): boolean {
    return !this.challenged || sentAs === 'after' || (sentAs === 'behind' && this.succeeded)
  }

  /** The outcome of our AUTH: true when authenticated, false when refused (or
   *  the connection ended first), undefined when the relay never asked. */
  async outcome(): Promise<boolean | undefined> {
    return this.attempt?.outcome
  }

  /** Settles once a REQ sent now would go out behind our AUTH (at once when not challenged). */
  async sent(): Promise<void> {
    await this.attempt?.sent
  }

  /** For a DM read the relay answered as an unauthenticated one (CLOSED auth-required, or an
   *  EOSE that may have left DMs out): true to send it again now, else why it cannot be read.
   *  One sent before the challenge goes again behind our AUTH; one sent behind it, once the AUTH
   *  succeeded; one sent after, never. */
  async retry(sentAs: SentAs): Promise<true | string> {
    if (!this.attempt) return 'it never asked for AUTH'
    if (sentAs === 'after') return 'refused though authenticated'
    if (sentAs === 'before') await this.attempt.sent
    const ok = sentAs === 'before' ? this.attempt.ok !== false : await this.attempt.outcome
    return ok || this.failure
  }

  /** Ends a pending attempt (the connection is closing). */
  abandon(): void {
    this.attempt?.settle(false)
  }
}
