// Real relays for tests and the benchmark: @nostr-relay/core (a third-party NIP-01 relay) with
// its SQLite store, served over `ws` on a free loopback port, speaking NIP-77 as strfry does
// (negentropy.ts: @nostr-relay/core does not). Also the two kinds of dead relay: a port where
// nothing listens, and a black hole that accepts TCP and never speaks.

import { mkdtempSync } from 'node:fs'
import { connect, createServer, type Server, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { EventUtils, LogLevel } from '@nostr-relay/common'
import { NostrRelay } from '@nostr-relay/core'
import { EventRepositorySqlite } from '@nostr-relay/event-repository-sqlite'
import { Validator } from '@nostr-relay/validator'
import { type Filter, matchFilter } from 'nostr-tools/filter'
import type { Event } from 'nostr-tools/pure'
import type { WebSocket } from 'ws'
import { ITEM_BYTES, itemCount, lowerBound, packItems } from '../../lib/nostr/neg-items.ts'
import { type NegOptions, negentropyConnection } from './negentropy.ts'
import { listenRelay, type TlsIdentity } from './nip11.ts'
import './verify.ts' // the relay's signature checks, by libsecp256k1

export interface TestRelay {
  url: string
  port: number
  /** stops serving; the stored events are kept for start() */
  stop(): Promise<void>
  /** serves again on the same port with the same events */
  start(): Promise<void>
  /** what the relay sent and was sent, since it started (tests may reset the counts) */
  traffic: Traffic
}

export interface Traffic {
  /** EVENT frames sent, and those of gift wraps (kind 1059) */
  events: number
  wraps: number
  /** bytes of every frame sent */
  bytes: number
  /** NEG-OPEN frames received */
  negOpens: number
}

export const noTraffic = (): Traffic => ({ events: 0, wraps: 0, bytes: 0, negOpens: 0 })

/** Counts a frame going out. */
export function countOut(traffic: Traffic, data: string): void {
  traffic.bytes += Buffer.byteLength(data)
  if (!data.startsWith('["EVENT"')) return
  traffic.events++
  if (/"kind":1059\b/.test(data)) traffic.wraps++
}

export interface RelayOptions {
  port?: number
  auth?: boolean
  /** NIP-77: served (the default); `off`, answered as @nostr-relay/core answers what it does not
   *  know (a NOTICE); `silent`, ignored */
  negentropy?: 'on' | 'off' | 'silent'
  /** strfry's NIP-77 limits (negentropy.ts) */
  neg?: NegOptions
  /** serve the events of this SQLite database (the benchmark seeds one with thousands) */
  dbFile?: string
  /** serve wss:// with this key and certificate */
  tls?: TlsIdentity
}

/** The ids and dates of the events `filter` matches. A filter on one tag (gift wraps for a key)
 *  is answered from the tag index alone, as strfry's index answers it; others by the
 *  repository's own query, selecting only those two columns. */
function idsAndDates(repo: EventRepositorySqlite, filter: Record<string, unknown>): Promise<Array<{ id: string; created_at: number }>> {
  type Rows = Promise<Array<{ id: string; created_at: number }>>
  type Query = {
    select(columns: string[]): Query
    where(column: string, op: string, value: unknown): Query
    limit(n: number): Query
    execute(): Rows
  }
  const inner = repo as unknown as {
    db: { selectFrom(table: string): Query }
    extractGenericTagsCollectionFrom(filter: unknown): string[][]
    createSelectQuery(filter: unknown): Query
  }
  const tags = inner.extractGenericTagsCollectionFrom(filter)
  const list = (key: string) => filter[key] as unknown[] | undefined
  if (tags.length !== 1 || list('ids')?.length || list('authors')?.length)
    return inner.createSelectQuery(filter).select(['e.id', 'e.created_at']).limit(1_000_000).execute()
  let query = inner.db.selectFrom('generic_tags').select(['event_id as id', 'created_at']).where('tag', 'in', tags[0])
  if (list('kinds')?.length) query = query.where('kind', 'in', list('kinds'))
  if (typeof filter.since === 'number') query = query.where('created_at', '>=', filter.since)
  if (typeof filter.until === 'number') query = query.where('created_at', '<=', filter.until)
  // an event that carries two of the values asked for comes once
  return query
    .limit(1_000_000)
    .execute()
    .then((rows) => [...new Map(rows.map((r) => [r.id, r])).values()])
}

/** @nostr-relay/event-repository-sqlite 0.0.40 with one query mended: for a filter on one tag,
 *  its subquery's ORDER BY and LIMIT are built and dropped (createGenericTagsSelectQuery), so a
 *  REQ for the newest 3 gift wraps of a key read all of them (~300 ms at 50,000, on every run's
 *  NIP-77 cross-check and every page) where strfry answers from its index. Here the tag index
 *  (tag, kind, created_at DESC) gives the ids, and the events are read by id. */
export class IndexedRepository extends EventRepositorySqlite {
  override async find(filter: Parameters<EventRepositorySqlite['find']>[0]) {
    type Query = {
      select(columns: string[]): Query
      distinct(): Query
      where(column: string, op: string, value: unknown): Query
      orderBy(column: string, direction: string): Query
      limit(n: number): Query
      execute(): Promise<Array<{ event_id: string }>>
    }
    const inner = this as unknown as {
      db: { selectFrom(table: string): Query }
      extractGenericTagsCollectionFrom(filter: unknown): string[][]
      getLimitFrom(filter: unknown): number
    }
    const tags = inner.extractGenericTagsCollectionFrom(filter)
    const limit = inner.getLimitFrom(filter)
    if (tags.length !== 1 || filter.ids?.length || filter.search || limit === 0) return super.find(filter)
    let query = inner.db.selectFrom('generic_tags').select(['event_id', 'created_at']).distinct().where('tag', 'in', tags[0])
    if (filter.kinds?.length) query = query.where('kind', 'in', filter.kinds)
    if (filter.authors?.length) query = query.where('author', 'in', filter.authors)
    if (typeof filter.since === 'number') query = query.where('created_at', '>=', filter.since)
    if (typeof filter.until === 'number') query = query.where('created_at', '<=', filter.until)
    const ids = (await query.orderBy('created_at', 'desc').limit(limit).execute()).map((r) => r.event_id)
    return ids.length ? super.find({ ids, limit: ids.length }) : []
  }

  /** Stores events none of which replaces another, in one transaction, into the tables upsert()
   *  writes (not its full-text index): upsert() commits each event apart, ~1 ms each, which made
   *  seeding thousands the slowest part of a test. */
  insertNew(events: Event[]): void {
    const db = this.getDatabase()
    const tagsOf = (event: Event) => (this as unknown as { extractGenericTagsFrom(e: Event): string[] }).extractGenericTagsFrom(event)
    const row = db.prepare(
      'INSERT OR IGNORE INTO events (id, pubkey, author, kind, created_at, tags, content, sig, d_tag_value) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    )
    const tag = db.prepare('INSERT OR IGNORE INTO generic_tags (tag, event_id, author, kind, created_at) VALUES (?, ?, ?, ?, ?)')
    db.transaction(() => {
      for (const e of events) {
        const d = EventUtils.extractDTagValue(e)
        if (row.run(e.id, e.pubkey, e.pubkey, e.kind, e.created_at, JSON.stringify(e.tags), e.content, e.sig, d).changes === 0) continue
        for (const t of tagsOf(e)) tag.run(t, e.id, e.pubkey, e.kind, e.created_at)
      }
    })()
  }
}

/** NIP-77's view of the store: the items (packed, lib/nostr/neg-items.ts) each filter matches,
 *  whatever its dates, cut to the dates asked for; kept until an event it matches is stored, as
 *  strfry keeps negentropy trees for the filters it is told of. Reading 50,000 from SQLite and
 *  sorting them took ~200 ms a NEG-OPEN: more than the whole quiet run of a client. */
class NegIndex {
  private readonly cache = new Map<string, { scope: Filter; items: Buffer }>()
  /** bumped by every stored event: a read that began before one is not kept */
  private stores = 0

  constructor(private readonly read: (scope: Record<string, unknown>) => Promise<Array<{ id: string; created_at: number }>>) {}

  async query(filter: Record<string, unknown>): Promise<Buffer> {
    const { since, until, limit: _limit, ...scope } = filter
    const key = JSON.stringify(scope)
    let items = this.cache.get(key)?.items
    if (!items) {
      const stores = this.stores
      items = packItems((await this.read(scope)).map((e) => [e.id, e.created_at] as const))
      if (stores === this.stores) this.cache.set(key, { scope: scope as Filter, items })
    }
    const none = new Uint8Array()
    const from = typeof since === 'number' ? lowerBound(items, since, none) : 0
    const to = typeof until === 'number' ? lowerBound(items, until + 1, none, from) : itemCount(items)
    return items.subarray(from * ITEM_BYTES, to * ITEM_BYTES)
  }

  stored(event: Event): void {
    this.stores++
    // a deletion (NIP-09) may take events of any filter away
    for (const [key, { scope }] of this.cache) if (event.kind === 5 || matchFilter(scope, event)) this.cache.delete(key)
  }
}

export async function startRelay(opts: RelayOptions = {}): Promise<TestRelay> {
  const dbFile = opts.dbFile ?? join(mkdtempSync(join(tmpdir(), 'p2p-relay-')), 'events.db')
  const port = opts.port ?? (await freePort())
  const traffic = noTraffic()
  let stopServing: (() => Promise<void>) | undefined

  const start = async () => {
    const repo = new IndexedRepository(dbFile)
    await repo.init()
    // NIP-77 reads every event a filter matches: a store of its own without the REQ cap, asked
    // for ids and dates only (as strfry's index holds them: whole events made a NEG-OPEN over
    // 50,000 wraps take 3 s here, and clients give up on it)
    const negRepo = new EventRepositorySqlite(dbFile, { defaultLimit: 100_000 })
    await negRepo.init()
    const negIndex = new NegIndex((filter) => idsAndDates(negRepo, { ...filter, limit: 1_000_000 }))
    const relay = new NostrRelay(repo, {
      filterResultCacheTtl: 0,
      logLevel: LogLevel.ERROR,
      ...(opts.auth ? { hostname: '127.0.0.1' } : {}),
    })
    const validator = new Validator()
    // @nostr-relay/core's own NIP-11 has no limitation; this store caps a filter at 1,000
    // (event-repository-sqlite: defaultLimit 100 x MAX_LIMIT_MULTIPLIER 10)
    const { wss, close } = await listenRelay(
      port,
      { supported_nips: [1, 11, 42, 77], limitation: { max_limit: 1_000 } },
      undefined,
      opts.tls,
    )
    wss.on('connection', (ws, req) => {
      countFrames(ws, traffic)
      relay.handleConnection(ws, req.socket.remoteAddress)
      const neg = negentropyConnection(
        (filter) => negIndex.query(filter),
        (frame) => ws.send(JSON.stringify(frame)),
        opts.neg,
      )
      ws.on('message', async (data) => {
        const text = data.toString()
        if (text.startsWith('["NEG-OPEN"')) traffic.negOpens++
        try {
          if (text.startsWith('["NEG-') && opts.negentropy !== 'off') {
            if (opts.negentropy !== 'silent') await neg(JSON.parse(text))
            return
          }
          const message = await validator.validateIncomingMessage(data)
          await relay.handleMessage(ws, message)
          if (message[0] === 'EVENT') negIndex.stored(message[1] as Event)
        } catch (err) {
          ws.send(JSON.stringify(['NOTICE', (err as Error).message]))
        }
      })
      ws.on('close', () => relay.handleDisconnect(ws))
      ws.on('error', () => {})
    })
    stopServing = async () => {
      await close()
      await relay.destroy()
      await repo.destroy()
      await negRepo.destroy()
    }
  }
  await start()
  return {
    url: `${opts.tls ? 'wss' : 'ws'}://127.0.0.1:${port}`,
    port,
    traffic,
    start,
    async stop() {
      await stopServing?.()
      stopServing = undefined
    },
  }
}

/** Counts what goes out on `ws`. */
function countFrames(ws: WebSocket, traffic: Traffic): void {
  const send = ws.send.bind(ws)
  ws.send = ((data: string, ...rest: unknown[]) => {
    countOut(traffic, String(data))
    return (send as (...args: unknown[]) => void)(data, ...rest)
  }) as typeof ws.send
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

let lastDeadPort = 0

/** A URL where nothing listens, now or later in the run: connecting is refused at once. A port
 *  below 1024, which no test server is given (they listen on port 0: an ephemeral one), found
 *  refused now; not a free ephemeral port, which a relay started a moment later by another test
 *  could take (seen once: a "dead" relay took our presence, network.test). Each call gives
 *  another, for tests that need several. */
export async function deadRelayUrl(): Promise<string> {
  for (let tries = 0; tries < 1023; tries++) {
    lastDeadPort = (lastDeadPort % 1023) + 1
    if (await refused(lastDeadPort)) return `ws://127.0.0.1:${lastDeadPort}`
  }
  throw new Error('every port below 1024 is listened on: no dead relay URL')
}

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    socket.once('connect', () => {
      socket.destroy()
      resolve(false)
    })
    socket.once('error', () => resolve(true))
  })
}

/** A TCP server that accepts connections and never answers: the WebSocket handshake hangs. */
export async function startBlackHole(): Promise<{ url: string; stop(): Promise<void> }> {
  const sockets = new Set<Socket>()
  const server: Server = createServer((socket) => {
    sockets.add(socket)
    socket.on('error', () => {})
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  return {
    url: `ws://127.0.0.1:${port}`,
    async stop() {
      for (const s of sockets) s.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
