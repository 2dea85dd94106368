// NIP-40 on every layer of a gift wrap (issue 22, point 7): NIP-17 puts a disappearing message's
// `expiration` on the gift wrap, and says it should be on the seal too; the rumor may carry one
// of its own. Past the earliest of them the message is dropped, counted and said in --verbose.
// The wraps are built by rust-nostr (its own NIP-44 and NIP-59) or by hand with nostr-tools.

import type { Event } from 'nostr-tools/pure'
import { generateSecretKey } from 'nostr-tools/pure'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PARALLEL_OPEN_FROM } from '../lib/limits.ts'
import { openWraps } from '../lib/nostr/nip17.ts'
import { prepareBulk } from '../lib/nostr/nip44.ts'
import { signerFor } from '../lib/nostr/schnorr.ts'
import { agent } from './helpers/cli.ts'
import { type FaultyRelay, startFaultyRelay } from './helpers/faulty-relay.ts'
import { now, whoami } from './helpers/inject.ts'
import { datedDm } from './helpers/stranger.ts'

type Rust = typeof import('@rust-nostr/nostr-sdk')
type Layers = { rumor?: number; seal?: number; wrap?: number }

describe('NIP-40 on the gift wrap and the seal, as rust-nostr builds them', () => {
  let rust: Rust
  let alice: InstanceType<Rust['Keys']>
  let bob: InstanceType<Rust['Keys']>
  let B: string
  let bobSecret: Uint8Array
  beforeAll(async () => {
    rust = await import('@rust-nostr/nostr-sdk')
    rust.loadWasmSync()
    ;[alice, bob] = [rust.Keys.generate(), rust.Keys.generate()]
    B = bob.publicKey.toHex()
    bobSecret = Buffer.from(bob.secretKey.toHex(), 'hex')
  })
  // a base date in the future: the wraps' expirations are not yet past on the wall clock, and
  // each opening says what time it is
  const T = now() + 3_600

  /** A DM from alice to bob with an expiration on the layers named, sealed and wrapped by
   *  rust-nostr; `tags` replace the rumor's own (a call protocol message). */
  async function wrapped(text: string, at: Layers, tags?: string[][]): Promise<Event> {
    const { EventBuilder, Kind, NostrSigner, Tag, Timestamp } = rust
    const signer = NostrSigner.keys(alice)
    const expires = (t?: number) => (t === undefined ? [] : [Tag.expiration(Timestamp.fromSecs(t))])
    const builder = tags
      ? new EventBuilder(new Kind(14), text).tags(tags.map((t) => Tag.parse(t)))
      : EventBuilder.privateMsgRumor(bob.publicKey, text)
    const rumor = builder.tags(expires(at.rumor)).build(alice.publicKey)
    const seal = await (await EventBuilder.seal(signer, bob.publicKey, rumor)).tags(expires(at.seal)).sign(signer)
    return JSON.parse(EventBuilder.giftWrapFromSeal(bob.publicKey, seal, expires(at.wrap)).asJson())
  }
  const open = async (wrap: Event, at: number) => {
    const log: string[] = []
    return { ...(await openWraps([wrap], B, bobSecret, at, (line) => log.push(line))), log }
  }

  it('drops a wrap whose gift wrap expired (rust-nostr’s giftWrap with an expiration tag)', async () => {
    const { EventBuilder, NostrSigner, Tag, Timestamp } = rust
    const rumor = EventBuilder.privateMsgRumor(bob.publicKey, 'gone soon').build(alice.publicKey)
    const wrap: Event = JSON.parse(
      (await EventBuilder.giftWrap(NostrSigner.keys(alice), bob.publicKey, rumor, [Tag.expiration(Timestamp.fromSecs(T))])).asJson(),
    )
    const gone = await open(wrap, T)
    expect(gone).toMatchObject({ opened: [], dropped: 1 })
    expect(gone.log.join('\n')).toMatch(/dropped gift wrap .*: expired \(NIP-40\) on the gift wrap/)
    // before then it is a disappearing message: it carries the wrap's expiration
    const kept = await open(wrap, T - 1)
    expect(kept.dropped).toBe(0)
    expect(kept.opened[0].msg).toEqual({ type: 'dm', text: 'gone soon', expiresAt: T, seal: expect.objectContaining({ kind: 13 }) })
  })

  it('drops a wrap whose seal expired', async () => {
    const wrap = await wrapped('sealed to vanish', { seal: T })
    const gone = await open(wrap, T + 1)
    expect(gone).toMatchObject({ opened: [], dropped: 1 })
    expect(gone.log.join('\n')).toMatch(/expired \(NIP-40\) on the seal/)
    expect((await open(wrap, T - 1)).opened[0].msg).toEqual({
      type: 'dm',
      text: 'sealed to vanish',
      expiresAt: T,
      seal: expect.objectContaining({ kind: 13 }),
    })
  })

  const layers = ['gift wrap', 'seal', 'rumor'] as const
  const keyOf = { 'gift wrap': 'wrap', seal: 'seal', rumor: 'rumor' } as const
  it.each(layers)('the earliest expiration counts, here the %s’s', async (earliest) => {
    const later = layers.filter((l) => l !== earliest)
    const wrap = await wrapped('three dates', { [keyOf[earliest]]: T, [keyOf[later[0]]]: T + 100, [keyOf[later[1]]]: T + 200 })
    const gone = await open(wrap, T)
    expect(gone.dropped).toBe(1)
    expect(gone.log.join('\n')).toMatch(new RegExp(`expired \\(NIP-40\\) on the ${earliest}`))
    expect((await open(wrap, T - 1)).opened[0].msg).toMatchObject({ expiresAt: T })
  })

  it('a call protocol message in an expired wrap is dropped too', async () => {
    const tags = [
      ['p', B],
      ['p2p', 'message', 'ca11ca11', String(T * 1000)],
    ]
    const wrap = await wrapped('in a call', { wrap: T }, tags)
    expect((await open(wrap, T)).dropped).toBe(1)
    expect((await open(wrap, T - 1)).opened[0].msg).toEqual({ type: 'message', callId: 'ca11ca11', text: 'in a call' })
  })

  it('an expiration that is not a date is no expiration', async () => {
    const wrap = datedDm(generateSecretKey(), B, 'never mind', T - 60, { wrap: Number.NaN, seal: -1 })
    const kept = await open(wrap, T)
    expect(kept.dropped).toBe(0)
    expect(kept.opened[0].msg).toEqual({ type: 'dm', text: 'never mind', seal: expect.objectContaining({ kind: 13 }) })
  })
})

