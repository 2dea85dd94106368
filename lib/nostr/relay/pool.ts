// All the relays of one invocation: connects to every relay in parallel, queries and publishes
// on each as soon as it is connected, and never lets one slow or dead relay hold up the rest
// beyond the invocation's single deadline. Nothing rejects: every operation resolves to a
// per-relay result.

import type { Filter } from 'nostr-tools/filter'
import type { Event } from 'nostr-tools/pure'
import { CONNECT_SHARE, CONNECT_TIMEOUT_MS, QUERY_RESERVE_MAX_MS, QUERY_RESERVE_SHARE } from '../../timing.ts'
import { verifyAll } from '../schnorr.ts'
import type { SignAuth } from './auth.ts'
import { graced } from './grace.ts'
import { fetchMaxLimit } from './info.ts'
import { type LiveFeed, openLiveFeed } from './live.ts'
import { applyCaps, type PageCaps } from './pages.ts'
import { type PublishStatus, type QueryResult, RelaySocket } from './socket.ts'

export type { PublishStatus, QueryResult }

export interface RelayReport {
  url: string
  connected: boolean
  error?: string
  /** connect time in ms */
  ms?: number
  dropped: number
  /** waited for only while the other relays were (it answered nothing in an earlier run) */
  heldBack?: boolean
  /** the most events it has served for one filter, as far as we know */
  largestPage?: number
  /** it asked us for NIP-42 AUTH */
  asksAuth?: boolean
  /** its NIP-11 document, when read in this run: `maxLimit` when it gives one */
  info?: { maxLimit?: number }
}

export interface QueryOutcome {
  /** unique new events, each matching the filters, with valid ids and signatures */
  events: Event[]
  /** which relays served each event id */
  seenOn: Map<string, Set<string>>
  results: QueryResult[]
}

interface QueryOptions {
  /** ids already processed: not verified again, not returned */
  known?: (id: string) => boolean
  /** events returned without a signature check (our own, read only to see what a relay holds) */
  trusted?: (event: Event) => boolean
  deadline?: number
  /** relays to wait for until the deadline even when others answered first (ones that have
   *  not been read in full for a while, so that a slow relay is not cut off on every run),
   *  unless held back */
  patient?: string[]
  /** reads each relay its own way instead (gift wraps: NIP-77, else pages resumed across runs) */
  read?: (socket: RelaySocket, filters: Filter[], deadline: number, collect: (event: Event) => void) => Promise<QueryResult>
}

interface Connection {
  socket: RelaySocket
  ready: Promise<boolean>
  report: RelayReport
}

interface PoolOptions {
  timeoutMs: number
  log: (line: string) => void
  signAuth?: SignAuth
}

export class RelayPool {
  readonly deadline: number
  private readonly started = Date.now()
  private readonly connections = new Map<string, Connection>()
  private readonly badSignatures = new Map<string, number>()
  private heldBack = new Set<string>()
  private caps: Record<string, PageCaps | undefined> = {}
  private readonly askedInfo = new Set<string>()
  /** aborted when the pool closes: NIP-11 requests still out end, connects cut short go unreported */
  private readonly closing = new AbortController()

  constructor(
    urls: string[],
    private readonly opts: PoolOptions,
  ) {
    this.deadline = this.started + opts.timeoutMs
    this.addRelays(urls)
  }

  /** Starts connecting to relays not yet in the session (a peer's inbox relays, say). */
  addRelays(urls: string[]): void {
    // at least CONNECT_TIMEOUT_MS, more when the run was given longer (a busy machine, a slow link)
    const connectTimeout = Math.max(
      0,
      Math.min(Math.max(CONNECT_TIMEOUT_MS, this.opts.timeoutMs * CONNECT_SHARE), this.deadline - Date.now()),
    )
    for (const url of urls) {
      if (this.connections.has(url)) continue
      const socket = new RelaySocket(url, { log: (u, line) => this.opts.log(`${u} ${line}`), signAuth: this.opts.signAuth })
      applyCaps(socket, this.caps[url])
      const report: RelayReport = { url, connected: false, dropped: 0 }
      const ready = socket.connect(connectTimeout).then(
        () => {
          report.connected = true
          report.ms = Date.now() - this.started
          this.opts.log(`${url} connected in ${report.ms} ms`)
          return true
        },
        (err: Error) => {
          if (this.closing.signal.aborted) return false // the run is over: nothing to report
          report.error = err.message
          this.opts.log(`${url} unreachable after ${Date.now() - this.started} ms: ${err.message}`)
          return false
        },
      )
      this.connections.set(url, { socket, ready, report })
    }
  }

  reports(urls?: string[]): RelayReport[] {
    const allHeldBack = [...this.connections.keys()].every((url) => this.heldBack.has(url))
    return this.pick(urls).map((c) => ({
      ...c.report,
      ...(c.socket.largestPage ? { largestPage: c.socket.largestPage } : {}),
      ...(c.socket.auth.challenged ? { asksAuth: true } : {}),
      dropped: c.socket.dropped + (this.badSignatures.get(c.socket.url) ?? 0),
      ...(this.heldBack.has(c.socket.url) && !allHeldBack ? { heldBack: true } : {}),
    }))
  }

  /** Relays that answered nothing in an earlier run: from now on still tried, but waited for
   *  only while the others are (unless an operation goes to none but them). */
  holdBack(urls: string[]): void {
    this.heldBack = new Set(urls)
  }

