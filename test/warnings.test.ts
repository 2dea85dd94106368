// What a run could not read is said (issue 22, points 3 and 8): a relay not read in full, by
// every command that syncs, one line per relay on stderr and `warnings` in --json; and events
// dropped because the journal was full, counted on stderr and as `dropped` in --json. A quiet
// poll with every relay read in full stays fully silent. The rules on their own first (fold.ts,
// the store's bound), then the built CLI on real local relays.
import { generateSecretKey } from 'nostr-tools/pure'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { journal, settleLease } from '../lib/calls/journal.ts'
import { MAX_JOURNAL, MAX_JOURNAL_BYTES, MAX_RELAY_REASON } from '../lib/limits.ts'
import { type SyncReads, unreadRelays } from '../lib/session/fold.ts'
import { emptyState, type P2PEvent } from '../lib/store/schema.ts'
import { bound } from '../lib/store/state.ts'
import { createOutput } from '../lib/ui/output.ts'
import { whoami } from './helpers/agents.ts'
import { agent } from './helpers/cli.ts'
import { type PolicyRelay, startPolicyRelay } from './helpers/policy-relay.ts'
import { deadRelayUrl, startRelay, type TestRelay } from './helpers/relay.ts'
import { sendDms } from './helpers/stranger.ts'

let refusing: PolicyRelay // strfry's default: gift wraps behind an AUTH that never succeeds
let lenient: TestRelay
beforeAll(async () => {
  ;[refusing, lenient] = await Promise.all([startPolicyRelay({ mode: 'strfry' }), startRelay()])
})
afterAll(async () => {
  await Promise.all([refusing.stop(), lenient.stop()])
})

const NOW = 1_800_000_000

describe('which relays were not read in full (fold.ts)', () => {
  const done = (url: string) => ({ url, complete: true })
  const reads = (wraps: object[], presence: object[] = [done('wss://a'), done('wss://b')]): SyncReads => ({
    events: [],
    results: { presence: presence as SyncReads['results']['presence'], lists: [done('wss://a'), done('wss://b')], wraps: wraps as never },
  })
  const up = (url: string) => ({ url, connected: true, dropped: 0 })

  it('names each relay once with its first reason; a relay read in full not at all', () => {
    const refused = { url: 'wss://a', complete: false, reason: 'closed by relay: auth-required: x', top: 0 }
    const cut = { url: 'wss://a', complete: false, reason: 'more than 4 pages' }
    expect(
      unreadRelays(['wss://a', 'wss://b'], reads([refused, { ...done('wss://b'), top: 0 }], [cut, done('wss://b')]), [
        up('wss://a'),
        up('wss://b'),
      ]),
    ).toEqual([{ relay: 'wss://a', reason: 'messages: closed by relay: auth-required: x' }])
  })

  it('announcements cut at the page budget (a stranger can flood them) are no warning', () => {
    const cut = { url: 'wss://a', complete: false, reason: 'more than 4 pages' }
    const wraps = [
      { ...done('wss://a'), top: 0 },
      { ...done('wss://b'), top: 0 },
    ]
    expect(unreadRelays(['wss://a', 'wss://b'], reads(wraps, [cut, done('wss://b')]), [up('wss://a'), up('wss://b')])).toEqual([])
  })

  it("a relay not connected is named with its connection error; relays not ours (a peer's inbox) are not", () => {
    const down = { url: 'wss://b', connected: false, error: 'ECONNREFUSED', dropped: 0 }
    const wraps = [
      { ...done('wss://a'), top: 0 },
      { url: 'wss://b', complete: false, reason: 'ECONNREFUSED', top: 0 },
    ]
    expect(unreadRelays(['wss://a', 'wss://b'], reads(wraps), [up('wss://a'), down, { ...down, url: 'wss://peer' }])).toEqual([
      { relay: 'wss://b', reason: 'ECONNREFUSED' },
    ])
  })
})

describe("a relay's reason as a warning shows it (the output layer)", () => {
  it('sanitized onto one line and clipped: a hostile relay cannot forge lines or fill a log', async () => {
    const written: string[] = []
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((text, done?: unknown) => {
      written.push(String(text))
      if (typeof done === 'function') done()
      return true
    })
    try {
      const out = createOutput({ json: true })
      const hostile = `closed by relay: \u001b[2Jfake\nerror: line ${'x'.repeat(5_000)}`
      out.unread([{ relay: 'wss://a', reason: hostile }])
      out.unread([{ relay: 'wss://a', reason: 'said again by a later sync' }])
      await out.result({ events: [] }, () => [])
    } finally {
      spy.mockRestore()
    }
    const { warnings } = JSON.parse(written.join(''))
    expect(warnings).toHaveLength(1)
    expect(warnings[0].reason).toMatch(/^closed by relay: fake error: line x+…$/)
    expect(warnings[0].reason.length).toBe(MAX_RELAY_REASON + 1)
  })
})

