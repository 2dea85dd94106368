// Round trips a command stands on (issue 25): no read asks again for what the relay's answer
// already settled. The times themselves are measured by the bench (bench/turns.ts), not here.
import { type Event, finalizeEvent, generateSecretKey } from 'nostr-tools/pure'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RelayAuth } from '../lib/nostr/relay/auth.ts'
import { maxLimitOf } from '../lib/nostr/relay/info.ts'
import { readPages } from '../lib/nostr/relay/pages.ts'
import { RelaySocket } from '../lib/nostr/relay/socket.ts'
import { agent } from './helpers/cli.ts'
import { type FaultyRelay, startFaultyRelay } from './helpers/faulty-relay.ts'
import { callBetween, inject, whoami } from './helpers/inject.ts'
import { type PolicyMode, startPolicyRelay } from './helpers/policy-relay.ts'
import { freePort, startBlackHole, startRelay, type TestRelay } from './helpers/relay.ts'

const sent = (stderr: string, frame: RegExp) => stderr.split('\n').filter((line) => / > \[/.test(line) && frame.test(line)).length
/** The --verbose lines of frames sent (`>`) or received (`<`) that match `frame`, by position. */
const lines = (stderr: string, way: '>' | '<', frame: RegExp) =>
  stderr
    .split('\n')
    .map((line, at) => ({ line, at }))
    .filter(({ line }) => line.includes(` ${way} [`) && frame.test(line))
    .map(({ at }) => at)
const DM_REQ = /"REQ","[^"]+",\{"kinds":\[1059\]/
const AUTH_OK = /\["OK","[0-9a-f]{64}",true/

describe('reading page by page with a cap learned from the relay (relay/pages.ts)', () => {
  // events ten seconds apart, served newest first, at most `cap` an answer, as relays cap
  const base = Math.floor(Date.now() / 1000) - 1_000
  const events = Array.from({ length: 9 }, (_, i) =>
    finalizeEvent({ kind: 1, created_at: base - i * 10, tags: [], content: `e${i}` }, generateSecretKey()),
  )
  // each page begins with the previous one's oldest event (`until` is inclusive)
  const capped = (cap: number, reqs: number[]) =>
    startFaultyRelay((subId, ws, [filter]) => {
      reqs.push(1)
      const until = (filter as { until?: number }).until ?? Number.POSITIVE_INFINITY
      const served = events.filter((e) => e.created_at <= until).slice(0, Math.min(cap, filter.limit ?? cap))
      for (const e of served) ws.send(JSON.stringify(['EVENT', subId, e]))
      ws.send(JSON.stringify(['EOSE', subId]))
    })

  async function readAll(relay: FaultyRelay, largestPage: number) {
    const socket = new RelaySocket(relay.url, { log: () => {} })
    await socket.connect(2_000)
    socket.largestPage = largestPage
    const got = new Set<string>()
    const result = await readPages(socket, { kinds: [1] }, Date.now() + 5_000, (e) => got.add(e.id), 10, { limit: 500 })
    socket.close()
    return { result, got, largestPage: socket.largestPage }
  }

  it('stops at the first page shorter than the largest the relay has served: no page to confirm the end', async () => {
    const reqs: number[] = []
    const relay = await capped(4, reqs)
    try {
      const { result, got, largestPage } = await readAll(relay, 0)
      expect(result.complete).toBe(true)
      expect(got.size).toBe(9)
      expect(largestPage).toBe(4)
      expect(reqs.length).toBe(3) // e0-e3, e3-e6, e6-e8: the short page is the last
    } finally {
      await relay.stop()
    }
  })

  it('still reads on after a page as large as any served before: the relay may cap there', async () => {
    const reqs: number[] = []
    const relay = await capped(2, reqs)
    try {
      const { result, got } = await readAll(relay, 2)
      expect(result.complete).toBe(true)
      expect(got.size).toBe(9)
      expect(reqs.length).toBe(9) // e0-e1, e1-e2, ..., e7-e8, then e8 alone: nothing new
    } finally {
      await relay.stop()
    }
  })
})

describe("a relay's cap from its NIP-11 document (relay/info.ts)", () => {
  it('is its max_limit; none for khatru; none needed for nostr-rs-relay, which serves as many as asked', () => {
    const doc = (d: object) => JSON.stringify(d)
    expect(maxLimitOf(doc({ software: 'git+https://github.com/hoytech/strfry.git', limitation: { max_limit: 500 } }))).toBe(500)
    expect(maxLimitOf(doc({ software: 'https://github.com/fiatjaf/khatru' }))).toBeUndefined()
    expect(maxLimitOf(doc({ software: 'https://git.sr.ht/~gheartsfield/nostr-rs-relay' }))).toBe(Number.MAX_SAFE_INTEGER)
    // a max_limit it gives wins; anything else is no cap known
    expect(maxLimitOf(doc({ software: 'https://git.sr.ht/~gheartsfield/nostr-rs-relay', limitation: { max_limit: 100 } }))).toBe(100)
    for (const bad of ['', '[]', 'null', doc({ limitation: { max_limit: -1 } }), doc({ limitation: { max_limit: '500' } })])
      expect(maxLimitOf(bad), bad).toBeUndefined()
  })

  it('on nostr-rs-relay, status reads the announcements in one page where one page holds them all', async () => {
    const port = await freePort()
    const relay = await startPolicyRelay({ mode: 'nostr-rs-relay', port, serviceUrl: `ws://127.0.0.1:${port}` })
    try {
      const [alice, bob] = [agent([relay.url]), agent([relay.url])]
      for (const a of [bob, alice, alice]) expect((await a.run(['status'])).code).toBe(0) // the last: NIP-11 known
      const r = await alice.run(['status', '--verbose'])
      expect(r.code, r.stderr).toBe(0)
      expect(lines(r.stderr, '>', /"REQ","[^"]+",\{"kinds":\[30078\],"#t":\["openclaw-p2p"\],"since"/)).toHaveLength(1)
    } finally {
      await relay.stop()
    }
  })
})

describe('a quiet run on a relay it has read before', () => {
  let relay: TestRelay
  beforeAll(async () => {
    relay = await startRelay()
  })
  afterAll(() => relay.stop())

  it('asks for the announcements once: the answer is shorter than the relay has served', async () => {
    const [alice, bob, carol] = [agent([relay.url]), agent([relay.url]), agent([relay.url])]
    for (const a of [bob, carol, alice]) expect((await a.run(['status'])).code).toBe(0)
    const r = await alice.run(['status', '--verbose'])
    expect(r.code, r.stderr).toBe(0)
    expect(sent(r.stderr, /"REQ","[^"]+",\{"kinds":\[30078\],"#t":\["openclaw-p2p"\],"since"/)).toBe(1)
  })

  it('publishes a presence that is due once, and none that is not', async () => {
    const carol = agent([relay.url])
    const presences = (stderr: string) => lines(stderr, '>', /\["EVENT",\{"kind":30078,/).length
    const first = await carol.run(['status', '--verbose']) // a new agent: nothing announced yet
    expect(first.code, first.stderr).toBe(0)
    expect(presences(first.stderr)).toBe(1)
    expect(presences((await carol.run(['status', '--verbose'])).stderr)).toBe(0)
    // three minutes on, the copy the relay holds is older than PRESENCE_REFRESH_S
    const later = await carol.run(['status', '--verbose'], { env: { P2P_TEST_CLOCK_OFFSET_S: '180' } })
    expect(later.code, later.stderr).toBe(0)
    expect(presences(later.stderr)).toBe(1)
  })

  it('does not fetch back its own copies of what it sent: the next run has nothing to fetch', async () => {
    const { alice } = await callBetween([relay.url])
    expect((await alice.run(['send', 'a copy of this goes to me too'])).code).toBe(0)
    const next = await alice.run(['status', '--verbose'])
    expect(next.code, next.stderr).toBe(0)
    expect(next.stderr).toMatch(/NIP-77: 0 gift wraps to fetch/)
    expect(lines(next.stderr, '>', /"REQ","[^"]+",\{"kinds":\[1059\],"#p":\[[^\]]+\],"ids"/)).toEqual([])
  })

  it('sends the sync to our relays only, not to the indexers a lookup beside it opened', async () => {
    const indexer = await startRelay()
    try {
      const [alice, bob] = [agent([relay.url]), agent([relay.url])]
      expect((await alice.run(['config', 'set', 'indexers', indexer.url])).code).toBe(0)
      const calling = await alice.run(['call', (await whoami(bob)).npub, 'indexers ahead', '--verbose'])
      expect(calling.code, calling.stderr).toBe(0)
      const toIndexer = calling.stderr.split('\n').filter((line) => line.includes(`${indexer.url} > [`))
      expect(toIndexer.some((line) => line.includes('"kinds":[10050,10002]'))).toBe(true)
      expect(toIndexer.filter((line) => /"kinds":\[(1059|30078)\]|NEG-OPEN/.test(line))).toEqual([])
    } finally {
      await indexer.stop()
    }
  })

  it("call and answer ask for the peer's relay lists in the sync's flight, not after it", async () => {
    const [alice, bob] = [agent([relay.url]), agent([relay.url])]
    const [a, b] = [await whoami(alice), await whoami(bob)]
    /** whether the lists of `peer` were asked for before the relay's first answer came */
    const askedFirst = (stderr: string, peer: string) => {
      const [asked] = lines(stderr, '>', new RegExp(`"kinds":\\[10050,10002\\],"authors":\\["${peer}"`))
      const [answered] = lines(stderr, '<', /\["EOSE",/)
      return asked !== undefined && asked < answered
    }
    const calling = await alice.run(['call', b.npub, 'lists ahead', '--verbose'])
    expect(calling.code, calling.stderr).toBe(0)
    expect(askedFirst(calling.stderr, b.pubkey)).toBe(true)
    expect((await bob.run(['poll'])).code).toBe(0)
    const answering = await bob.run(['answer', 'accept', '--verbose'])
    expect(answering.code, answering.stderr).toBe(0)
    expect(askedFirst(answering.stderr, a.pubkey)).toBe(true)
  })
})

describe('reading DMs from a relay that wants AUTH first (NIP-42)', () => {
  /** A stranger's DM to a new agent on a relay of `mode`, read by one poll: its texts and log. */
  async function pollDm(mode: PolicyMode) {
    const port = await freePort()
    const relay = await startPolicyRelay({ mode, port, serviceUrl: `ws://127.0.0.1:${port}` })
    try {
      const bob = agent([relay.url])
      const { pubkey } = await whoami(bob)
      await inject(relay.url, { type: 'dm', text: `hello over ${mode}` }, { author: generateSecretKey(), to: pubkey })
      const r = await bob.run(['poll', '--json', '--verbose'])
      expect(r.code, r.stderr).toBe(0)
      return { texts: r.json().events.map((e: { text: string }) => e.text), stderr: r.stderr }
    } finally {
      await relay.stop()
    }
  }

  /** DM reads sent behind our AUTH (before its OK came), and after its OK */
  function around(stderr: string) {
    const [auth] = lines(stderr, '>', /\["AUTH",\{/)
    const [ok] = lines(stderr, '<', AUTH_OK)
    const reqs = lines(stderr, '>', DM_REQ)
    expect(auth).toBeLessThan(ok)
    return { behind: reqs.filter((at) => at > auth && at < ok).length, after: reqs.filter((at) => at > ok).length }
  }

  it('strfry (a challenge with the refusal): the read goes again right behind the AUTH, not after its OK', async () => {
    const { texts, stderr } = await pollDm('strfry')
    expect(texts).toEqual(['hello over strfry'])
    expect(around(stderr).behind).toBeGreaterThan(0)
  })

  it('nostr-rs-relay (a challenge on connect): the read goes right behind the AUTH', async () => {
    const { texts, stderr } = await pollDm('nostr-rs-relay')
    expect(texts).toEqual(['hello over nostr-rs-relay'])
    expect(around(stderr).behind).toBeGreaterThan(0)
  })

  it('khatru (each message on its own goroutine): a read refused though sent behind the AUTH goes again after its OK', async () => {
    const { texts, stderr } = await pollDm('khatru')
    expect(texts).toEqual(['hello over khatru'])
    const { behind, after } = around(stderr)
    expect(behind).toBeGreaterThan(0)
    expect(after).toBeGreaterThan(0)
  })
})

describe('our AUTH on one connection (relay/auth.ts)', () => {
  it('takes no OK for its own before its AUTH event is signed and sent', async () => {
    let sign: (event: Event) => void = () => {}
    const signed = new Promise<Event>((resolve) => {
      sign = resolve
    })
    const frames: unknown[][] = []
    const auth = new RelayAuth(
      'ws://relay.example',
      (m) => frames.push(m),
      () => signed,
    )
    auth.answer('challenge')
    expect(auth.onOk('b'.repeat(64), true, '')).toBe(false) // another event's OK, while signing
    expect(auth.succeeded).toBe(false)
    const event = finalizeEvent({ kind: 22242, created_at: 1, tags: [], content: '' }, generateSecretKey())
    sign(event)
    await auth.sent()
    expect(frames).toEqual([['AUTH', event]])
    expect(auth.sentAs).toBe('behind')
    expect(auth.onOk(event.id, true, '')).toBe(true)
    expect(auth.sentAs).toBe('after')
  })
})

describe('a presence that is due', () => {
  it('goes out beside the sync: a relay that answers no REQ before it has it still answers them all', async () => {
    // answers each connection's REQs only once our presence came (NIP-77: refused, as many do)
    const held = new WeakMap<object, string[]>()
    const gate = await startFaultyRelay({
      onConnection: (ws) => {
        held.set(ws, [])
        ws.on('message', (data) => {
          const [type, id] = JSON.parse(data.toString())
          if (type === 'NEG-OPEN') ws.send(JSON.stringify(['NEG-ERR', id, 'blocked: negentropy disabled']))
        })
      },
      onReq: (subId, ws) => {
        const waiting = held.get(ws)
        if (waiting) waiting.push(subId)
        else ws.send(JSON.stringify(['EOSE', subId]))
      },
      onEvent: (event, ws) => {
        ws.send(JSON.stringify(['OK', event.id, true, '']))
        if ((event as { kind?: number }).kind !== 30078) return
        for (const subId of held.get(ws) ?? []) ws.send(JSON.stringify(['EOSE', subId]))
        held.delete(ws)
      },
    })
    try {
      const r = await agent([gate.url]).run(['status', '--verbose'])
      expect(r.code, r.stderr).toBe(0)
      expect(r.stderr).not.toMatch(/no EOSE before the deadline/)
      expect(lines(r.stderr, '<', /\["EOSE",/).length).toBeGreaterThan(2)
    } finally {
      await gate.stop()
    }
  })

  it('is not sent to a relay held back as silent, and no run waits for one that never connected', async () => {
    const live = await startRelay()
    const hole = await startBlackHole()
    try {
      const a = agent([live.url, hole.url])
      expect((await a.run(['poll'])).code).toBe(0) // the hole answers nothing: held back from now on
      // minutes later, presence is due everywhere
      const later = await a.run(['poll', '--verbose'], { env: { P2P_TEST_CLOCK_OFFSET_S: '180' } })
      expect(later.code, later.stderr).toBe(0)
      expect(lines(later.stderr, '>', /\["EVENT",\{"kind":30078,/).length).toBe(1) // to the live relay
      expect(later.stderr).not.toContain(`${hole.url} publish kind 30078`)
    } finally {
      await Promise.all([live.stop(), hole.stop()])
    }
  })
})