  /** What earlier runs saw of each relay's cap on one answer (pages.ts). */
  knowPageCaps(caps: Record<string, PageCaps | undefined>): void {
    this.caps = caps
    for (const c of this.connections.values()) applyCaps(c.socket, caps[c.socket.url])
  }

  /** Asks these relays for their NIP-11 `max_limit` (info.ts) beside their connections, once a pool. */
  askMaxLimits(urls: string[]): void {
    for (const { socket, report } of this.pick(urls.filter((url) => !this.askedInfo.has(url)))) {
      this.askedInfo.add(socket.url)
      void fetchMaxLimit(socket.url, Math.max(0, this.deadline - Date.now()), this.closing.signal).then((info) => {
        if (!info) return
        report.info = info
        if (info.maxLimit) socket.maxLimit = info.maxLimit
      })
    }
  }

  get anyConnected(): boolean {
    return [...this.connections.values()].some((c) => c.report.connected)
  }

  /** One REQ per relay, sent as soon as that relay is connected; ends on EOSE or at the deadline.
   *  `filters` may differ per relay (a cursor of each relay's own). */
  async query(filters: Filter[] | ((url: string) => Filter[]), opts: QueryOptions = {}, urls?: string[]): Promise<QueryOutcome> {
    const filtersFor = typeof filters === 'function' ? filters : () => filters
    const deadline = opts.deadline ?? this.queryDeadline()
    const events: Event[] = []
    const seenOn = new Map<string, Set<string>>()
    const results = await graced(
      this.pick(urls),
      async ({ socket, ready, report }): Promise<QueryResult> => {
        if (!(await ready)) return { url: socket.url, complete: false, reason: report.error }
        const collect = (event: Event) => {
          const relays = seenOn.get(event.id)
          if (relays) return void relays.add(socket.url)
          seenOn.set(event.id, new Set([socket.url]))
          events.push(event)
        }
        const mine = filtersFor(socket.url)
        if (opts.read) return opts.read(socket, mine, deadline, collect)
        return socket.query(mine, deadline, (e, known) => known || collect(e), { known: opts.known })
      },
      (r) => r.complete,
      (c, reason) => {
        // a relay held back (silent in an earlier run) is not waited for, patient or not
        if (opts.patient?.includes(c.socket.url) && !this.heldBack.has(c.socket.url)) return undefined
        this.opts.log(`${c.socket.url} ${reason}`)
        c.socket.abandonQueries(reason)
        if (!c.report.connected) c.report.error ??= `still connecting; ${reason}`
        return { url: c.socket.url, complete: false, reason }
      },
      (c) => this.heldBack.has(c.socket.url) && !c.report.connected,
    )
    const trusted = opts.trusted
    const toCheck = trusted ? events.filter((e) => !trusted(e)) : events
    const checked = await verifyAll(toCheck)
    const invalid = new Set(toCheck.filter((_e, i) => !checked[i]))
    const verified = events.filter((event) => {
      if (!invalid.has(event)) return true
      for (const url of seenOn.get(event.id) ?? []) this.badSignatures.set(url, (this.badSignatures.get(url) ?? 0) + 1)
      this.opts.log(`dropped event ${event.id.slice(0, 12)}: bad signature`)
      return false
    })
    return { events: verified, seenOn, results }
  }

  /** A live subscription on every relay of the session, until its deadline (live.ts). */
  live(filters: Filter[]): LiveFeed {
    return openLiveFeed(this.pick(), filters, this.deadline, this.opts.log)
  }

  /** Publishes to the given relays (default: all of this session's); one status per relay. */
  async publish(event: Event, urls?: string[], deadline = this.deadline): Promise<PublishStatus[]> {
    if (urls) this.addRelays(urls)
    return graced(
      this.pick(urls),
      async ({ socket, ready, report }): Promise<PublishStatus> => {
        // a relay still connecting at the deadline is not waited for (the connect timeout may be later)
        const connected = await readyBy(ready, deadline)
        if (connected === undefined) return { url: socket.url, ok: false, reason: 'still connecting at the deadline' }
        if (!connected) return { url: socket.url, ok: false, reason: `unreachable: ${report.error}` }
        const status = await socket.publish(event, deadline)
        this.opts.log(`${socket.url} publish kind ${event.kind}: ${status.ok ? 'accepted' : `refused: ${status.reason}`}`)
        return status
      },
      (s) => s.ok,
      (c, reason) => {
        this.opts.log(`${c.socket.url} publish kind ${event.kind}: ${reason}`)
        c.socket.abandonPublish(event.id, reason)
        return { url: c.socket.url, ok: false, reason }
      },
      (c) => this.heldBack.has(c.socket.url) && !c.report.connected,
    )
  }

  close(): void {
    this.closing.abort()
    for (const { socket } of this.connections.values()) socket.close()
  }

  private pick(urls?: string[]): Connection[] {
    if (!urls) return [...this.connections.values()]
    return urls.map((u) => this.connections.get(u)).filter((c): c is Connection => c !== undefined)
  }

  /** Queries leave part of the time for publishing afterwards. */
  private queryDeadline(): number {
    return this.deadline - Math.min(QUERY_RESERVE_MAX_MS, this.opts.timeoutMs * QUERY_RESERVE_SHARE)
  }
}

/** Whether the relay connected, or undefined when `deadline` came first (the timer is cleared
 *  either way: nothing holds the process open). */
function readyBy(ready: Promise<boolean>, deadline: number): Promise<boolean | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), Math.max(0, deadline - Date.now()))
  })
  return Promise.race([ready, late]).finally(() => clearTimeout(timer))
}
