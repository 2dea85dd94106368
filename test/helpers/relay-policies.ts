// The read/write/AUTH policies of deployed relay software, message by message, as read in their
// source: strfry master f8a56a8 (RelayIngester.cpp, RelayNegentropy.cpp, events.cpp, ReadRestrictor.h), khatru 9f99b98
// (handlers.go, policies/), nostr-rs-relay 64cfcaf (server.rs, conn.rs). The store behind is
// @nostr-relay/core: a policy only decides what reaches it and what comes back out.
import { randomBytes } from 'node:crypto'
import { type Event, getEventHash } from 'nostr-tools/pure'
import { type Conn, type Filter, type Policy, type RateLimit, rateLimiter, reply } from './policy-conn.ts'
import { validEvent } from './verify.ts'

const now = () => Math.floor(Date.now() / 1000)
const DM_KINDS = [4, 1059]
const tagCount = (f: Filter) => Object.keys(f).filter((k) => k.startsWith('#')).length

/** Is `pubkey` the author or one of the `p` tags? (strfry, and khatru's usual DM policy) */
const involves = (event: Event, pubkey: string | undefined) =>
  !!pubkey && (event.pubkey === pubkey || event.tags.some((t) => t[0] === 'p' && t[1] === pubkey))

/** strfry's normalizeRelayUrl: no scheme, nothing from the first / ? #, lower case. */
const strfryUrl = (url: string) =>
  url
    .replace(/^.*?:\/\//, '')
    .replace(/[/?#].*$/, '')
    .toLowerCase()

/** strfry's read restriction (relay.auth.restrictedReadKinds): "4, 1059" by default since
 *  2026-07-22 (after 1.1.1); empty in every released strfry, where anyone reads every DM. */
export const STRFRY_RESTRICTED_READ_KINDS = [4, 1059]

export function strfry(serviceUrl: string | undefined, restrictedReadKinds = STRFRY_RESTRICTED_READ_KINDS): Policy {
  const isRestricted = (kind: number) => restrictedReadKinds.includes(kind)
  // ReadRestrictor.h isFilterFullyRestricted: every kind the filter names is restricted
  const restricted = (f: Filter) => Array.isArray(f.kinds) && f.kinds.every(isRestricted)
  /** a read of nothing but restricted kinds, not authenticated: a challenge (once) and a refusal */
  const authFirst = (conn: Conn, refusal: unknown[]) => {
    if (conn.challenge) return reply(refusal)
    conn.challenge = randomBytes(16).toString('base64url') // 22 characters, as strfry's
    return reply(['AUTH', conn.challenge], refusal)
  }
  // ReadRestrictor.h shouldSendToSubscriber (restrictReadToInvolvedPubkey = true)
  const mayRead = (authed: string | undefined, event: Event) => !isRestricted(event.kind) || involves(event, authed)
  return {
    // RelayWebsocket.cpp (the NIP-11 answer): max_limit is relay.maxFilterLimit
    info: {
      supported_nips: [1, 2, 4, 9, 11, 22, 28, 40, 42, 70, 77],
      software: 'git+https://github.com/hoytech/strfry.git',
      limitation: { max_message_length: 131_072, max_subscriptions: 200, max_limit: 500 },
    },
    maxPayload: 131_072,
    defaultLimit: 500,
    canSee: (conn, event) => mayRead(conn.authed, event),
    onReq(conn, subId, filters) {
      if (filters.length > 200) return reply(['CLOSED', subId, 'ERROR: bad req: arr too big'])
      if (filters.some((f) => tagCount(f) > 3)) return reply(['CLOSED', subId, 'ERROR: bad req: too many tags in filter'])
      if (filters.length > 0 && filters.every(restricted) && !conn.authed)
        return authFirst(conn, ['CLOSED', subId, 'ERROR: auth-required: requested filter requires authentication'])
      if (!conn.subs.has(subId) && conn.subs.size >= 200) return reply(['NOTICE', 'ERROR: too many concurrent REQs'])
      return filters.map((f) => ({ ...f, limit: Math.min(f.limit ?? 500, 500) }))
    },
    // RelayIngester.cpp ingesterProcessNegentropy (lines 350-366): the same rule as a REQ's,
    // answered by NEG-ERR (no "ERROR: " before it)
    onNegOpen: (conn, subId, filter) =>
      restricted(filter) && !conn.authed
        ? authFirst(conn, ['NEG-ERR', subId, 'auth-required: requested filter requires authentication'])
        : undefined,
    // The negentropy thread is never told who is AUTHed: ingesterProcessAuth (RelayIngester.cpp
    // lines 321-322) dispatches SetAuth to the REQ worker and monitor only, so RelayNegentropy.cpp
    // (lines 171-175) filters with no key, and an AUTHed reader's restricted events are left out:
    // an empty set, however many are stored
    negCanSee: (_conn, event) => mayRead(undefined, event),
    onEvent: (_conn, event) => strfryEventCheck(event),
    onAuth(conn, event) {
      const error = (text: string) => [false, `error: ${text}`] as const
      if (!serviceUrl) return error('relay needs serviceUrl to be configured before AUTH can work')
      const refused = strfryEventCheck(event)
      if (refused) return error(refused.replace(/^invalid: /, ''))
      if (event.kind !== 22242) return error('wrong event kind, expected 22242')
      if (!conn.challenge) return error('no auth status available for connection')
      if (conn.authed) return error('already authenticated')
      const tag = (name: string, ok: (v: string) => boolean) => event.tags.some((t) => t[0] === name && ok(String(t[1])))
      if (!tag('challenge', (v) => v === conn.challenge)) return error('challenge string mismatch')
      if (!tag('relay', (v) => strfryUrl(v) === strfryUrl(serviceUrl)))
        return error(`incorrect or missing relay tag, expected: ${serviceUrl}`)
      conn.authed = event.pubkey
      return [true, 'successfully authenticated']
    },
  }
}

/** strfry's parseAndVerifyEvent, in its order: tags, timestamp, id and signature, size. */
function strfryEventCheck(event: Event): string | undefined {
  for (const [name, value = ''] of event.tags) {
    if (name !== 'p' && name !== 'e') continue
    if (value.length !== 64) return `invalid: unexpected size for fixed-size tag: ${name}`
    const bad = value.match(/[^0-9a-fA-F]/)?.[0] // hoytech's from_hex takes either case
    if (bad) return `invalid: unexpected character in from_hex: ${bad.charCodeAt(0)}`
  }
  const ephemeral = event.kind >= 20000 && event.kind < 30000
  if (event.created_at < now() - (ephemeral ? 60 : 94_608_000))
    return ephemeral ? 'invalid: ephemeral event expired' : 'invalid: created_at too early'
  if (event.created_at > now() + 900) return 'invalid: created_at too late'
  if (getEventHash(event) !== event.id) return 'invalid: bad event id'
  if (!validEvent(event)) return 'invalid: bad signature'
  const { content, created_at, id, kind, pubkey, sig, tags } = event
  const size = Buffer.byteLength(JSON.stringify({ content, created_at, id, kind, pubkey, sig, tags }))
  if (size > 65_536) return `invalid: event too large: ${size}`
}

export const KHATRU_EVENT_LIMIT: RateLimit = { tokensPerInterval: 2, intervalMs: 180_000, maxTokens: 10 }
export const KHATRU_FILTER_LIMIT: RateLimit = { tokensPerInterval: 20, intervalMs: 60_000, maxTokens: 100 }
/** a khatru whose operator raised both limits: what is measured is the flow, not the limiter */
export const PERMISSIVE_LIMIT: RateLimit = { tokensPerInterval: 1_000, intervalMs: 1_000, maxTokens: 1_000 }

/** khatru with policies.ApplySaneDefaults and the usual DM rule: kinds 4/1059 need AUTH. */
export function khatru(relayUrl: () => string, events = KHATRU_EVENT_LIMIT, filters = KHATRU_FILTER_LIMIT): Policy {
  const eventLimited = rateLimiter(events)
  const filterLimited = rateLimiter(filters)
  return {
    // relay.go NewRelay: no limitation unless the operator sets one
    info: { supported_nips: [1, 11, 40, 42, 70, 86], software: 'https://github.com/fiatjaf/khatru' },
    // handlers.go runs each message on a goroutine of its own: the REQ right behind our AUTH is
    // checked before the AUTH is (the worst of the race, every time)
    authLags: true,
    onConnect(conn) {
      conn.challenge = randomBytes(8).toString('hex') // made on connect, sent only when asked for
    },
    canSee: (conn, event) => !DM_KINDS.includes(event.kind) || involves(event, conn.authed),
    onReq(conn, subId, req) {
      for (const f of req) {
        // handlers.go: the first rejected filter closes the whole REQ
        let reason: string | undefined
        if (f.kinds?.some((k) => DM_KINDS.includes(k)) && !conn.authed)
          reason = 'auth-required: this query requires you to be authenticated'
        else if (tagCount(f) > 2 && tagCount(f) + (f.kinds?.length ?? 0) > 4) reason = 'too many things to filter for'
        else if (filterLimited(conn.ip)) reason = 'rate-limited: there is a bug in the client, no one should be making so many requests'
        if (reason?.startsWith('auth-required:')) return reply(['AUTH', conn.challenge], ['CLOSED', subId, reason])
        if (reason) return reply(['CLOSED', subId, reason])
      }
      return req
    },
    onEvent: (conn) => (eventLimited(conn.ip) ? 'rate-limited: slow down, please' : undefined),
    onAuth(conn, event) {
      // go-nostr nip42.ValidateAuthEvent: kind, challenge, relay URL (scheme, host, path), ±10 min, signature
      const relay = event.tags.find((t) => t[0] === 'relay')?.[1]
      const same = (a: string, b: string) => a.toLowerCase().replace(/\/+$/, '') === b.toLowerCase().replace(/\/+$/, '')
      const ok =
        event.kind === 22242 &&
        event.tags.some((t) => t[0] === 'challenge' && t[1] === conn.challenge) &&
        !!relay &&
        same(relay, relayUrl()) &&
        Math.abs(event.created_at - now()) <= 600 &&
        validEvent(event)
      if (!ok) return [false, 'error: failed to authenticate']
      conn.authed = event.pubkey
      return [true, '']
    },
  }
}

/** nostr-rs-relay with nip42_auth and nip42_dms: a challenge on connect, DMs only to their p or author. */
export function nostrRsRelay(relayUrl: () => string): Policy {
  const host = (url: string) => {
    try {
      return new URL(url).hostname.toLowerCase()
    } catch {
      return undefined
    }
  }
  return {
    // info.rs RelayInfo: no limitation, and this `software` (info.rs, at 64cfcaf line 133); it has
    // no cap to give: repo/sqlite.rs query_from_filter ends its SQL with the client's own LIMIT
    info: { supported_nips: [1, 2, 9, 11, 12, 15, 16, 20, 22, 33, 40, 42], software: 'https://git.sr.ht/~gheartsfield/nostr-rs-relay' },
    onConnect(conn) {
      conn.challenge = randomBytes(16).toString('hex')
      conn.send(['AUTH', conn.challenge])
    },
    // server.rs allowed_to_send: kinds 4, 44, 1059 go only to the first p tag or the author
    canSee: (conn, event) =>
      ![4, 44, 1059].includes(event.kind) ||
      (!!conn.authed && (event.pubkey === conn.authed || event.tags.find((t) => t[0] === 'p')?.[1] === conn.authed)),
    onReq: (_conn, _subId, filters) => filters,
    onAuth(conn, event) {
      if (conn.authed) return [true, ''] // conn.rs: already authenticated is Ok
      const relay = event.tags.find((t) => t[0] === 'relay')?.[1]
      const ok =
        validEvent(event) &&
        event.kind === 22242 &&
        Math.abs(event.created_at - now()) <= 600 &&
        event.tags.some((t) => t[0] === 'challenge' && t[1] === conn.challenge) &&
        !!relay &&
        host(relay) !== undefined &&
        host(relay) === host(relayUrl())
      if (!ok) return [false, 'restricted: authentication error: Invalid AUTH message']
      conn.authed = event.pubkey
      return [true, '']
    },
  }
}

/** No policy: what startRelay() serves (a base for `refuse`). */
export const plain = (): Policy => ({
  info: { supported_nips: [1, 11], limitation: { max_limit: 1_000 } }, // as startRelay()'s store caps
  canSee: () => true,
  onReq: (_c, _s, f) => f,
  onAuth: () => [true, ''],
})
