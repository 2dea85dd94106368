// The khatru, nostr-rs-relay and refusing policy relays, frame by frame (strfry: policy-relay.test.ts).
import * as nip17 from 'nostr-tools/nip17'
import { generateSecretKey, getPublicKey } from 'nostr-tools/pure'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type PolicyRelay, type Refusal, startPolicyRelay } from './helpers/policy-relay.ts'
import { authEvent, challengeOf, connect, now, plain, signed } from './helpers/raw-client.ts'
import { PERMISSIVE_LIMIT } from './helpers/relay-policies.ts'

const alice = generateSecretKey()
const bob = generateSecretKey()
const [bobPk, carolPk] = [getPublicKey(bob), getPublicKey(generateSecretKey())]
const wrapFor = (pk: string, text: string) => plain(nip17.wrapEvent(alice, { publicKey: pk }, text))
const toBob = wrapFor(bobPk, 'for bob')
const toCarol = wrapFor(carolPk, 'for carol')
const note = signed({ content: 'a public note', tags: [['p', bobPk]] }, alice)

let khatru: PolicyRelay // sane defaults
let khatruDm: PolicyRelay // rate limits out of the way
let rs: PolicyRelay
beforeAll(async () => {
  ;[khatru, khatruDm, rs] = await Promise.all([
    startPolicyRelay({ mode: 'khatru' }),
    startPolicyRelay({ mode: 'khatru', eventRateLimit: PERMISSIVE_LIMIT, filterRateLimit: PERMISSIVE_LIMIT }),
    startPolicyRelay({ mode: 'nostr-rs-relay' }),
  ])
  for (const relay of [khatruDm, rs]) {
    const c = await connect(relay.url)
    for (const e of [toBob, toCarol, note]) expect(await c.publish(e)).toEqual(['OK', e.id, true, ''])
    c.close()
  }
})
afterAll(async () => {
  await Promise.all([khatru.stop(), khatruDm.stop(), rs.stop()])
})

describe('khatru', () => {
  it('asks for AUTH on each REQ naming kind 1059 or 4, and closes it with auth-required: (no ERROR: prefix)', async () => {
    const c = await connect(khatruDm.url)
    const closed = ['CLOSED', 'dm', 'auth-required: this query requires you to be authenticated']
    expect(await c.req('dm', { kinds: [1059], '#p': [bobPk] })).toEqual([['AUTH', expect.any(String)], closed])
    expect(await c.req('dm', { kinds: [1], authors: [note.pubkey] }, { kinds: [4] })).toEqual([['AUTH', challengeOf(c)], closed])
    // a REQ naming no kinds is served, the wraps left out
    expect(await c.req('all', { '#p': [bobPk] })).toEqual([
      ['EVENT', 'all', note],
      ['EOSE', 'all'],
    ])
    c.close()
  })

  it('checks the AUTH event; once authenticated, serves the wraps for that pubkey only', async () => {
    const c = await connect(khatruDm.url)
    await c.req('dm', { kinds: [1059], '#p': [bobPk] })
    const challenge = challengeOf(c)
    for (const bad of [
      authEvent(bob, khatruDm.url, 'wrong'),
      authEvent(bob, 'ws://127.0.0.1:1', challenge),
      authEvent(bob, khatruDm.url, challenge, { created_at: now() - 601 }),
      { ...authEvent(bob, khatruDm.url, challenge), content: 'changed' },
    ])
      expect(await c.auth(bad)).toEqual(['OK', bad.id, false, 'error: failed to authenticate'])
    const ok = authEvent(bob, `${khatruDm.url}/`, challenge)
    expect(await c.auth(ok)).toEqual(['OK', ok.id, true, ''])
    expect(await c.req('dm', { kinds: [1059], '#p': [bobPk, carolPk] })).toEqual([
      ['EVENT', 'dm', toBob],
      ['EOSE', 'dm'],
    ])
    expect(khatruDm.stats.authsAccepted).toBe(1)
    c.close()
  })

  it('rate-limits writes per IP: a burst of 10, then rate-limited: (2 more every 3 minutes)', async () => {
    const c = await connect(khatru.url)
    const events = Array.from({ length: 12 }, (_, i) => signed({ content: `n${i}` }))
    const oks = []
    for (const e of events) oks.push(await c.publish(e))
    expect(oks.slice(0, 10).every((f) => f[2] === true)).toBe(true)
    expect(oks.slice(10)).toEqual(events.slice(10).map((e) => ['OK', e.id, false, 'rate-limited: slow down, please']))
    expect(khatru.stored.size).toBe(10)
    c.close()
  })

  it('the rate limit is configurable, and refills each interval', async () => {
    const fast = await startPolicyRelay({ mode: 'khatru', eventRateLimit: { tokensPerInterval: 3, intervalMs: 1_000, maxTokens: 3 } })
    try {
      const c = await connect(fast.url)
      const events = Array.from({ length: 4 }, (_, i) => signed({ content: `${i}` }))
      const oks = await c.publishAll(events) // the refusal can come before the store's OKs
      expect(events.map((e) => oks.find((f) => f[1] === e.id)?.[2])).toEqual([true, true, true, false])
      await new Promise((resolve) => setTimeout(resolve, 1_100))
      expect((await c.publish(signed({ content: 'later' })))[2]).toBe(true)
      c.close()
    } finally {
      await fast.stop()
    }
  })
})

