// NIP-77 on both sides: the test relays' responder (helpers/negentropy.ts) against nostr-tools'
// initiator, which the CLI uses, and against rust-nostr's client, written apart from both; then
// our reconcile() over a real connection, and the ways a relay says it does not speak it.
import { randomBytes } from 'node:crypto'
import { nip77 } from 'nostr-tools'
import { finalizeEvent, generateSecretKey, getPublicKey } from 'nostr-tools/pure'
import { describe, expect, it } from 'vitest'
import { packItems } from '../lib/nostr/neg-items.ts'
import { fetchIds, reconcile, storageOf } from '../lib/nostr/nip77.ts'
import { RelayAuth } from '../lib/nostr/relay/auth.ts'
import { isNip77Notice, NegChannel } from '../lib/nostr/relay/neg.ts'
import { RelaySocket } from '../lib/nostr/relay/socket.ts'
import { negentropyConnection, respond } from './helpers/negentropy.ts'
import { startPolicyRelay } from './helpers/policy-relay.ts'
import { freePort, startRelay, type TestRelay } from './helpers/relay.ts'
import { publishAll } from './helpers/stranger.ts'

const { Negentropy, NegentropyStorageVector } = nip77
const id = () => randomBytes(32).toString('hex')
const now = () => Math.floor(Date.now() / 1000)

/** Runs a reconciliation in memory: what the initiator lacks and what only it has. */
function reconcileInMemory(mine: Array<[string, number]>, theirs: Array<[string, number]>, frameLimit: number, initiatorLimit = 60_000) {
  const a = new NegentropyStorageVector()
  for (const [i, t] of mine) a.insert(t, i)
  a.seal()
  const b = new NegentropyStorageVector()
  for (const [i, t] of theirs) b.insert(t, i)
  b.seal()
  const initiator = new Negentropy(a, initiatorLimit)
  const need: string[] = []
  const have: string[] = []
  let message: string | null = initiator.initiate()
  let rounds = 0
  while (message !== null && rounds < 100) {
    rounds++
    message = initiator.reconcile(
      respond(b, message, frameLimit),
      (i) => have.push(i),
      (i) => need.push(i),
    )
  }
  const twice = (ids: string[]) => ids.filter((i, at) => ids.indexOf(i) !== at)
  return { needTwice: twice(need), haveTwice: twice(have), need: need.sort(), have: have.sort(), rounds }
}

describe('the test relays’ NIP-77 responder, with nostr-tools’ initiator', () => {
  const cases = [
    { name: 'both empty', mine: 0, theirs: 0, common: 0, pile: false },
    { name: 'we hold nothing', mine: 0, theirs: 700, common: 0, pile: false },
    { name: 'the relay holds nothing', mine: 50, theirs: 0, common: 0, pile: false },
    { name: 'the same 3,000', mine: 0, theirs: 0, common: 3_000, pile: false },
    { name: 'a few new among many', mine: 3, theirs: 40, common: 3_000, pile: false },
    { name: 'many in one second', mine: 10, theirs: 300, common: 500, pile: true },
  ]
  for (const c of cases) {
    for (const frameLimit of [500_000, 4_096]) {
      // a pile in one second at 4 KB: answers cut in the middle of settled ranges; the responder
      // that reopened them there reported ids twice about 1 run in 6, so 30 runs
      const runs = c.pile && frameLimit === 4_096 ? 30 : 1
      it(`${c.name} (responder frames of ${frameLimit} bytes)`, () => {
        for (let run = 0; run < runs; run++) {
          const at = () => (c.pile ? 1_800_000_000 : 1_800_000_000 - Math.floor(Math.random() * 200_000))
          const common = Array.from({ length: c.common }, () => [id(), at()] as [string, number])
          const onlyMine = Array.from({ length: c.mine }, () => [id(), at()] as [string, number])
          const onlyTheirs = Array.from({ length: c.theirs }, () => [id(), at()] as [string, number])
          const r = reconcileInMemory([...common, ...onlyMine], [...common, ...onlyTheirs], frameLimit)
          expect(r.needTwice, 'ids reported twice').toEqual([])
          expect(r.haveTwice, 'ids reported twice').toEqual([])
          expect(r.need).toEqual(onlyTheirs.map(([i]) => i).sort())
          expect(r.have).toEqual(onlyMine.map(([i]) => i).sort())
          expect(r.rounds).toBeLessThan(100)
        }
      })
    }
  }
})

describe('our storage (ids decoded at once, fingerprints on 32-bit words)', () => {
  it('fingerprints every range as nostr-tools’ own storage does, and skips what is not an id', () => {
    const items = Array.from({ length: 3_000 }, (_, i) => [id(), 1_800_000_000 - (i % 700)] as [string, number])
    const ours = storageOf(packItems([...items, ['not hex'.padEnd(64, 'z'), 1], ['ab', 2], items[5]]))
    const theirs = new NegentropyStorageVector()
    for (const [i, t] of items) theirs.insert(t, i)
    theirs.seal()
    expect(ours.size()).toBe(3_000)
    for (const [begin, end] of [
      [0, 0],
      [0, 3_000],
      [17, 18],
      [100, 2_999],
      [1_500, 1_501],
    ]) {
      expect(Buffer.from(ours.fingerprint(begin, end)).toString('hex')).toBe(Buffer.from(theirs.fingerprint(begin, end)).toString('hex'))
    }
    expect(new Negentropy(ours, 50_000).initiate()).toBe(new Negentropy(theirs, 50_000).initiate())
  })
})

