// One relay connection, NIP-01 and NIP-42 over `ws`. Every operation has a deadline and resolves
// (never rejects, never hangs) with what the relay said: EOSE or not; accepted only on `OK true`.
// Events are checked here for shape, id, filter and date (incoming.ts); their signatures are
// checked in bulk by the pool (pool.ts), which is much faster for many events.
import type { Filter } from 'nostr-tools/filter'
import type { Event } from 'nostr-tools/pure'
import WebSocket from 'ws'
import { MAX_FRAME_BYTES } from '../../limits.ts'
import { CLOSE_HANDSHAKE_MS } from '../../timing.ts'
import { RelayAuth, type SignAuth } from './auth.ts'
import { closeWithoutWaiting } from './close.ts'
import { isAcceptable } from './incoming.ts'
import {
  freshReq,
  type PendingPublish,
  type PendingQuery,
  type PublishStatus,
  parseFrame,
  type QueryResult,
  type ReqOptions,
} from './messages.ts'
import { NegChannel } from './neg.ts'
import { classifyRefusal } from './refusal.ts'

export type { PublishStatus, QueryResult }

interface SocketOptions {
  log: (url: string, line: string) => void
  /** signs NIP-42 AUTH events; without it, relays that require AUTH are reported as refusing */
  signAuth?: SignAuth
}

export class RelaySocket {
  private ws?: WebSocket
  private serial = 0
  private readonly queries = new Map<string, PendingQuery>()
  private readonly publishes = new Map<string, PendingPublish>()
  readonly auth: RelayAuth
  /** NIP-77 sessions on this connection (neg.ts) */
  readonly neg: NegChannel
  /** messages dropped: malformed or binary frames; events malformed, not matching their id
   *  or the REQ, or dated ahead of our clock */
  dropped = 0
  /** what it serves for one filter (pages.ts): the most events it served in one page, in this
   *  run or an earlier one; the `max_limit` of its NIP-11 document (info.ts) */
  largestPage = 0
  maxLimit = 0
  private closedBecause = 'not connected'
  /** a connect still waiting: its timeout, and how close() ends the wait */
  private connecting?: { timer: ReturnType<typeof setTimeout>; reject: (err: Error) => void }

  constructor(
    readonly url: string,
    private readonly opts: SocketOptions,
  ) {
    this.auth = new RelayAuth(url, (message) => this.send(message), opts.signAuth)
    this.neg = new NegChannel((message) => this.send(message), this.auth)
  }

