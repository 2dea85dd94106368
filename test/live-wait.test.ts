// `poll --wait` opens what woke it (issue 13, point 3): the gift wraps its live feed delivers
// are opened and applied by the sync's own path, with no second sync (no REQ after the first),
// and nothing is missed or spun on (issue 12, point 10); a burst never trips the flood rule, and
// a live feed ended as a flood leaves the wait reading by syncs, not blind (issue 23, point 1).
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { finalizeEvent, generateSecretKey } from 'nostr-tools/pure'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CHUNK_BYTES } from '../lib/limits.ts'
import { connected, whoami } from './helpers/agents.ts'
import { agent, CLI, type RunResult } from './helpers/cli.ts'
import { startFaultyRelay } from './helpers/faulty-relay.ts'
import { startRelay, type TestRelay } from './helpers/relay.ts'
import { datedDm, publishAll, sendDms } from './helpers/stranger.ts'

let relay: TestRelay
beforeAll(async () => {
  relay = await startRelay()
})
afterAll(() => relay.stop())

/** Runs `poll --wait` with --verbose and calls `meanwhile` once its first sync is over. */
function waitingPoll(env: Record<string, string>, args: string[], meanwhile: () => Promise<void>): Promise<RunResult> {
  const started = Date.now()
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'poll', '--verbose', '--json', ...args], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    })
    let stdout = ''
    let stderr = ''
    let acted: Promise<void> | undefined
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => {
      stderr += d
      if (!acted && /\] sync: /.test(stderr)) acted = meanwhile()
    })
    const killer = setTimeout(() => child.kill('SIGKILL'), 30_000)
    child.on('error', reject)
    child.on('close', async (code) => {
      clearTimeout(killer)
      await acted
      resolve({ code, stdout, stderr, ms: Date.now() - started, json: () => JSON.parse(stdout) })
    })
  })
}

const afterFirstSync = (stderr: string) => stderr.slice(stderr.indexOf('] sync: '))
const lines = (text: string, re: RegExp) => text.split('\n').filter((l) => re.test(l))

