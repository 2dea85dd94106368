// A relay that behaves as deployed relay software does (strfry, khatru, nostr-rs-relay, or one
// that refuses writes), message by message: @nostr-relay/core stores and serves, and a policy
// (relay-policies.ts) sits in front of it, reading each incoming REQ/EVENT/AUTH/CLOSE and each
// outgoing EVENT/OK frame. strfry alone speaks NIP-77 (negentropy.ts), and as strfry does, over
// the events its policy shows an unauthenticated reader (negCanSee); the others answer a NEG-OPEN
// as a message they do not know, with a NOTICE.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Client, LogLevel } from '@nostr-relay/common'
import { NostrRelay } from '@nostr-relay/core'
import { EventRepositorySqlite } from '@nostr-relay/event-repository-sqlite'
import { Validator } from '@nostr-relay/validator'
import type { Event } from 'nostr-tools/pure'
import { packItems } from '../../lib/nostr/neg-items.ts'
import { type NegOptions, negentropyConnection } from './negentropy.ts'
import { listenRelay } from './nip11.ts'
import type { Conn, Filter, Policy, RateLimit } from './policy-conn.ts'
import { countOut, freePort, IndexedRepository, noTraffic, type TestRelay } from './relay.ts'
import { khatru, nostrRsRelay, plain, strfry } from './relay-policies.ts'
import './verify.ts' // the relay's signature checks, by libsecp256k1

export type PolicyMode = 'strfry' | 'khatru' | 'nostr-rs-relay' | 'plain'

export interface Refusal {
  prefix: 'blocked' | 'invalid' | 'pow' | 'restricted'
  /** only these kinds are refused (default: all) */
  kinds?: number[]
  message?: string
}

export interface PolicyRelayOptions {
  mode: PolicyMode
  port?: number
  /** the URL clients reach it by, which AUTH events must name: strfry's relay.auth.serviceUrl
   *  (unset, strfry's default, AUTH never succeeds), nostr-rs-relay's info.relay_url, khatru's
   *  ServiceURL (unset: the request's Host, khatru relay.go getBaseURL); unset here, where it
   *  listens, which is what a client reaches unless a proxy stands between */
  serviceUrl?: string
  /** strfry's relay.auth.restrictedReadKinds (default STRFRY_RESTRICTED_READ_KINDS; [] for open reads) */
  restrictedReadKinds?: number[]
  /** khatru's write rate limit per IP (default 2 per 3 min, burst 10) */
  eventRateLimit?: RateLimit
  /** khatru's REQ filter rate limit per IP (default 20 per min, burst 100) */
  filterRateLimit?: RateLimit
  /** refuse writes for good, before the mode's own checks */
  refuse?: Refusal
  /** strfry's NIP-77 limits */
  neg?: NegOptions
}

export interface PolicyStats {
  /** AUTH messages received, and those accepted */
  auths: number
  authsAccepted: number
  /** AUTH challenges sent */
  challenges: number
  reqs: number
  /** CLOSED frames sent */
  closed: number
  /** OK false frames sent for EVENTs */
  refused: number
}

export interface PolicyRelay extends TestRelay {
  stats: PolicyStats
  /** the distinct events the store accepted, by id */
  stored: Map<string, Event>
  /** stores events straight away, as ones the relay took before the test began (thousands in
   *  a second, where publishing them through the policy's signature checks takes a minute) */
  seed(events: Event[]): Promise<void>
}

/** Policy.authLags: when to take an AUTH that no message followed */
const AUTH_LAG_FALLBACK_MS = 50

const REFUSALS = {
  blocked: 'blocked: you are not allowed to write here',
  invalid: 'invalid: event refused by relay policy',
  pow: 'pow: difficulty 20 required',
  restricted: 'restricted: not allowed to write here',
}