  /** Resolves when connected; rejects with a short reason on failure or after `timeoutMs`. */
  connect(timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      // closeTimeout (ws 8.23; not yet in @types/ws, hence the widened type) bounds close()
      const options: WebSocket.ClientOptions & { closeTimeout: number } = {
        handshakeTimeout: timeoutMs,
        maxPayload: MAX_FRAME_BYTES,
        perMessageDeflate: false,
        closeTimeout: CLOSE_HANDSHAKE_MS,
      }
      const ws = new WebSocket(this.url, options)
      this.ws = ws
      const fail = (reason: string) => this.close(reason) // which rejects the connect
      this.connecting = { timer: setTimeout(() => fail('connect timed out'), timeoutMs), reject }
      ws.once('open', () => {
        clearTimeout(this.connecting?.timer)
        this.connecting = undefined
        resolve()
      })
      ws.on('error', (err: NodeJS.ErrnoException) => fail(err.code ?? err.message))
      ws.on('close', (code) => this.close(`connection closed (${code})`))
      ws.on('message', (data, isBinary) => this.receive(data, isBinary))
    })
  }

  /** `onEvent` gets each event that passed the shape, id, filter and date checks (not the
   *  signature: the pool checks those in bulk), and each `known` one unchecked (flagged). */
  query(filters: Filter[], deadline: number, onEvent: (event: Event, known: boolean) => void, opts: ReqOptions = {}): Promise<QueryResult> {
    const id = `p2p:${++this.serial}`
    let eose = false
    if (!this.open) return Promise.resolve({ url: this.url, complete: false, reason: this.closedBecause })
    return new Promise((resolve) => {
      const timer = setTimeout(() => finish(eose, eose ? undefined : 'no EOSE before the deadline'), Math.max(0, deadline - Date.now()))
      const finish = (complete: boolean, reason?: string, relayClosed = false) => {
        if (!this.queries.delete(id)) return
        clearTimeout(timer)
        if (!relayClosed) this.send(['CLOSE', id])
        resolve({ url: this.url, complete, ...(reason ? { reason } : {}) })
      }
      const onEose = () => {
        eose = true
        if (!opts.live) finish(true)
      }
      const query: PendingQuery = { ...opts, ...freshReq(filters, opts.live), onEvent, finish, onEose }
      this.queries.set(id, query)
      // a relay that asked for AUTH may withhold DMs from a REQ that goes out before our AUTH
      if (query.restricted && this.auth.challenged) void this.auth.sent().then(() => this.queries.has(id) && this.sendReq(id, query))
      else this.sendReq(id, query)
    })
  }

  private sendReq(id: string, query: PendingQuery): void {
    query.sentAs = this.auth.sentAs
    this.send(['REQ', id, ...query.filters])
  }

  /** Sends a DM read again as AUTH allows (auth.ts retry), or ends it saying why it could not be read. */
  private async retryAfterAuth(id: string, query: PendingQuery, why: string, relayClosed = false): Promise<void> {
    const verdict = await this.auth.retry(query.sentAs)
    if (!this.queries.has(id)) return
    if (verdict === true) this.sendReq(id, query)
    else query.finish(false, `${why}; ${verdict}`, relayClosed)
  }

  publish(event: Event, deadline: number): Promise<PublishStatus> {
    if (!this.open) return Promise.resolve({ url: this.url, ok: false, reason: this.closedBecause })
    return new Promise((resolve) => {
      const timer = setTimeout(
        () => finish({ url: this.url, ok: false, reason: 'no OK before the deadline' }),
        Math.max(0, deadline - Date.now()),
      )
      const finish = (status: PublishStatus) => {
        if (this.publishes.get(event.id)?.finish !== finish) return
        this.publishes.delete(event.id)
        clearTimeout(timer)
        resolve(status)
      }
      this.publishes.set(event.id, { event, finish, authRetried: false })
      this.send(['EVENT', event])
    })
  }

  /** Ends every open subscription (live ones included), keeping the connection. */
  closeQueries(): void {
    for (const q of [...this.queries.values()]) q.finish(true)
  }

  /** Gives up on the open subscriptions (other relays were faster), keeping the connection. */
  abandonQueries(reason: string): void {
    for (const q of [...this.queries.values()]) q.finish(false, reason)
    this.neg.fail(reason)
  }

  /** Gives up waiting for this event's OK (other relays were faster), keeping the connection. */
  abandonPublish = (eventId: string, reason: string) => this.publishes.get(eventId)?.finish({ url: this.url, ok: false, reason })

  private get open(): boolean {
    return this.ws?.readyState === WebSocket.OPEN
  }

  /** Ends every pending operation with `reason` and closes the connection: with a close frame
   *  when it is open (relays log a dropped TCP connection as abnormal, 1006), without waiting
   *  for the relay's answer (close.ts); at once while connecting, or when `abrupt` (a flood). */
  close(reason = 'closed by us', abrupt = false): void {
    this.closedBecause = reason
    clearTimeout(this.connecting?.timer)
    this.connecting?.reject(new Error(reason)) // closed while connecting (the run ended): no wait is left hanging
    this.connecting = undefined
    for (const q of [...this.queries.values()]) q.finish(false, reason)
    for (const p of [...this.publishes.values()]) p.finish({ url: this.url, ok: false, reason })
    this.neg.fail(reason)
    this.auth.abandon()
    if (this.ws) {
      this.ws.removeAllListeners()
      this.ws.on('error', () => {}) // a late error from a socket we no longer want
      if (this.open && !abrupt) closeWithoutWaiting(this.ws)
      else this.ws.terminate()
      this.ws = undefined
    }
  }

  private send(message: unknown[]): void {
    if (this.ws?.readyState !== WebSocket.OPEN) return
    const text = JSON.stringify(message)
    this.opts.log(this.url, `> ${text}`)
    this.ws.send(text)
  }

  private receive(data: WebSocket.RawData, isBinary: boolean): void {
    const text = isBinary ? '' : data.toString()
    if (!isBinary) this.opts.log(this.url, `< ${text}`)
    const message = parseFrame(text, isBinary)
    if (typeof message === 'string') this.drop(message)
    if (!Array.isArray(message)) return
    const [type, a, b, c] = message
    if (type === 'EVENT') this.onEvent(a, b)
    else if (type === 'EOSE') this.onEose(a)
    else if (type === 'CLOSED') this.onClosed(a, String(b ?? ''))
    else if (type === 'OK') this.onOk(a, b === true, String(c ?? ''))
    else if (type === 'AUTH' && typeof a === 'string') this.auth.answer(a)
    else if (type === 'NEG-MSG' || type === 'NEG-ERR' || type === 'NOTICE') this.neg.receive(type, a, b)
  }

  private onEvent(subId: unknown, event: unknown): void {
    const query = this.queries.get(subId as string)
    if (!query) return
    if (++query.received > query.maxEvents) {
      const flood = `flood: more than ${query.maxEvents} events for one REQ`
      // what peers publish fills a live feed: it ends alone, the connection stays for syncs; a
      // relay that floods another REQ would flood the others too: reading on costs the whole run
      this.opts.log(this.url, `! ${flood}; ${query.live ? 'ending the live subscription' : 'dropping the connection'}`)
      if (query.live) query.finish(false, flood)
      else this.close(flood, true)
      return
    }
    const id = (event as Event)?.id
    if (query.known && typeof id === 'string' && query.known(id)) query.onEvent(event as Event, true)
    else if (isAcceptable(event, query.filters)) query.onEvent(event, false)
    else this.drop('! invalid event dropped')
  }

  /** Counts and logs a message we refuse to read. */
  private drop(why: string): void {
    this.dropped++
    this.opts.log(this.url, why)
  }

  /** A REQ for DMs that ended after the relay asked for AUTH may have had them left out: it
   *  is complete only once sent as an authenticated reader. */
  private onEose(subId: unknown): void {
    const query = this.queries.get(subId as string)
    if (!query) return
    if (query.restricted && !this.auth.answeredAuthenticated(query.sentAs)) {
      void this.retryAfterAuth(subId as string, query, 'DMs withheld: the relay keeps them for authenticated readers')
    } else query.onEose()
  }

  private async onClosed(subId: unknown, reason: string): Promise<void> {
    const query = this.queries.get(subId as string)
    if (!query) return
    const closed = `closed by relay: ${reason || 'no reason given'}`
    if (classifyRefusal(reason) !== 'auth-required' || query.sentAs === 'after') query.finish(false, closed, true)
    else await this.retryAfterAuth(subId as string, query, closed, true)
  }

  private async onOk(eventId: unknown, ok: boolean, reason: string): Promise<void> {
    if (this.auth.onOk(eventId, ok, reason)) return
    const pending = this.publishes.get(eventId as string)
    if (!pending) return
    if (ok) return pending.finish({ url: this.url, ok: true })
    if (classifyRefusal(reason) === 'auth-required' && !pending.authRetried && (await this.auth.outcome())) {
      pending.authRetried = true
      return this.send(['EVENT', pending.event])
    }
    pending.finish({ url: this.url, ok: false, reason: reason || 'refused without a reason' })
  }
}