describe("what the journal could not keep is counted (the store's bound)", () => {
  const dm = (text: string): P2PEvent => ({ type: 'direct-message', callId: null, from: 'npub1x', at: NOW, text })

  it('unprinted messages beyond MAX_JOURNAL: counted; printed ones making room: not', () => {
    const state = emptyState()
    journal(
      state,
      Array.from({ length: 10 }, (_, i) => dm(`printed ${i}`)),
    )
    settleLease(
      state,
      'none',
      state.journal.map((j) => j.seq),
    )
    expect(bound(state, NOW).dropped).toBeUndefined()
    journal(
      state,
      Array.from({ length: MAX_JOURNAL + 7 }, (_, i) => dm(`new ${i}`)),
    )
    expect(bound(state, NOW).dropped).toEqual({ count: 7, reason: `journal full (it keeps at most ${MAX_JOURNAL} events)` })
    expect(state.journal[0].event.text).toBe('new 7') // the oldest went
    expect(bound(state, NOW).dropped).toBeUndefined() // counted once, when dropped
  })

  it('unprinted messages beyond MAX_JOURNAL_BYTES: counted; a message that asked to disappear: not', () => {
    const state = emptyState()
    const long = 'x'.repeat(15_000)
    const count = Math.ceil(MAX_JOURNAL_BYTES / long.length) + 3
    journal(state, [{ ...dm('gone at its time'), expiresAt: NOW - 1 }])
    journal(
      state,
      Array.from({ length: count }, (_, i) => dm(`${i} ${long}`)),
    )
    const { dropped } = bound(state, NOW)
    expect(dropped?.reason).toBe(`journal full (it keeps at most ${MAX_JOURNAL_BYTES} bytes)`)
    expect(dropped?.count).toBe(count - state.journal.length)
    expect(dropped?.count).toBeGreaterThan(0)
  })
})

const warningLines = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('warning: '))

describe.concurrent('a relay not read in full is said', () => {
  it('a plain poll on a relay that refuses our AUTH warns on stderr, stdout stays empty; --json carries warnings', async () => {
    const a = agent([refusing.url])
    const plain = await a.run(['poll'])
    expect(plain.code, plain.stderr).toBe(0)
    expect(plain.stdout).toBe('')
    const lines = warningLines(plain.stderr)
    expect(lines).toHaveLength(1)
    expect(lines[0]).toContain(refusing.url)
    expect(lines[0]).toMatch(/auth-required/)
    const json = await a.run(['poll', '--json'])
    expect(json.code, json.stderr).toBe(0)
    expect(json.json()).toEqual({
      events: [],
      warnings: [{ relay: refusing.url, reason: expect.stringMatching(/auth-required/) }],
    })
    // with --json, stderr stays as quiet as the document is complete
    expect(warningLines(json.stderr)).toEqual([])
  })

  it('one line per relay not read, every run, by any command that syncs; a relay read in full is not named', async () => {
    const dead = await deadRelayUrl()
    const a = agent([lenient.url, dead])
    for (const args of [['poll'], ['poll'], ['list']]) {
      const r = await a.run(args)
      expect(r.code, r.stderr).toBe(0)
      const lines = warningLines(r.stderr)
      expect(lines, args.join(' ')).toHaveLength(1)
      expect(lines[0]).toContain(dead)
      expect(r.stderr).not.toContain(lenient.url)
    }
    const status = await a.run(['status', '--json'])
    expect(status.json().warnings).toEqual([{ relay: dead, reason: expect.any(String) }])
  })

  it('a poll with every relay read in full and nothing new is silent, and its --json has no warnings', async () => {
    const a = agent([lenient.url])
    const plain = await a.run(['poll'])
    expect(plain.code, plain.stderr).toBe(0)
    expect(plain.stdout).toBe('')
    expect(plain.stderr).toBe('')
    expect((await a.run(['poll', '--json'])).json()).toEqual({ events: [] })
  })
})

describe('a flood of strangers beyond the journal', () => {
  it('the messages dropped because the journal was full are counted, on stderr and in --json', async () => {
    // a journal of 20 stands in for MAX_JOURNAL: 30 messages from strangers in one sync
    const env = { P2P_TEST_MAX_JOURNAL: '20' }
    const a = agent([lenient.url])
    expect((await a.run(['status'], { env })).code).toBe(0)
    const me = (await whoami(a)).pubkey
    await sendDms(
      lenient.url,
      me,
      30,
      Array.from({ length: 5 }, () => generateSecretKey()),
    )
    const r = await a.run(['poll', '--json'], { env })
    expect(r.code, r.stderr).toBe(0)
    const doc = r.json()
    expect(doc.events).toHaveLength(20)
    // the newest are kept: the oldest ten went
    expect(doc.dropped).toEqual({ count: 10, reason: expect.stringMatching(/journal/) })
    expect(doc.warnings).toBeUndefined()

    await sendDms(lenient.url, me, 25)
    const plain = await a.run(['poll'], { env })
    expect(plain.code, plain.stderr).toBe(0)
    expect(plain.stdout.split('\n').filter((l) => l.includes('note '))).toHaveLength(20)
    expect(plain.stderr).toMatch(
      /^warning: 5 new events dropped unread: journal full \(it keeps at most 20 events\).*; keep strangers out/m,
    )
    // and a poll after it, with nothing new, is silent again
    const quiet = await a.run(['poll'], { env })
    expect(quiet.stdout + quiet.stderr).toBe('')
  }, 60_000)
})
