// The strfry policy relay, frame by frame, driven with raw `ws` and nostr-tools as any client would.
import * as nip17 from 'nostr-tools/nip17'
import { generateSecretKey, getPublicKey } from 'nostr-tools/pure'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type PolicyRelay, startPolicyRelay } from './helpers/policy-relay.ts'
import { authEvent, challengeOf, connect, now, plain, signed } from './helpers/raw-client.ts'
import { freePort, startRelay } from './helpers/relay.ts'

const AUTH_REQUIRED = 'ERROR: auth-required: requested filter requires authentication'
const alice = generateSecretKey()
const bob = generateSecretKey()
const carol = generateSecretKey()
const [bobPk, carolPk] = [getPublicKey(bob), getPublicKey(carol)]
const wrapFor = (pk: string, text: string) => plain(nip17.wrapEvent(alice, { publicKey: pk }, text))

let closedRelay: PolicyRelay // strfry's default: no serviceUrl
let dmRelay: PolicyRelay // serviceUrl set: AUTH works
let serviceUrl: string
const toBob = wrapFor(bobPk, 'for bob')
const toCarol = wrapFor(carolPk, 'for carol')
const note = signed({ content: 'a public note', tags: [['p', bobPk]] }, alice)

beforeAll(async () => {
  const port = await freePort()
  serviceUrl = `ws://127.0.0.1:${port}`
  ;[closedRelay, dmRelay] = await Promise.all([
    startPolicyRelay({ mode: 'strfry' }),
    startPolicyRelay({ mode: 'strfry', port, serviceUrl }),
  ])
  for (const relay of [closedRelay, dmRelay]) {
    const c = await connect(relay.url)
    for (const e of [toBob, toCarol, note]) expect(await c.publish(e)).toEqual(['OK', e.id, true, ''])
    c.close()
  }
})
afterAll(async () => {
  await Promise.all([closedRelay.stop(), dmRelay.stop()])
})

describe('strfry: reading kind 1059 without AUTH', () => {
  it('a REQ whose filters all name a restricted kind: one challenge per connection, then CLOSED', async () => {
    const c = await connect(closedRelay.url)
    const first = await c.req('dm', { kinds: [1059], '#p': [bobPk] })
    expect(first).toEqual([
      ['AUTH', expect.stringMatching(/^[\w-]{22}$/)],
      ['CLOSED', 'dm', AUTH_REQUIRED],
    ])
    const second = await c.req('dm2', { kinds: [4, 1059], '#p': [bobPk] }, { kinds: [4] })
    expect(second).toEqual([['CLOSED', 'dm2', AUTH_REQUIRED]])
    c.close()
  })

  it('a mixed REQ, or one naming no kinds, gets EOSE with the wraps left out, live events too', async () => {
    const c = await connect(closedRelay.url)
    expect(await c.req('mixed', { kinds: [1059], '#p': [bobPk] }, { kinds: [1], authors: [note.pubkey] })).toEqual([
      ['EVENT', 'mixed', note],
      ['EOSE', 'mixed'],
    ])
    expect(await c.req('nokinds', { '#p': [bobPk] })).toEqual([
      ['EVENT', 'nokinds', note],
      ['EOSE', 'nokinds'],
    ])
    const [liveWrap, liveNote] = [wrapFor(bobPk, 'live'), signed({ tags: [['p', bobPk]] }, alice)]
    const writer = await connect(closedRelay.url)
    for (const e of [liveWrap, liveNote]) expect((await writer.publish(e))[2]).toBe(true)
    await c.next((f) => f[0] === 'EVENT' && f[1] === 'nokinds' && (f[2] as { id: string }).id === liveNote.id)
    expect(c.frames.filter((f) => f[0] === 'EVENT').map((f) => (f[2] as { kind: number }).kind)).toEqual([1, 1, 1, 1])
    expect(c.frames.some((f) => f[0] === 'AUTH')).toBe(false)
    c.close()
    writer.close()
  })

  it('without serviceUrl, AUTH never succeeds', async () => {
    const c = await connect(closedRelay.url)
    await c.req('dm', { kinds: [1059], '#p': [bobPk] })
    const event = authEvent(bob, closedRelay.url, challengeOf(c))
    expect(await c.auth(event)).toEqual(['OK', event.id, false, 'error: relay needs serviceUrl to be configured before AUTH can work'])
    expect(await c.req('again', { kinds: [1059], '#p': [bobPk] })).toEqual([['CLOSED', 'again', AUTH_REQUIRED]])
    expect(closedRelay.stats.authsAccepted).toBe(0)
    c.close()
  })
})

