// NIP-42 on one connection: a challenge is answered at once, and the outcome is kept, so that
// reads of DMs (which deployed relays serve only to the authenticated recipient) can wait for
// it, be sent again once it succeeded, and say why when it failed.
import { makeAuthEvent } from 'nostr-tools/nip42'
import type { Event, EventTemplate } from 'nostr-tools/pure'
import { RESTRICTED_READ_KINDS } from '../kinds.ts'

interface Attempt {
  eventId: string
  outcome: Promise<boolean>
  settle: (ok: boolean) => void
  /** the relay's reason, when it refused */
  refusal?: string
  ok?: boolean
}

/** Does a REQ of these filters ask only for kinds that relays keep for authenticated readers? */
export const isRestrictedRead = (filters: Array<{ kinds?: number[] }>): boolean =>
  filters.every((f) => f.kinds !== undefined && f.kinds.length > 0 && f.kinds.every((k) => RESTRICTED_READ_KINDS.includes(k)))

export class RelayAuth {
  private attempt?: Attempt

  constructor(
    private readonly url: string,
    private readonly send: (message: unknown[]) => void,
    private readonly sign?: (template: EventTemplate) => Event,
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

  /** Answers the first challenge at once, and no other: one AUTH per relay and run (a relay
   *  that challenged 2,000 times had each signed, 13 s past a 4 s deadline). */
  answer(challenge: string): void {
    if (this.attempt) return
    if (!this.sign) {
      this.attempt = { eventId: '', outcome: Promise.resolve(false), settle: () => {}, ok: false }
      return
    }
    const event = this.sign(makeAuthEvent(this.url, challenge))
    let settle: (ok: boolean) => void = () => {}
    const outcome = new Promise<boolean>((resolve) => {
      settle = resolve
    })
    this.attempt = { eventId: event.id, outcome, settle }
    this.send(['AUTH', event])
  }

  /** Takes the OK that answers our AUTH event; false when the OK is for something else. */
  onOk(eventId: unknown, ok: boolean, reason: string): boolean {
    const attempt = this.attempt
    if (!attempt || attempt.eventId !== eventId) return false
    attempt.ok = ok
    if (!ok) attempt.refusal = reason
    attempt.settle(ok)
    return true
  }

  /** The outcome of our AUTH: true when authenticated, false when refused (or
   *  the connection ended first), undefined when the relay never asked. */
  async outcome(): Promise<boolean | undefined> {
    return this.attempt?.outcome
  }

  /** For a read the relay may have withheld for want of AUTH: true when authenticated now (send
   *  it again), else why it cannot be read here. */
  async retryRead(): Promise<true | string> {
    if (await this.outcome()) return true
    return this.challenged ? this.failure : 'it never asked for AUTH'
  }

  /** Ends a pending attempt (the connection is closing). */
  abandon(): void {
    this.attempt?.settle(false)
  }
}
