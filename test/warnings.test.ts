// What a run could not read is said (issue 22, point 3): a relay not read in full, by every
// command that syncs, one line per relay on stderr and `warnings` in --json. A quiet poll with
// every relay read in full stays fully silent. The rule on its own first (fold.ts), then the
// built CLI on real local relays.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type SyncReads, unreadRelays } from '../lib/session/fold.ts'
import { agent } from './helpers/cli.ts'
import { type PolicyRelay, startPolicyRelay } from './helpers/policy-relay.ts'
import { deadRelayUrl, startRelay, type TestRelay } from './helpers/relay.ts'

let refusing: PolicyRelay // strfry's default: gift wraps behind an AUTH that never succeeds
let lenient: TestRelay
beforeAll(async () => {
  ;[refusing, lenient] = await Promise.all([startPolicyRelay({ mode: 'strfry' }), startRelay()])
})
afterAll(async () => {
  await Promise.all([refusing.stop(), lenient.stop()])
})

describe('which relays were not read in full (fold.ts)', () => {
  const done = (url: string) => ({ url, complete: true })
  const reads = (wraps: object[], presence: object[] = [done('wss://a'), done('wss://b')]): SyncReads => ({
    events: [],
    results: { presence: presence as SyncReads['results']['presence'], lists: [done('wss://a'), done('wss://b')], wraps: wraps as never },
  })
  const up = (url: string) => ({ url, connected: true, dropped: 0 })

  it('names each relay once with its first reason, messages before announcements; a relay read in full not at all', () => {
    const refused = { url: 'wss://a', complete: false, reason: 'closed by relay: auth-required: x', top: 0 }
    const cut = { url: 'wss://a', complete: false, reason: 'more than 4 pages' }
    expect(
      unreadRelays(['wss://a', 'wss://b'], reads([refused, { ...done('wss://b'), top: 0 }], [cut, done('wss://b')]), [
        up('wss://a'),
        up('wss://b'),
      ]),
    ).toEqual([{ relay: 'wss://a', reason: 'messages: closed by relay: auth-required: x' }])
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