describe('strfry with serviceUrl: AUTH checked as strfry checks it', () => {
  it('refuses an AUTH before any challenge, a wrong challenge, relay tag, kind, signature or an old one', async () => {
    const c = await connect(dmRelay.url)
    const early = authEvent(bob, serviceUrl, 'nothing-asked-yet')
    expect(await c.auth(early)).toEqual(['OK', early.id, false, 'error: no auth status available for connection'])
    await c.req('dm', { kinds: [1059], '#p': [bobPk] })
    const challenge = challengeOf(c)
    const cases: Array<[ReturnType<typeof authEvent>, string]> = [
      [authEvent(bob, serviceUrl, 'x'.repeat(22)), 'error: challenge string mismatch'],
      [authEvent(bob, 'ws://other.example:7777', challenge), `error: incorrect or missing relay tag, expected: ${serviceUrl}`],
      [authEvent(bob, serviceUrl, challenge, { created_at: now() - 61 }), 'error: ephemeral event expired'],
      // well past the 900 s strfry allows: the cases are checked one after the other, and on a
      // loaded machine seconds pass between this line and the relay's clock reading
      [authEvent(bob, serviceUrl, challenge, { created_at: now() + 1_000 }), 'error: created_at too late'],
      [authEvent(bob, serviceUrl, challenge, { kind: 1 }), 'error: wrong event kind, expected 22242'],
      [{ ...authEvent(bob, serviceUrl, challenge), sig: authEvent(carol, serviceUrl, challenge).sig }, 'error: bad signature'],
    ]
    for (const [event, reason] of cases) expect(await c.auth(event)).toEqual(['OK', event.id, false, reason])
    expect(dmRelay.stats.authsAccepted).toBe(0)
    c.close()
  })

  it('authenticated as bob: bob’s wraps are served, carol’s are not (EOSE, no CLOSED)', async () => {
    const c = await connect(dmRelay.url)
    await c.req('dm', { kinds: [1059], '#p': [bobPk] })
    // strfry compares the relay tag without scheme, path or case
    const ok = authEvent(bob, `WSS://127.0.0.1:${dmRelay.port}/some/path`, challengeOf(c))
    expect(await c.auth(ok)).toEqual(['OK', ok.id, true, 'successfully authenticated'])
    expect(await c.req('mine', { kinds: [1059], '#p': [bobPk] })).toEqual([
      ['EVENT', 'mine', toBob],
      ['EOSE', 'mine'],
    ])
    expect(await c.req('theirs', { kinds: [1059], '#p': [carolPk] })).toEqual([['EOSE', 'theirs']])
    const again = authEvent(bob, serviceUrl, challengeOf(c))
    expect(await c.auth(again)).toEqual(['OK', again.id, false, 'error: already authenticated'])
    c.close()
  })
})

describe('strfry: NIP-77, whose thread is never told who is AUTHed', () => {
  const EMPTY = '6100000200' // negentropy v1: one range to infinity, an empty id list
  const negOpen = async (c: Awaited<ReturnType<typeof connect>>, subId: string) => {
    const from = c.frames.length
    c.send(['NEG-OPEN', subId, { kinds: [1059], '#p': [bobPk] }, EMPTY])
    return c.next((f) => (f[0] === 'NEG-MSG' || f[0] === 'NEG-ERR') && f[1] === subId, from)
  }

  it('restricted reads: NEG-ERR auth-required before AUTH, and an empty set after it, though a REQ serves the wraps', async () => {
    const c = await connect(dmRelay.url)
    expect(await negOpen(c, 'n1')).toEqual(['NEG-ERR', 'n1', 'auth-required: requested filter requires authentication'])
    const ok = authEvent(bob, serviceUrl, challengeOf(c))
    expect(await c.auth(ok)).toEqual(['OK', ok.id, true, 'successfully authenticated'])
    expect(await negOpen(c, 'n2')).toEqual(['NEG-MSG', 'n2', EMPTY])
    expect(await c.req('mine', { kinds: [1059], '#p': [bobPk] })).toEqual([
      ['EVENT', 'mine', toBob],
      ['EOSE', 'mine'],
    ])
    c.close()
  })

  it('open reads (restrictedReadKinds empty, as in every released strfry): NIP-77 and REQs serve every wrap to anyone', async () => {
    const open = await startPolicyRelay({ mode: 'strfry', restrictedReadKinds: [] })
    try {
      const c = await connect(open.url)
      expect(await c.publish(toBob)).toEqual(['OK', toBob.id, true, ''])
      const answer = await negOpen(c, 'n1')
      expect(answer[0]).toBe('NEG-MSG')
      expect(answer[2]).toContain(toBob.id) // the one id, listed
      expect(await c.req('any', { kinds: [1059], '#p': [bobPk] })).toEqual([
        ['EVENT', 'any', toBob],
        ['EOSE', 'any'],
      ])
      expect(c.frames.some((f) => f[0] === 'AUTH')).toBe(false)
      c.close()
    } finally {
      await open.stop()
    }
  })
})

