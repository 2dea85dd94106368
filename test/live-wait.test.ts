// `poll --wait` opens what woke it (issue 13, point 3): the gift wraps its live feed delivers
// are opened and applied by the sync's own path, with no second sync (no REQ after the first),
// and nothing is missed or spun on (issue 12, point 10).
import { spawn } from 'node:child_process'
import { generateSecretKey } from 'nostr-tools/pure'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { agent, CLI, type RunResult } from './helpers/cli.ts'
import { startFaultyRelay } from './helpers/faulty-relay.ts'
import { startRelay, type TestRelay } from './helpers/relay.ts'
import { datedDm, sendDms } from './helpers/stranger.ts'

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