describe('the test relay’s NIP-77, with rust-nostr’s client (its own negentropy)', () => {
  // this build of rust-nostr keeps no events of its own (no in-memory database): it starts from
  // nothing each time, so the relay's answers run over several frames of ids
  it('hands over every event the filter matches, in frames of 4 KB', async () => {
    const { loadWasmSync, Client, Filter, SyncOptions, Duration } = await import('@rust-nostr/nostr-sdk')
    loadWasmSync()
    const relay = await startRelay({ neg: { frameLimit: 4_096 } })
    try {
      const me = getPublicKey(generateSecretKey())
      const sk = generateSecretKey()
      const wraps = Array.from({ length: 300 }, (_, i) =>
        finalizeEvent({ kind: 1059, created_at: now() - (i % 7) * 3_600, tags: [['p', me]], content: `w${i}` }, sk),
      )
      const other = finalizeEvent({ kind: 1059, created_at: now(), tags: [['p', getPublicKey(sk)]], content: 'not for me' }, sk)
      await publishAll(relay.url, [...wraps, other])
      const client = new Client()
      await client.addRelay(relay.url)
      await client.connect()
      const filter = Filter.fromJson(JSON.stringify({ kinds: [1059], '#p': [me] }))
      const synced = await client.sync(filter, new SyncOptions().initialTimeout(Duration.fromSecs(20)))
      expect(synced.failed).toEqual([])
      // as sets: once, on a loaded machine, rust-nostr listed 308 ids for these 300 events (not
      // reproduced in 11 runs since; the relay holds no others, so some were listed twice)
      const unique = (ids: Array<{ toHex(): string }>) => [...new Set(ids.map((e) => e.toHex()))].sort()
      const ids = wraps.map((w) => w.id).sort()
      expect(unique(synced.report.remote), 'what the reconciliation found').toEqual(ids)
      expect(unique(synced.report.received), 'what was fetched').toEqual(ids)
      await client.shutdown()
    } finally {
      await relay.stop()
    }
  })
})

