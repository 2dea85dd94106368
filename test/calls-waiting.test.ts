// The call flow end to end, continued from calls.test.ts (split so the two workers share it):
// the outbox through a relay outage, reading past a relay's cap, poll --exec and --wait, bad
// input. The tests are independent (their own agents), and run two at a time.
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connected, named, pollEvents, whoami } from './helpers/agents.ts'
import { type Agent, hookScript } from './helpers/cli.ts'
import { startRelay, type TestRelay } from './helpers/relay.ts'
import { sendDms } from './helpers/stranger.ts'

let r1: TestRelay
let r2: TestRelay
beforeAll(async () => {
  ;[r1, r2] = await Promise.all([startRelay(), startRelay()])
})
afterAll(async () => {
  await Promise.all([r1.stop(), r2.stop()])
})

const npubOf = async (a: Agent) => (await whoami(a)).npub
const poll = pollEvents

describe.concurrent('calls, continued', () => {
  describe('nothing sent is lost', () => {
    it('a message sent while the peer’s only inbox relay is down is queued, and arrives once after it is back', async () => {
      const relay = await startRelay()
      try {
        const alice = await named('alice6', [r1.url, relay.url])
        const bob = await named('bob6', [relay.url])
        const callId = await connected(alice, bob)
        await relay.stop()
        const sent = await alice.run(['send', 'are you still there?', '--json'])
        expect(sent.code).toBe(4)
        expect(sent.json()).toMatchObject({ callId, queued: true })
        expect(sent.json().relays).toEqual([expect.objectContaining({ url: relay.url, ok: false })])
        const plain = await alice.run(['status', '--json'])
        expect(plain.json().outbox).toHaveLength(1)

        await relay.start()
        expect((await alice.run(['status', '--json'])).json().outbox).toEqual([]) // delivered on the next run
        expect(await poll(bob)).toEqual([expect.objectContaining({ type: 'message', callId, text: 'are you still there?' })])
        expect((await alice.run(['status'])).code).toBe(0)
        expect(await poll(bob)).toEqual([])
      } finally {
        await relay.stop()
      }
    })
  })

  describe('poll for cron and waiting agents', () => {
    it('--exec runs a hook per event with its JSON; a failing hook is reported and loses nothing', async () => {
      const alice = await named('alice7', [r1.url])
      const bob = await named('bob7', [r1.url])
      await connected(alice, bob)
      for (const text of ['first', 'second']) expect((await alice.run(['send', text])).code).toBe(0)
      const out = join(bob.home, 'hook.log')
      const hooked = await bob.run(['poll', '--exec', hookScript(bob.home, 'log.sh', `cat >> ${out}; echo "|$P2P_EVENT_TYPE" >> ${out}`)])
      expect(hooked.code).toBe(0)
      const log = readFileSync(out, 'utf8')
      expect(log.match(/\|message/g)).toHaveLength(2)
      expect(JSON.parse(log.split('|message')[0])).toMatchObject({ type: 'message', text: 'first' })

      expect((await alice.run(['send', 'third'])).code).toBe(0)
      const failing = await bob.run(['poll', '--json', '--exec', hookScript(bob.home, 'fail.sh', 'exit 3')])
      expect(failing.code).toBe(0)
      expect(failing.stderr).toMatch(/hook failed for message event/)
      expect(failing.json().events).toHaveLength(1)
      expect(failing.json().hookFailures).toHaveLength(1)
      const kept = (await bob.run(['history', '--json'])).json().calls[0]
      expect(kept.messages).toBe(3)
    })

    it('--exec runs a program with its arguments and no shell; shell syntax is refused before going online (issue 27, point 8)', async () => {
      const alice = await named('alice9', [r1.url])
      const bob = await named('bob9', [r1.url])
      await connected(alice, bob)
      expect((await alice.run(['send', 'for the hook'])).code).toBe(0)
      // each word as it was given: no expansion, no splitting inside quotes
      const out = join(bob.home, 'argv.json')
      const program = join(bob.home, 'argv.mjs')
      writeFileSync(
        program,
        `import { writeFileSync } from 'node:fs'\nwriteFileSync(${JSON.stringify(out)}, JSON.stringify(process.argv.slice(2)))\n`,
      )
      const hooked = await bob.run(['poll', '--exec', `node ${program} 'two words' "$HOME" plain`])
      expect(hooked.code, hooked.stderr).toBe(0)
      expect(JSON.parse(readFileSync(out, 'utf8'))).toEqual(['two words', '$HOME', 'plain'])
      // a shell line would run nothing of what it says: refused, exit 2, before any relay is asked
      for (const line of ['cat > /tmp/x', 'a | b', 'echo $HOME', 'true; rm -rf x', 'echo `id`', '~/on-event.sh', "unclosed 'quote"]) {
        const r = await bob.run(['poll', '--json', '--verbose', '--exec', line])
        expect(r.code, line).toBe(2)
        expect(r.json().error.code, line).toMatch(/^(exec-shell-syntax|bad-exec)$/)
        expect(r.stderr, line).not.toMatch(/connected in/)
      }
    })

    it('--wait returns as soon as something arrives, and after the wait with nothing', async () => {
      const alice = await named('alice8', [r1.url])
      const bob = await named('bob8', [r1.url])
      await connected(alice, bob)
      const started = Date.now()
      const waiting = bob.run(['poll', '--json', '--wait', '20'])
      await new Promise((resolve) => setTimeout(resolve, 1_000))
      expect((await alice.run(['send', 'ping'])).code).toBe(0)
      const woke = await waiting
      expect(woke.code).toBe(0)
      expect(woke.json().events).toEqual([expect.objectContaining({ type: 'message', text: 'ping' })])
      expect(Date.now() - started).toBeLessThan(10_000)

      const idle = await bob.run(['poll', '--wait', '1'])
      expect(idle.code).toBe(0)
      expect(idle.stdout).toBe('')
      expect(idle.ms).toBeGreaterThanOrEqual(1_000)
    })
  })

  describe('waiting for an answer that never comes', () => {
    it('poll --wait wakes up when the call expires', async () => {
      const alice = await named('alice11', [r1.url])
      const bob = await named('bob11', [r1.url])
      const callId = (await alice.run(['call', await npubOf(bob), 'last chance', '--json'])).json().call.id
      // the call was made 299 s ago: it expires in about a second
      const file = join(alice.home, 'p2p-state.json')
      const state = JSON.parse(readFileSync(file, 'utf8'))
      state.calls[callId].createdAt -= 299
      writeFileSync(file, JSON.stringify(state))
      const r = await alice.run(['poll', '--json', '--wait', '20'])
      expect(r.json().events).toEqual([expect.objectContaining({ type: 'call-rejected', callId, expired: true })])
      expect(r.ms).toBeLessThan(10_000)
    })
  })

  describe('bad input is refused before anything is sent', () => {
    it('sendfile checks name, base64 and size; send checks size; call checks the agent', async () => {
      const alice = await named('alice9', [r1.url])
      const bob = await named('bob9', [r1.url])
      await connected(alice, bob)
      const cases: Array<[string[], string, string?]> = [
        [['sendfile', '../evil.sh', 'aGk='], 'bad-file-name'],
        [['sendfile', 'a/b.txt', 'aGk='], 'bad-file-name'],
        [['sendfile', 'ok.txt', 'not base64!'], 'bad-base64'],
        [['sendfile', 'big.bin', '-'], 'file-too-large', Buffer.alloc(10 * 1024 * 1024 + 1).toString('base64')],
        [['send', 'x'.repeat(16_001)], 'message-too-large'],
        [['send', '   '], 'empty-message'],
        [['call', 'npub1invalid', 'x'], 'bad-npub'],
        [['call', 'nobody-by-that-name', 'x'], 'unknown-agent'],
      ]
      for (const [args, code, stdin] of cases) {
        const r = await alice.run([...args, '--json'], { stdin })
        expect(r.json().error?.code, args.join(' ')).toBe(code)
        expect(r.code).toBe(code === 'unknown-agent' ? 3 : 2)
      }
      expect(await poll(bob)).toEqual([])
    })
  })
})

// heavy on the relay (600 DMs stored and served by this process): alone, after the others
describe('sync completeness', () => {
  it('reads past a relay’s cap on one REQ: 600 waiting DMs all arrive, once', async () => {
    const bob = await named('bob10', [r2.url])
    const pubkey = (await bob.run(['whoami', '--json'])).json().pubkey
    await sendDms(r2.url, pubkey, 600)
    const r = await bob.run(['poll', '--json', '--verbose', '--timeout', '20000'])
    expect(r.code).toBe(0)
    const texts = r.json().events.map((e: { type: string; text: string }) => `${e.type}:${e.text}`)
    expect(new Set(texts).size).toBe(600)
    expect(texts.every((t: string) => t.startsWith('direct-message:note '))).toBe(true)
    expect(r.stderr).toMatch(/"until":\d+/) // a second page was asked for
    expect(await poll(bob)).toEqual([])
  })
})