export async function startPolicyRelay(opts: PolicyRelayOptions): Promise<PolicyRelay> {
  const port = opts.port ?? (await freePort())
  const url = `ws://127.0.0.1:${port}`
  const dbFile = join(mkdtempSync(join(tmpdir(), 'p2p-policy-relay-')), 'events.db')
  const stats: PolicyStats = { auths: 0, authsAccepted: 0, challenges: 0, reqs: 0, closed: 0, refused: 0 }
  const stored = new Map<string, Event>()
  const traffic = noTraffic()
  let stopServing: (() => Promise<void>) | undefined
  let store: IndexedRepository | undefined

  const start = async () => {
    const policy = makePolicy(opts, url) // state such as rate limits starts again with the server
    const repo = new IndexedRepository(dbFile, { defaultLimit: policy.defaultLimit ?? 100 })
    await repo.init()
    store = repo
    const negRepo = new EventRepositorySqlite(dbFile, { defaultLimit: 100_000 })
    await negRepo.init()
    const relay = new NostrRelay(repo, { filterResultCacheTtl: 0, logLevel: LogLevel.ERROR, maxSubscriptionsPerClient: 1000 })
    const validator = new Validator()
    const { wss, close } = await listenRelay(port, policy.info, policy.maxPayload)
    wss.on('connection', (ws, req) => {
      const pending = new Map<string, Event>()
      const raw = (frame: unknown[]) => {
        if (frame[0] === 'AUTH') stats.challenges++
        if (frame[0] === 'CLOSED') stats.closed++
        if (frame[0] === 'OK' && frame[2] === false && pending.has(frame[1] as string)) stats.refused++
        const data = JSON.stringify(frame)
        countOut(traffic, data)
        ws.send(data)
      }
      const conn: Conn = { ip: req.socket.remoteAddress ?? '', subs: new Set(), send: raw }
      // NIP-77 reconciles what this connection may see of what the filter matches
      const seeable = async (filter: Record<string, unknown>) =>
        packItems(
          (await negRepo.find({ ...filter, limit: 1_000_000 }))
            .filter((e) => (policy.negCanSee ?? policy.canSee)(conn, e as Event))
            .map((e) => [e.id, e.created_at] as const),
        )
      const neg = negentropyConnection(seeable, raw, opts.neg)
      // what the store sends goes through the policy's read rule first
      const client: Client = {
        get readyState() {
          return ws.readyState
        },
        send(data: string) {
          const frame = JSON.parse(data)
          if (frame[0] === 'EVENT' && !policy.canSee(conn, frame[2])) return
          const event = frame[0] === 'OK' && frame[2] === true ? pending.get(frame[1]) : undefined
          if (event && !stored.has(event.id)) stored.set(event.id, event)
          raw(frame)
        },
      }
      relay.handleConnection(client, conn.ip)
      policy.onConnect?.(conn)
      ws.on('message', async (data) => {
        let message: unknown[]
        try {
          message = JSON.parse(data.toString())
          if (!Array.isArray(message)) throw new Error('message is not an array')
        } catch (err) {
          raw(['NOTICE', `ERROR: bad msg: ${(err as Error).message}`])
          return
        }
        try {
          if (message[0] === 'NEG-OPEN') traffic.negOpens++
          if (policy.onNegOpen && String(message[0]).startsWith('NEG-')) {
            const answer = message[0] === 'NEG-OPEN' && policy.onNegOpen(conn, String(message[1]), message[2] as Filter)
            if (answer) for (const frame of answer.reply) raw(frame)
            else await neg(message)
            return
          }
          // a malformed message makes a policy throw: answered as strfry does, with a NOTICE
          const lagging = conn.lagging // an AUTH before this message takes effect after it
          const forward = handle(policy, opts.refuse, conn, message, stats, pending, raw)
          lagging?.()
          if (forward) await relay.handleMessage(client, await validator.validateIncomingMessage(forward))
        } catch (err) {
          raw(['NOTICE', `ERROR: bad msg: ${(err as Error).message}`])
        }
      })
      ws.on('close', () => relay.handleDisconnect(client))
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
    url,
    port,
    stats,
    traffic,
    stored,
    async seed(events) {
      store?.insertNew(events)
    },
    start,
    async stop() {
      await stopServing?.()
      stopServing = undefined
    },
  }
}

function makePolicy(opts: PolicyRelayOptions, url: string): Policy {
  if (opts.mode === 'strfry') return strfry(opts.serviceUrl, opts.restrictedReadKinds)
  if (opts.mode === 'khatru') return khatru(() => opts.serviceUrl ?? url, opts.eventRateLimit, opts.filterRateLimit)
  if (opts.mode === 'nostr-rs-relay') return nostrRsRelay(() => opts.serviceUrl ?? url)
  return plain()
}

/** One incoming message through the policy: the message to pass to the store, if any. */
function handle(
  policy: Policy,
  refuse: Refusal | undefined,
  conn: Conn,
  message: unknown[],
  stats: PolicyStats,
  pending: Map<string, Event>,
  raw: (frame: unknown[]) => void,
): unknown[] | undefined {
  const [type, arg] = message
  if (type === 'AUTH') {
    stats.auths++
    const event = arg as Event
    const authenticate = () => {
      const [ok, reason] = policy.onAuth(conn, event)
      if (ok) stats.authsAccepted++
      raw(['OK', event?.id ?? '?', ok, reason])
    }
    if (!policy.authLags) {
      authenticate()
      return
    }
    const lagging = () => {
      if (conn.lagging !== lagging) return
      conn.lagging = undefined
      authenticate()
    }
    conn.lagging = lagging
    setTimeout(lagging, AUTH_LAG_FALLBACK_MS)
    return
  }
  if (type === 'REQ') {
    stats.reqs++
    const subId = String(arg)
    const answer = policy.onReq(conn, subId, message.slice(2) as Filter[])
    if ('reply' in answer) {
      for (const frame of answer.reply) raw(frame)
      return
    }
    conn.subs.add(subId)
    return ['REQ', subId, ...answer]
  }
  if (type === 'CLOSE') conn.subs.delete(String(arg))
  if (type === 'EVENT') {
    const event = arg as Event
    pending.set(event.id, event)
    const reason =
      refuse && (!refuse.kinds || refuse.kinds.includes(event.kind))
        ? (refuse.message ?? REFUSALS[refuse.prefix])
        : policy.onEvent?.(conn, event)
    if (reason) {
      raw(['OK', event.id, false, reason])
      return
    }
  }
  return message
}