// The built CLI, reading from a relay that keeps and serves expired events (NIP-40 lets relays
// keep them; relays without NIP-40 serve them): enough wraps that half are opened in the worker
// thread, so both paths drop what expired. Expired already: no clock needs to move.
describe('the CLI and a relay that serves expired wraps', () => {
  let relay: FaultyRelay
  let wraps: Event[] = []
  beforeAll(async () => {
    relay = await startFaultyRelay((sub, ws, filters) => {
      const asked = filters.find((f) => (f as { kinds?: number[] }).kinds?.includes(1059)) as { limit?: number } | undefined
      // as many as the REQ asks for (the read by NIP-77 is checked by a REQ for the newest 3)
      if (asked) for (const w of wraps.slice(0, asked.limit)) ws.send(JSON.stringify(['EVENT', sub, w]))
      ws.send(JSON.stringify(['EOSE', sub]))
    })
  })
  afterAll(() => relay.stop())

  it('drops the wraps whose wrap or seal expired, on both threads, and says so', async () => {
    const bob = agent([relay.url])
    const me = (await whoami(bob)).pubkey
    const third = Math.ceil(PARALLEL_OPEN_FROM / 3)
    const sender = generateSecretKey()
    const at = now() - 600
    // the CLI's own fast signing and key agreement: a few hundred wraps in about a second
    const sign = await signerFor()
    await prepareBulk(3 * third)
    wraps = Array.from({ length: 3 * third }, (_, i) => {
      const expired = at + 300
      const layer = i % 3 === 0 ? { wrap: expired } : i % 3 === 1 ? { seal: expired } : {}
      return datedDm(sender, me, `note ${i}`, at, layer, sign)
    })
    const r = await bob.run(['poll', '--json', '--verbose'])
    expect(r.code, r.stderr).toBe(0)
    const texts = r.json().events.map((e: { text: string }) => e.text)
    expect(texts).toHaveLength(third)
    expect(texts.every((t: string) => Number(t.split(' ')[1]) % 3 === 2)).toBe(true)
    expect(r.stderr).toContain(`opening ${3 * third} gift wraps on two threads`)
    expect(r.stderr).not.toContain('worker thread')
    expect(r.stderr).toContain(`${3 * third} gift wraps (${2 * third} dropped)`)
    expect(r.stderr.match(/expired \(NIP-40\) on the gift wrap/g)).toHaveLength(third)
    expect(r.stderr.match(/expired \(NIP-40\) on the seal/g)).toHaveLength(third)
  })
})
