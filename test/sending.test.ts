// Sending through relays as deployed (issue 11, points 5-9): sizes measured on the wire,
// refusals by class, files through a rate limit, a write-ahead outbox that survives a kill, and
// an outbox that strangers cannot poison. Real relays, some behind a gate that refuses, rate-
// limits or holds what we publish (test/helpers/gate-relay.ts).
import { createHash, randomBytes } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { generateSecretKey, getPublicKey } from 'nostr-tools/pure'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { GIFT_WRAP_KIND, INBOX_RELAYS_KIND } from '../lib/nostr/kinds.ts'
import { wrapRumor } from '../lib/nostr/nip59.ts'
import { buildRumor } from '../lib/nostr/p2p.ts'
import { AUTO_REPLY_MS } from '../lib/timing.ts'
import { named, pollEvents, whoami } from './helpers/agents.ts'
import { type Agent, workedMs } from './helpers/cli.ts'
import { forwardAll, type GateRelay, holdKind, killWhilePublishing, rateLimit, refuseKind, startGate } from './helpers/gate-relay.ts'
import { publishTo, signed } from './helpers/publish.ts'
import { startBlackHole, startRelay, type TestRelay } from './helpers/relay.ts'

let r1: TestRelay
beforeAll(async () => {
  r1 = await startRelay()
})
afterAll(async () => {
  await r1.stop()
})

const poll = pollEvents
const outboxOf = async (a: Agent) => (await a.run(['status', '--json'])).json().outbox as Array<Record<string, any>>

async function connected(alice: Agent, bob: Agent): Promise<string> {
  const call = await alice.run(['call', (await whoami(bob)).npub, 'a topic', '--json'])
  expect(call.code, call.stderr).toBe(0)
  expect((await poll(bob)).map((e) => e.type)).toEqual(['call-request'])
  expect((await bob.run(['answer', 'accept'])).code).toBe(0)
  expect((await poll(alice)).map((e) => e.type)).toContain('call-accepted')
  return call.json().call.id
}

/** alice on r1; bob only through `gate` in front of r1 (so the gate is his inbox), which
 *  forwards everything until a test changes its policy. */
async function pairThroughGate(tag: string): Promise<{ alice: Agent; bob: Agent; gate: GateRelay; callId: string }> {
  const gate = await startGate(r1.url)
  const alice = await named(`alice-${tag}`, [r1.url])
  const bob = await named(`bob-${tag}`, [gate.url])
  const callId = await connected(alice, bob)
  gate.seen.length = 0
  return { alice, bob, gate, callId }
}

const wrapsSeen = (gate: GateRelay) => gate.seen.filter((s) => s.event.kind === GIFT_WRAP_KIND).length

