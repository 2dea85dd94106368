// All the relays of one invocation: connects to every relay in parallel, queries and publishes
// on each as soon as it is connected, and never lets one slow or dead relay hold up the rest
// beyond the invocation's single deadline.
import type { Event, EventTemplate } from 'nostr-tools/pure'
import type { Filter } from 'nostr-tools/filter'
import { RelaySocket, type PublishStatus, type QueryResult } from './socket.ts'

export type { PublishStatus, QueryResult }

/** A relay that has not finished its WebSocket handshake by then is given up on. */
export const CONNECT_TIMEOUT_MS = 2_000

export interface RelayReport {
  url: string
  connected: boolean
  error?: string
  /** connect time in ms */
  ms?: number
  invalidEvents: number
}

export interface QueryOutcome {
  /** unique events, each verified and matching the filters */
  events: Event[]
  /** which relays served each event id */
  seenOn: Map<string, Set<string>>
  results: QueryResult[]
}

interface Connection {
  socket: RelaySocket
  ready: Promise<boolean>
  report: RelayReport
}

export interface SessionOptions {
  timeoutMs: number
  log: (line: string) => void
  signAuth?: (template: EventTemplate) => Event
}

export class RelaySession {
  readonly deadline: number
  private readonly connections: Connection[]

  constructor(urls: string[], private readonly opts: SessionOptions) {
    const started = Date.now()
    this.deadline = started + opts.timeoutMs
    const connectTimeout = Math.min(CONNECT_TIMEOUT_MS, opts.timeoutMs)
    this.connections = urls.map((url) => {
      const socket = new RelaySocket(url, { log: (u, line) => opts.log(`${u} ${line}`), signAuth: opts.signAuth })
      const report: RelayReport = { url, connected: false, invalidEvents: 0 }
      const ready = socket.connect(connectTimeout).then(
        () => {
          report.connected = true
          report.ms = Date.now() - started
          opts.log(`${url} connected in ${report.ms} ms`)
          return true
        },
        (err: Error) => {
          report.error = err.message
          opts.log(`${url} unreachable after ${Date.now() - started} ms: ${err.message}`)
          return false
        },
      )
      return { socket, ready, report }
    })
  }

  /** Waits for every relay to connect or fail. */
  async settle(): Promise<RelayReport[]> {
    await Promise.all(this.connections.map((c) => c.ready))
    return this.reports()
  }

  reports(): RelayReport[] {
    return this.connections.map((c) => ({ ...c.report, invalidEvents: c.socket.invalidEvents }))
  }

  get anyConnected(): boolean {
    return this.connections.some((c) => c.report.connected)
  }

  /** One REQ per relay, sent as soon as that relay is connected; ends on EOSE or at `deadline`. */
  async query(filters: Filter[], deadline = this.queryDeadline()): Promise<QueryOutcome> {
    const events: Event[] = []
    const seenOn = new Map<string, Set<string>>()
    const results = await Promise.all(
      this.connections.map(async ({ socket, ready, report }) => {
        if (!(await ready)) return { url: socket.url, complete: false, reason: report.error }
        return socket.query(filters, deadline, (event) => {
          const relays = seenOn.get(event.id)
          if (relays) return void relays.add(socket.url)
          seenOn.set(event.id, new Set([socket.url]))
          events.push(event)
        })
      }),
    )
    return { events, seenOn, results }
  }

  /** Publishes to the given relays (default: all of this session's); one status per relay. */
  async publish(event: Event, urls?: string[]): Promise<PublishStatus[]> {
    const targets = urls ? this.connections.filter((c) => urls.includes(c.socket.url)) : this.connections
    return Promise.all(
      targets.map(async ({ socket, ready, report }): Promise<PublishStatus> => {
        if (!(await ready)) return { url: socket.url, ok: false, reason: `unreachable: ${report.error}`, timedOut: false }
        const status = await socket.publish(event, this.deadline)
        this.opts.log(`${socket.url} publish kind ${event.kind}: ${status.ok ? 'accepted' : `refused: ${status.reason}`}`)
        return status
      }),
    )
  }

  close(): void {
    for (const { socket } of this.connections) socket.close()
  }

  /** Queries leave a quarter of the time (at most 1 s) for publishing afterwards. */
  private queryDeadline(): number {
    return this.deadline - Math.min(1_000, this.opts.timeoutMs / 4)
  }
}
