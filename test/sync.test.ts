// A sync whose cost follows what is new (issue 13, points 1 and 2), end to end against real
// relays: by NIP-77 a quiet poll transfers no old gift wraps (strfry, behind AUTH); without it the
// gift wraps are read page by page, each run going on from where the last stopped, so that a
// window larger than one run's budget arrives whole over a few polls; and a relay that answers
// NEG-OPEN with an error, a NOTICE or nothing is read page by page, and remembered as such.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { generateSecretKey } from 'nostr-tools/pure'
import { afterAll, describe, expect, it } from 'vitest'
import { type Agent, agent } from './helpers/cli.ts'
import { callBetween, whoami } from './helpers/inject.ts'
import { startPolicyRelay } from './helpers/policy-relay.ts'
import { freePort, noTraffic, type RelayOptions, startRelay, type TestRelay } from './helpers/relay.ts'
import { datedDm, publishAll, sendDms } from './helpers/stranger.ts'

const now = () => Math.floor(Date.now() / 1000)
const started: TestRelay[] = []
afterAll(async () => {
  await Promise.all(started.map((r) => r.stop()))
})
const keep = <T extends TestRelay>(relay: T): T => {
  started.push(relay)
  return relay
}
const state = (a: Agent) => JSON.parse(readFileSync(join(a.home, 'p2p-state.json'), 'utf8'))
async function poll(a: Agent, env?: Record<string, string>): Promise<Array<Record<string, any>>> {
  const r = await a.run(['poll', '--json'], { env })
  expect(r.code, r.stderr).toBe(0)
  return r.json().events
}

// one at a time: these tests time a relay's answers (NIP-77's 1 s probe, a live wake-up), and
// a second test beside them on the in-process relays made them miss (seen in CI under load)
describe('sync', () => {
  describe('by NIP-77 (strfry, gift wraps behind AUTH)', () => {
    it('a quiet poll transfers no old gift wrap, and what is sent meanwhile all arrives', async () => {
      const port = await freePort()
      const relay = keep(await startPolicyRelay({ mode: 'strfry', port, serviceUrl: `ws://127.0.0.1:${port}` }))
      const a = agent([relay.url])
      expect((await a.run(['status'])).code).toBe(0)
      const me = (await whoami(a)).pubkey
      await sendDms(relay.url, me, 150)
      expect(await poll(a)).toHaveLength(150)
      Object.assign(relay.traffic, noTraffic())

      expect(await poll(a)).toEqual([])
      expect(relay.traffic).toMatchObject({ wraps: 0, negOpens: 2 }) // strfry refuses the first for AUTH
      expect(relay.traffic.bytes).toBeLessThan(10_000) // the 150 wraps are ~150 KB
      expect(state(a).relayHealth[relay.url]).toMatchObject({ negentropy: true })

      Object.assign(relay.traffic, noTraffic())
      await sendDms(relay.url, me, 7, [generateSecretKey()], (i) => `new ${i}`)
      const events = await poll(a)
      expect(events.map((e) => e.text).sort()).toEqual(Array.from({ length: 7 }, (_, i) => `new ${i}`))
      expect(relay.traffic.wraps).toBe(7)
    })
  })

  describe('without NIP-77, page by page', () => {
    it('a window larger than one run can read arrives whole over successive polls, the peer’s end sent last too', async () => {
      const relay = keep(await startPolicyRelay({ mode: 'plain' }))
      const { alice, bob, callId, bobKey } = await callBetween([relay.url])
      // each learnt on its first run that the relay does not speak NIP-77 (a NOTICE said so)
      expect(relay.traffic.negOpens).toBe(2)
      // 64 DMs dated all over the window, in piles of up to a page sharing one second
      const base = now() - 60
      const piles = [1, 10, 3, 7, 10, 2, 5, 9, 1, 4, 6, 6]
      const texts: string[] = []
      const wraps = piles.flatMap((size, p) =>
        Array.from({ length: size }, () => {
          texts.push(`dm ${texts.length}`)
          return datedDm(generateSecretKey(), bobKey, texts[texts.length - 1], base - p * 14_000)
        }),
      )
      await publishAll(relay.url, wraps)
      expect((await alice.run(['end'])).code).toBe(0)
      // pages of 10, 2 pages a run: 20 wraps a run at most (the deadline does the same at scale)
      const budget = { P2P_TEST_PAGE_LIMIT: '10', P2P_TEST_MAX_PAGES: '2' }
      const seen: Array<Record<string, any>> = []
      let polls = 0
      while (polls < 12 && !(seen.some((e) => e.type === 'call-ended') && seen.length >= texts.length + 1)) {
        polls++
        seen.push(...(await poll(bob, budget)))
      }
      expect(polls).toBeGreaterThan(3)
      const dms = seen.filter((e) => e.type === 'direct-message').map((e) => e.text)
      expect(dms.sort()).toEqual([...texts].sort()) // none skipped, none twice
      expect(seen.filter((e) => e.type === 'call-ended')).toEqual([expect.objectContaining({ callId })])
      expect(seen).toHaveLength(texts.length + 1)
      // not asked again since
      expect(relay.traffic.negOpens).toBe(2)
      expect(state(bob).relayHealth[relay.url]).toMatchObject({ negentropy: false })
    }, 120_000)
  })

  describe('a relay that does not speak NIP-77', () => {
    const cases: Array<[string, RelayOptions]> = [
      ['answers NEG-OPEN with NEG-ERR (strfry past maxSyncEvents)', { neg: { maxSyncEvents: 1 } }],
      ['answers with a NOTICE', { negentropy: 'off' }],
      ['does not answer', { negentropy: 'silent' }],
    ]
    for (const [how, opts] of cases) {
      it(`${how}: read page by page, and not asked again on the next run`, async () => {
        const relay = keep(await startRelay(opts))
        const a = agent([relay.url])
        const me = (await whoami(a)).pubkey // offline
        await sendDms(relay.url, me, 5)
        expect(await poll(a)).toHaveLength(5)
        expect(relay.traffic.negOpens).toBe(1)
        expect(state(a).relayHealth[relay.url]).toMatchObject({ negentropy: false, lastSynced: expect.any(Number) })
        await sendDms(relay.url, me, 2)
        expect(await poll(a)).toHaveLength(2)
        expect(relay.traffic.negOpens).toBe(1)
      })
    }
  })
})