// independent tests (each its own agents; shared relays only serve them): two at a time
describe.concurrent('sending', () => {
  describe('5. size on the wire', () => {
    it('a message that only overflows one gift wrap once escaped is a usage error, and nothing is recorded', async () => {
      const alice = await named('alice5', [r1.url])
      const bob = await named('bob5', [r1.url])
      const callId = await connected(alice, bob)
      for (const text of ['"'.repeat(16_000), '\x01'.repeat(12_000)]) {
        const r = await alice.run(['send', text, '--json'])
        expect(r.code, r.stderr).toBe(2)
        expect(r.json().error.code).toBe('message-too-large')
      }
      expect((await alice.run(['history', callId, '--json'])).json().transcript.messages).toEqual([])
      expect(await outboxOf(alice)).toEqual([])
      expect(await poll(bob)).toEqual([])
      // just under the line still goes
      const fits = await alice.run(['send', '"'.repeat(12_000), '--json'])
      expect(fits.code, fits.stderr).toBe(0)
    })
  })

  describe('6. refusals have classes', () => {
    it('a permanent refusal is reported and never retried; the reason may come after "ERROR: "', async () => {
      const { alice, gate } = await pairThroughGate('perm')
      try {
        gate.policy = refuseKind(GIFT_WRAP_KIND, 'ERROR: blocked: you are not on the allow list')
        const sent = await alice.run(['send', 'let me in', '--json'])
        expect(sent.code).toBe(4)
        expect(sent.json()).toMatchObject({ queued: false, failed: true })
        expect(sent.json().relays).toEqual([
          expect.objectContaining({ url: gate.url, ok: false, reason: expect.stringMatching(/blocked:/) }),
        ])
        expect(sent.stdout).toMatch(/blocked/)
        const tries = wrapsSeen(gate)
        expect((await alice.run(['status'])).code).toBe(0)
        expect((await alice.run(['status'])).code).toBe(0)
        expect(wrapsSeen(gate)).toBe(tries) // not sent again
        expect(await outboxOf(alice)).toEqual([expect.objectContaining({ state: 'failed', lastError: expect.stringMatching(/blocked/) })])
      } finally {
        await gate.stop()
      }
    })

    it('rate-limited backs off: queued, and not hammered on the next run', async () => {
      const { alice, bob, gate, callId } = await pairThroughGate('rate')
      try {
        gate.policy = refuseKind(GIFT_WRAP_KIND, 'rate-limited: slow down')
        const sent = await alice.run(['send', 'patience', '--json'])
        expect(sent.code).toBe(4)
        expect(sent.json()).toMatchObject({ queued: true })
        const tries = wrapsSeen(gate)
        expect((await alice.run(['status'])).code).toBe(0)
        expect(wrapsSeen(gate)).toBe(tries) // backing off
        const [entry] = await outboxOf(alice)
        expect(entry).toMatchObject({ state: 'waiting', lastError: expect.stringMatching(/rate-limited/) })
        expect(entry.nextAttemptAt).toBeGreaterThan(Math.floor(Date.now() / 1000))
        // the back-off is over and the relay takes it again
        const file = join(alice.home, 'p2p-state.json')
        const state = JSON.parse(readFileSync(file, 'utf8'))
        state.outbox[0].nextAttemptAt = 0
        writeFileSync(file, JSON.stringify(state))
        gate.policy = forwardAll
        expect(await outboxOf(alice)).toEqual([])
        expect(await poll(bob)).toEqual([expect.objectContaining({ type: 'message', callId, text: 'patience' })])
      } finally {
        await gate.stop()
      }
    })
  })

  describe('7. files through rate limits', () => {
    it('a 30-chunk file reaches a peer whose only relay takes 10 events a second', async () => {
      const { alice, bob, gate } = await pairThroughGate('file')
      try {
        gate.policy = rateLimit(10, 10)
        const file = randomBytes(30 * 15_000)
        const sent = await alice.run(['sendfile', 'big.bin', '-', '--json'], { stdin: file.toString('base64') })
        expect([0, 4]).toContain(sent.code)
        const got: Array<Record<string, any>> = []
        for (let run = 0; run < 3 && !got.some((e) => e.type === 'file'); run++) {
          got.push(...(await poll(bob)))
          if (!got.some((e) => e.type === 'file')) expect((await alice.run(['status'])).code).toBe(0)
        }
        const files = got.filter((e) => e.type === 'file')
        expect(files).toHaveLength(1)
        expect(files[0].file.sha256).toBe(createHash('sha256').update(file).digest('hex'))
        // only missing chunks were sent again: at most a few refusals beyond the 30 that landed
        const accepted = gate.seen.filter((s) => s.event.kind === GIFT_WRAP_KIND && s.verdict === 'forward').length
        expect(accepted).toBeLessThanOrEqual(30 + 2)
      } finally {
        await gate.stop()
      }
    })
  })

  describe('8. write-ahead outbox', () => {
    it('a run killed mid-publish loses nothing: the next run delivers the message and the end', async () => {
      const { alice, bob, gate, callId } = await pairThroughGate('kill')
      try {
        gate.policy = holdKind(GIFT_WRAP_KIND)
        await killWhilePublishing(alice.home, [r1.url], ['send', 'said just before the kill'], gate)
        await killWhilePublishing(alice.home, [r1.url], ['end'], gate)
        gate.policy = forwardAll
        expect((await alice.run(['status'])).code).toBe(0)
        expect(await outboxOf(alice)).toEqual([])
        const events = await poll(bob)
        expect(events.map((e) => [e.type, e.text])).toEqual([
          ['message', 'said just before the kill'],
          ['call-ended', undefined],
        ])
        expect((await bob.run(['history', callId, '--json'])).json().call.state).toBe('ended')
      } finally {
        await gate.stop()
      }
    })
  })

  describe('9. a bounded outbox', () => {
    it('call requests from strangers whose inboxes are black holes cost later commands nothing', async () => {
      const hole = await startBlackHole()
      try {
        const alice = await named('alice9', [r1.url])
        const bob = await named('bob9', [r1.url])
        const callId = await connected(alice, bob)
        const me = (await whoami(bob)).pubkey
        const now = Math.floor(Date.now() / 1000)
        for (let i = 0; i < 3; i++) {
          const sk = generateSecretKey()
          await publishTo(r1.url, signed({ kind: INBOX_RELAYS_KIND, created_at: now, tags: [['relay', hole.url]], content: '' }, sk))
          const request = buildRumor({ type: 'call-request', callId: `5eed${i}0000a`, topic: 'hi' }, getPublicKey(sk), me, now, 'stranger')
          await publishTo(r1.url, wrapRumor(request, sk, me))
        }
        const busy = await bob.run(['poll', '--json', '--verbose'], { env: { P2P_TEST_AUTO_REPLY_MS: String(AUTO_REPLY_MS) } })
        expect(busy.code).toBe(0)
        expect(workedMs(busy)).toBeLessThan(3_500) // automatic replies get 1 s, not the 4 s deadline
        expect(await outboxOf(bob)).toEqual([]) // automatic replies are never queued
        const sent = await bob.run(['send', 'still here', '--json', '--verbose'])
        expect(sent.code, sent.stderr).toBe(0)
        expect(workedMs(sent)).toBeLessThan(3_000) // ~0.3 s unloaded; 2.4 s when it retried the black holes first
        expect(await poll(alice)).toEqual([expect.objectContaining({ type: 'message', callId, text: 'still here' })])
      } finally {
        await hole.stop()
      }
    })

    it('a queued item stops after its attempts and says so; `outbox` shows and drops items', async () => {
      const { alice, bob, gate } = await pairThroughGate('cap')
      try {
        gate.policy = refuseKind(GIFT_WRAP_KIND, 'error: try again later')
        expect((await alice.run(['send', 'one'])).code).toBe(4)
        expect((await alice.run(['send', 'two'])).code).toBe(4)
        const listed = await alice.run(['outbox', '--json'])
        expect(listed.code).toBe(0)
        const entries = listed.json().outbox
        expect(entries).toEqual([
          expect.objectContaining({ state: 'waiting', attempts: expect.any(Number), lastError: expect.stringMatching(/try again/) }),
          expect.objectContaining({ state: 'waiting' }),
        ])
        // the first has had all but one of its attempts
        const file = join(alice.home, 'p2p-state.json')
        const state = JSON.parse(readFileSync(file, 'utf8'))
        state.outbox[0].attempts = 1_000
        writeFileSync(file, JSON.stringify(state))
        const gaveUp = await alice.run(['status'])
        expect(gaveUp.stderr).toMatch(/gave up/)
        expect((await alice.run(['outbox', '--json'])).json().outbox.map((e: { state: string }) => e.state)).toEqual(['failed', 'waiting'])
        expect((await alice.run(['outbox'])).stdout).toMatch(/failed/)

        expect((await alice.run(['outbox', 'drop', 'nosuchid', '--json'])).code).toBe(3)
        const one = await alice.run(['outbox', 'drop', entries[0].id, '--json'])
        expect(one.code).toBe(0)
        expect(one.json().outbox).toHaveLength(1)
        const all = await alice.run(['outbox', 'drop', 'all', '--json'])
        expect(all.json()).toMatchObject({ dropped: [entries[1].id], outbox: [] })
        expect((await alice.run(['outbox', '--help'])).stdout).toMatch(/outbox drop/)

        // a call request still queued when the ring timeout is over is given up: the peer would ignore it
        expect((await alice.run(['end'])).code).toBe(4)
        expect((await alice.run(['outbox', 'drop', 'all'])).code).toBe(0)
        expect((await alice.run(['call', (await whoami(bob)).npub, 'again?'])).code).toBe(4)
        const aged = JSON.parse(readFileSync(file, 'utf8'))
        aged.outbox[0].queuedAt -= 301
        writeFileSync(file, JSON.stringify(aged))
        expect((await alice.run(['status'])).stderr).toMatch(/went unanswered/)
        expect((await alice.run(['outbox', '--json'])).json().outbox).toEqual([
          expect.objectContaining({ type: 'call-request', state: 'failed' }),
        ])
      } finally {
        await gate.stop()
      }
    })
  })
})