// one at a time: these tests time a relay's answers (NIP-77's 1 s probe, a live wake-up), and
// a second test beside them on the in-process relays made them miss (seen in CI under load)
describe('live-wait', () => {
  describe('poll --wait opens what woke it', () => {
    it('prints a message sent while it waits, without syncing again', async () => {
      const a = agent([relay.url])
      expect((await a.run(['status'])).code).toBe(0)
      const me = (await a.run(['whoami', '--json'])).json().pubkey
      const r = await waitingPoll({ P2P_HOME: a.home, P2P_RELAYS: relay.url }, ['--wait', '20'], () =>
        sendDms(relay.url, me, 1, undefined, () => 'while you waited'),
      )
      expect(r.code, r.stderr).toBe(0)
      expect(r.json().events.map((e: { text?: string }) => e.text)).toEqual(['while you waited'])
      expect(lines(r.stderr, /\] sync: /)).toHaveLength(1)
      expect(lines(r.stderr, /\] live: .*1 gift wraps .*1 new call events/)).toHaveLength(1)
      // the live feed's REQ went out before the first sync; after it, none: no presence, lists or wraps read again
      expect(afterFirstSync(r.stderr)).not.toContain('> ["REQ"')
      expect(r.ms).toBeLessThan(15_000) // sanity only
    }, 40_000)

    it('misses nothing of a burst: what the wait did not print, the next poll does, each once', async () => {
      const a = agent([relay.url])
      expect((await a.run(['status'])).code).toBe(0)
      const me = (await a.run(['whoami', '--json'])).json().pubkey
      const r = await waitingPoll({ P2P_HOME: a.home, P2P_RELAYS: relay.url }, ['--wait', '20'], () =>
        sendDms(relay.url, me, 12, [generateSecretKey(), generateSecretKey()], (i) => `burst ${i}`),
      )
      expect(r.code, r.stderr).toBe(0)
      expect(afterFirstSync(r.stderr)).not.toContain('> ["REQ"')
      const first = r.json().events.map((e: { text: string }) => e.text)
      expect(first.length).toBeGreaterThan(0)
      const rest = (await a.run(['poll', '--json'])).json().events.map((e: { text: string }) => e.text)
      expect([...first, ...rest].sort()).toEqual(Array.from({ length: 12 }, (_, i) => `burst ${i}`).sort())
    }, 40_000)

    it('takes what follows within the settle window along (issue 15, point 3); --settle 0 returns at once', async () => {
      for (const [settle, expected] of [
        [undefined, ['the file is sent', 'anything else?']],
        ['0', ['the file is sent']],
      ] as const) {
        const a = agent([relay.url])
        expect((await a.run(['status'])).code).toBe(0)
        const me = (await a.run(['whoami', '--json'])).json().pubkey
        const r = await waitingPoll(
          { P2P_HOME: a.home, P2P_RELAYS: relay.url },
          ['--wait', '20', ...(settle ? ['--settle', settle] : [])],
          async () => {
            await sendDms(relay.url, me, 1, undefined, () => 'the file is sent')
            await new Promise((resolve) => setTimeout(resolve, 1_000))
            await sendDms(relay.url, me, 1, undefined, () => 'anything else?')
          },
        )
        expect(r.code, r.stderr).toBe(0)
        expect(r.json().events.map((e: { text: string }) => e.text)).toEqual(expected)
      }
    }, 60_000)

    it('a wait that ends with nothing says so on stderr, and what to do (issue 15, point 12)', async () => {
      const a = agent([relay.url])
      const r = await a.run(['poll', '--wait', '1'])
      expect(r.code).toBe(0)
      expect(r.stdout).toBe('')
      expect(r.stderr).toMatch(/nothing new within 1 s; wait again \(`node p2p.js poll --wait 1`\) rather than sending again/)
    })

    it('a 2 MB file (140 chunks) arriving during the wait is read live: a burst never trips the flood rule', async () => {
      const alice = agent([relay.url])
      const bob = agent([relay.url])
      await connected(alice, bob)
      const data = randomBytes(2 * 1024 * 1024)
      expect(Math.ceil(data.length / CHUNK_BYTES)).toBe(140)
      const r = await waitingPoll({ P2P_HOME: bob.home, P2P_RELAYS: relay.url }, ['--wait', '25'], async () => {
        const sent = await alice.run(['sendfile', 'big.bin', '-', '--timeout', '20000'], { stdin: data.toString('base64') })
        expect(sent.code, sent.stderr).toBe(0)
      })
      expect(r.code, r.stderr).toBe(0)
      // the code before dropped the relay at its 101st live event, and waited out the 25 s blind
      expect(r.stderr).not.toMatch(/flood/)
      expect(afterFirstSync(r.stderr)).not.toContain('> ["REQ"')
      expect(r.json().events.map((e: { type: string; file?: { size: number } }) => [e.type, e.file?.size])).toEqual([['file', data.length]])
    }, 60_000)

    it('a live feed ended as a flood (junk gift wraps past its budget) is read by syncs: the message behind it comes', async () => {
      const a = agent([relay.url])
      const me = (await whoami(a)).pubkey
      expect((await a.run(['status'])).code).toBe(0)
      const stranger = generateSecretKey()
      const junk = Array.from({ length: 120 }, (_, i) =>
        finalizeEvent({ kind: 1059, created_at: Math.floor(Date.now() / 1000), tags: [['p', me]], content: `junk ${i}` }, stranger),
      )
      const r = await waitingPoll(
        { P2P_HOME: a.home, P2P_RELAYS: relay.url, P2P_TEST_MAX_LIVE_EVENTS: '20' },
        ['--wait', '20', '--settle', '0'],
        async () => {
          await publishAll(relay.url, junk)
          await sendDms(relay.url, me, 1, undefined, () => 'behind the flood')
        },
      )
      expect(r.code, r.stderr).toBe(0)
      // the code before dropped the connection at 101 live events, synced on the dead socket, and printed nothing
      expect(r.json().events.map((e: { text?: string }) => e.text)).toEqual(['behind the flood'])
      expect(lines(r.stderr, /! flood: more than 20 events for one REQ; ending the live subscription/)).toHaveLength(1)
      expect(lines(r.stderr, /\] sync: /).length).toBeGreaterThan(1)
    }, 40_000)

    it('drops a live event with a bad signature once, and does not spin on it', async () => {
      const a = agent([])
      const me = (await a.run(['whoami', '--json'])).json().pubkey
      const good = datedDm(generateSecretKey(), me, 'forged', Math.floor(Date.now() / 1000))
      const forged = { ...good, sig: datedDm(generateSecretKey(), me, 'other', good.created_at).sig }
      let reqs = 0
      // answers every REQ at once; a live one (limit 0) then gets the forged wrap
      const liar = await startFaultyRelay((sub, ws, filters) => {
        reqs++
        ws.send(JSON.stringify(['EOSE', sub]))
        if (filters.some((f) => f.limit === 0)) setTimeout(() => ws.send(JSON.stringify(['EVENT', sub, forged])), 300)
      })
      try {
        const r = await waitingPoll({ P2P_HOME: a.home, P2P_RELAYS: liar.url }, ['--wait', '3'], async () => {})
        expect(r.code, r.stderr).toBe(0)
        expect(r.json().events).toEqual([])
        // one sync, then the forged wrap handled once (the code before synced again and again: 206 syncs in 3 s)
        expect(lines(r.stderr, /\] (sync|live): /).length).toBeLessThanOrEqual(2)
        expect(reqs).toBeLessThan(10)
        expect(lines(r.stderr, /dropped live event .*bad signature/)).toHaveLength(1)
      } finally {
        await liar.stop()
      }
    }, 30_000)
  })
})