describe('strfry: the write policy', () => {
  it('refuses events too far ahead or too old, too large, or with a p tag that is not 64 hex', async () => {
    const c = await connect(closedRelay.url)
    const ahead = signed({ created_at: now() + 600 })
    expect(await c.publish(ahead)).toEqual(['OK', ahead.id, true, ''])
    const wrap = wrapFor(bobPk, 'two days old at most') // NIP-59 backdates by up to 2 days: accepted
    expect((await c.publish(wrap))[2]).toBe(true)
    const big = signed({ content: 'x'.repeat(70_000) })
    const { content, created_at, id, kind, pubkey, sig, tags } = big
    const size = Buffer.byteLength(JSON.stringify({ content, created_at, id, kind, pubkey, sig, tags }))
    const cases: Array<[ReturnType<typeof signed>, string]> = [
      [signed({ created_at: now() + 1_000 }), 'invalid: created_at too late'],
      [signed({ created_at: now() - 3 * 365 * 86_400 - 60 }), 'invalid: created_at too early'],
      [big, `invalid: event too large: ${size}`],
      [signed({ tags: [['p', 'npub1notahexkey']] }), 'invalid: unexpected size for fixed-size tag: p'],
      [signed({ tags: [['e', bobPk.slice(2)]] }), 'invalid: unexpected size for fixed-size tag: e'],
      [signed({ tags: [['p', `${bobPk.slice(1)}g`]] }), 'invalid: unexpected character in from_hex: 103'],
      [{ ...signed({ content: 'forged' }), sig: note.sig }, 'invalid: bad signature'],
    ]
    for (const [event, reason] of cases) expect(await c.publish(event)).toEqual(['OK', event.id, false, reason])
    expect(closedRelay.stored.has(big.id)).toBe(false)
    c.close()
  })

  it('the plain test relay (@nostr-relay/core) refuses a forged signature too', async () => {
    const relay = await startRelay()
    const c = await connect(relay.url)
    const forged = { ...signed({ content: 'forged' }), sig: note.sig }
    expect(await c.publish(forged)).toEqual(['OK', forged.id, false, 'invalid: signature is wrong'])
    expect(await c.publish(note)).toEqual(['OK', note.id, true, ''])
    c.close()
    await relay.stop()
  })

  it('drops the connection on a websocket frame over 131072 bytes', async () => {
    const c = await connect(closedRelay.url)
    c.send(['EVENT', signed({ content: 'x'.repeat(131_072) })])
    expect(await c.closed).toBe(1009) // ws: message too big
  })
})

describe('strfry: query limits', () => {
  it('cuts limits to 500 (also for a filter without one), 200 filters, 3 tags per filter, 200 subscriptions', async () => {
    const sk = generateSecretKey()
    const c = await connect(closedRelay.url)
    const base = now() - 1_000
    const events = Array.from({ length: 505 }, (_, i) => signed({ created_at: base + i }, sk))
    const oks = await c.publishAll(events)
    expect(oks.every((f) => f[2] === true)).toBe(true)
    const count = async (filter: object) => (await c.req(`n${Math.random()}`, filter)).filter((f) => f[0] === 'EVENT').length
    expect(await count({ authors: [getPublicKey(sk)] })).toBe(500)
    expect(await count({ authors: [getPublicKey(sk)], limit: 1_000 })).toBe(500)
    expect(await count({ authors: [getPublicKey(sk)], limit: 7 })).toBe(7)

    const many = Array.from({ length: 201 }, () => ({ kinds: [1], limit: 1 }))
    expect(await c.req('many', ...many)).toEqual([['CLOSED', 'many', 'ERROR: bad req: arr too big']])
    const tags = { '#p': [bobPk], '#e': [note.id], '#t': ['a'], '#d': ['b'] }
    expect(await c.req('tags', tags)).toEqual([['CLOSED', 'tags', 'ERROR: bad req: too many tags in filter']])
    c.close()

    const d = await connect(closedRelay.url)
    for (let i = 0; i < 200; i++) d.send(['REQ', `s${i}`, { ids: [note.id] }])
    await d.next((f) => f[0] === 'EOSE' && f[1] === 's199')
    const from = d.frames.length
    d.send(['REQ', 's200', { ids: [note.id] }])
    expect(await d.next(() => true, from)).toEqual(['NOTICE', 'ERROR: too many concurrent REQs'])
    d.close()
  })
})