describe('nostr-rs-relay with nip42_dms', () => {
  it('challenges on connect; before AUTH, DMs are silently left out; after it, the authed pubkey’s are served', async () => {
    const c = await connect(rs.url)
    const [challenge] = await c.next((f) => f[0] === 'AUTH')
    expect(challenge).toBe('AUTH')
    expect(await c.req('before', { kinds: [1059], '#p': [bobPk] })).toEqual([['EOSE', 'before']])
    const wrong = authEvent(bob, 'ws://elsewhere.example', challengeOf(c))
    expect(await c.auth(wrong)).toEqual(['OK', wrong.id, false, 'restricted: authentication error: Invalid AUTH message'])
    const ok = authEvent(bob, rs.url, challengeOf(c))
    expect(await c.auth(ok)).toEqual(['OK', ok.id, true, ''])
    expect(await c.req('after', { kinds: [1059], '#p': [bobPk, carolPk] })).toEqual([
      ['EVENT', 'after', toBob],
      ['EOSE', 'after'],
    ])
    expect(rs.stats.challenges).toBeGreaterThanOrEqual(1)
    c.close()
  })
})

describe('permanent refusals of writes', () => {
  it.each<[Refusal, string]>([
    [{ prefix: 'blocked' }, 'blocked: you are not allowed to write here'],
    [{ prefix: 'invalid' }, 'invalid: event refused by relay policy'],
    [{ prefix: 'pow' }, 'pow: difficulty 20 required'],
    [{ prefix: 'restricted', message: 'restricted: members only' }, 'restricted: members only'],
  ])('%o', async (refuse, reason) => {
    const relay = await startPolicyRelay({ mode: 'plain', refuse })
    try {
      const c = await connect(relay.url)
      const event = signed({})
      expect(await c.publish(event)).toEqual(['OK', event.id, false, reason])
      expect(relay.stored.size).toBe(0)
      c.close()
    } finally {
      await relay.stop()
    }
  })

  it('can refuse only some kinds: kind 1059 refused, kind 1 stored', async () => {
    const relay = await startPolicyRelay({ mode: 'plain', refuse: { prefix: 'pow', kinds: [1059] } })
    try {
      const c = await connect(relay.url)
      expect(await c.publish(toBob)).toEqual(['OK', toBob.id, false, 'pow: difficulty 20 required'])
      expect(await c.publish(note)).toEqual(['OK', note.id, true, ''])
      expect([...relay.stored.keys()]).toEqual([note.id])
      expect(relay.stats.refused).toBe(1)
      c.close()
    } finally {
      await relay.stop()
    }
  })
})