describe('reconcile() over a connection (lib/nostr/nip77.ts)', () => {
  const connect = async (url: string, sk?: Uint8Array) => {
    const socket = new RelaySocket(url, { log: () => {}, ...(sk ? { signAuth: (t) => finalizeEvent(t, sk) } : {}) })
    await socket.connect(2_000)
    return socket
  }
  /** A relay holding `count` wraps for a new key, and that key. */
  const seeded = async (url: string, count: number) => {
    const sk = generateSecretKey()
    const me = getPublicKey(sk)
    const wraps = Array.from({ length: count }, (_, i) =>
      finalizeEvent({ kind: 1059, created_at: now() - i * 60, tags: [['p', me]], content: `w${i}` }, generateSecretKey()),
    )
    await publishAll(url, wraps)
    return { sk, me, wraps, filter: { kinds: [1059], '#p': [me], since: now() - 86_400, until: now() + 60 } }
  }
  const held = (wraps: Array<{ id: string; created_at: number }>) => packItems(wraps.map((w) => [w.id, w.created_at] as [string, number]))

  it('fetches an id once when the relay names it in two rounds', async () => {
    // strfry cuts an answer at its frame limit with one fingerprint over all the rest, settled
    // ranges too: the range is split again and its ids come again (the reference does the same)
    const x = randomBytes(32).toString('hex')
    const round1 = `61 876900 02 01 ${x} 0000 01 ${'ff'.repeat(16)}` // [.., 1000) its ids: x; [1000, ∞) a fingerprint
    const round2 = `61 0000 02 01 ${x}` // [.., ∞) its ids: x again
    const answers = [round1, round2].map((hex) => hex.replaceAll(' ', ''))
    const channel = {
      open: (_filter: unknown, _initial: string, onReply: (reply: { type: 'msg'; hex: string }) => void) => {
        const next = () => setTimeout(() => onReply({ type: 'msg', hex: answers.shift() ?? '61' }))
        next()
        return { send: next, close: () => {} }
      },
    }
    const got = await reconcile(channel as unknown as RelaySocket['neg'], { kinds: [1059] }, Buffer.alloc(0), Date.now() + 2_000)
    expect(got).toEqual({ ok: true, need: [x], lacks: new Set(), rounds: 2 })
  })

  it('learns which ids the relay has and we lack, and fetches them', async () => {
    const relay = await startRelay()
    try {
      const { wraps, filter } = await seeded(relay.url, 120)
      const socket = await connect(relay.url)
      const got = await reconcile(socket.neg, filter, held(wraps.slice(0, 100)), Date.now() + 5_000)
      expect(got).toMatchObject({ ok: true })
      const need = got.ok ? got.need : []
      expect(need.sort()).toEqual(
        wraps
          .slice(100)
          .map((w) => w.id)
          .sort(),
      )
      const fetched: string[] = []
      const result = await fetchIds(socket, filter, need, Date.now() + 5_000, (e) => void fetched.push(e.id))
      expect(result.complete).toBe(true)
      expect(fetched.sort()).toEqual(need)
      socket.close()
    } finally {
      await relay.stop()
    }
  })

  // strfry's NIP-77 answers an AUTHed reader from a view without its gift wraps (NOTES.md): a
  // reconciliation behind AUTH proves nothing, so none is attempted once the relay asked for it
  for (const [how, serviceUrl] of [
    ['AUTH possible (serviceUrl set)', true],
    ['AUTH impossible (no serviceUrl)', false],
  ] as const) {
    it(`does not reconcile where reads need AUTH: strfry, ${how}`, async () => {
      const port = await freePort()
      const relay = await startPolicyRelay({ mode: 'strfry', port, ...(serviceUrl ? { serviceUrl: `ws://127.0.0.1:${port}` } : {}) })
      try {
        const { sk, filter } = await seeded(relay.url, 3)
        const socket = await connect(relay.url, sk)
        const got = await reconcile(socket.neg, filter, Buffer.alloc(0), Date.now() + 5_000)
        expect(got).toMatchObject({ ok: false, unsupported: false, behindAuth: true, reason: expect.stringMatching(/auth-required/) })
        // asked once, not again after AUTH
        expect(relay.traffic.negOpens).toBe(1)
        const again = await reconcile(socket.neg, filter, Buffer.alloc(0), Date.now() + 5_000)
        expect(again).toMatchObject({ ok: false, behindAuth: true })
        expect(relay.traffic.negOpens).toBe(1)
        socket.close()
      } finally {
        await relay.stop()
      }
    })
  }

  it('a NOTICE about something else (strfry: bad req, too many REQs) does not end a session', async () => {
    const theirs = Array.from({ length: 5 }, (_, i) => [id(), now() - i] as [string, number])
    const frames: unknown[][] = []
    let channel: NegChannel | undefined
    const responder = negentropyConnection(
      async () => packItems(theirs),
      (frame) => setImmediate(() => channel?.receive(String(frame[0]), frame[1], frame[2])),
    )
    const auth = new RelayAuth('ws://relay.test', () => {})
    channel = new NegChannel((message) => {
      frames.push(message)
      // the relay's NOTICEs about other things come before its NEG-MSG
      if (message[0] === 'NEG-OPEN')
        for (const text of ['ERROR: bad req: arr too big', 'ERROR: too many concurrent REQs']) channel?.receive('NOTICE', text, undefined)
      void responder(message)
    }, auth)
    const got = await reconcile(channel, { kinds: [1059] }, Buffer.alloc(0), Date.now() + 5_000)
    expect(got.ok && got.need.sort()).toEqual(theirs.map(([i]) => i).sort())
    expect(frames[0][0]).toBe('NEG-OPEN')
  })

  it('a NOTICE about NIP-77 (strfry: negentropy disabled) or an unknown verb ends it at once', () => {
    for (const text of [
      'ERROR: bad msg: negentropy disabled',
      'ERROR: bad msg: unknown cmd',
      'ERROR: negentropy error: too many concurrent NEG requests',
    ])
      expect(isNip77Notice(text), text).toBe(true)
    for (const text of ['ERROR: bad req: arr too big', 'ERROR: too many concurrent REQs', 'rate-limited: slow down'])
      expect(isNip77Notice(text), text).toBe(false)
  })

  const refusals: Array<[string, () => Promise<TestRelay>, RegExp]> = [
    ['a NOTICE (@nostr-relay/core, which does not know NEG-OPEN)', () => startRelay({ negentropy: 'off' }), /^NOTICE: invalid/],
    ['a NOTICE (khatru as the policy relay plays it)', () => startPolicyRelay({ mode: 'khatru' }), /^NOTICE: ERROR: bad msg/],
    ['NEG-ERR (strfry past its maxSyncEvents)', () => startRelay({ neg: { maxSyncEvents: 2 } }), /^NEG-ERR: blocked: too many/],
    ['silence', () => startRelay({ negentropy: 'silent' }), /^no answer to NEG-OPEN within 300 ms/],
  ]
  for (const [how, start, reason] of refusals) {
    it(`knows a relay that does not speak it by ${how}`, async () => {
      const relay = await start()
      try {
        const { filter } = await seeded(relay.url, 3)
        const socket = await connect(relay.url)
        const started = Date.now()
        const got = await reconcile(socket.neg, filter, Buffer.alloc(0), Date.now() + 5_000, 300)
        expect(got).toMatchObject({ ok: false, unsupported: true, reason: expect.stringMatching(reason) })
        expect(Date.now() - started).toBeLessThan(2_000)
        socket.close()
      } finally {
        await relay.stop()
      }
    })
  }
})
