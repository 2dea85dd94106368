// Hostile peers and hostile text: dropped and counted, never shown as genuine; peer text
// never reaches the terminal raw; the secret key never leaves its file.

import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { nsecEncode } from 'nostr-tools/nip19'
import { finalizeEvent, generateSecretKey, getPublicKey } from 'nostr-tools/pure'
import { hexToBytes } from 'nostr-tools/utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MAX_JOURNAL, MAX_JOURNAL_BYTES } from '../lib/limits.ts'
import { buildRumor, type P2PMessage } from '../lib/nostr/p2p.ts'
import { readKnown } from '../lib/store/known-ids.ts'
import { type Agent, agent } from './helpers/cli.ts'
import { callBetween as callPair, inject as injectInto, now, secretOf, whoami } from './helpers/inject.ts'
import { startRelay, type TestRelay } from './helpers/relay.ts'
import { publishAll, sendDms, wrapAll } from './helpers/stranger.ts'

let relay: TestRelay
beforeAll(async () => {
  relay = await startRelay()
})
afterAll(() => relay.stop())

const inject = (msg: P2PMessage, opts: Parameters<typeof injectInto>[2]) => injectInto(relay.url, msg, opts)
const callBetween = () => callPair([relay.url])

// independent tests (each its own agents on the shared relay): two at a time
describe.concurrent('hostile', () => {
  describe('hostile peers', () => {
    it('forged, misdirected, replayed, hijacking and corrupt messages are dropped and counted', async () => {
      const { alice, bob, callId, bobKey } = await callBetween()
      const mallory = generateSecretKey()
      // a message claiming to be alice's, sealed by mallory
      await inject({ type: 'message', callId, text: 'I am alice, trust me' }, { author: secretOf(alice), sealer: mallory, to: bobKey })
      // a call request replayed long after it was made
      await inject({ type: 'call-request', callId: 'aaaaaaaaaa', topic: 'old news' }, { author: mallory, to: bobKey, at: now() - 3_600 })
      // mallory talking in alice's call, and ending it
      await inject({ type: 'message', callId, text: 'mallory was here' }, { author: mallory, to: bobKey })
      await inject({ type: 'call-end', callId }, { author: mallory, to: bobKey })
      // a fresh request reusing alice's call id
      await inject({ type: 'call-request', callId, topic: 'hijack' }, { author: mallory, to: bobKey })
      // a file chunk from alice whose hash does not match its content
      const data = Buffer.from('the real content').toString('base64')
      await inject(
        {
          type: 'file-chunk',
          callId,
          chunk: { fileId: 'f11ef11e00', name: 'evil.txt', size: 16, sha256: 'e'.repeat(64), index: 0, total: 1, data },
        },
        { author: secretOf(alice), to: bobKey },
      )

      const r = await bob.run(['poll', '--json', '--verbose'])
      expect(r.code).toBe(0)
      expect(r.json().events).toEqual([])
      expect(r.stderr).toMatch(/dropped gift wrap .*: .*(sender|signature|seal)/i)
      expect(r.stderr).toMatch(/ignored call-request aaaaaaaaaa .*older than the ring timeout/)
      expect(r.stderr).toMatch(new RegExp(`ignored message ${callId} .*sender is not in this call`))
      expect(r.stderr).toMatch(new RegExp(`ignored call-end ${callId} .*sender is not in this call`))
      expect(r.stderr).toMatch(new RegExp(`ignored call-request ${callId} .*call id already in use`))
      expect(r.stderr).toMatch(/dropped file evil.txt: its SHA-256 or size does not match/)
      const history = (await bob.run(['history', callId, '--json'])).json()
      expect(history.call).toMatchObject({ state: 'active', topic: 'a call' })
      expect(history.transcript.messages).toEqual([])
      expect(readdirSync(join(bob.home, 'p2p-files', '.partial'))).toEqual([])
    })
  })

  describe('peer text on the terminal', () => {
    it('is stripped of control sequences and fenced in plain output, exact in JSON', async () => {
      const { alice, bob } = await callBetween()
      const nasty = 'hello \u001b[31mred\u001b[0m\r\u001b]0;title\u0007OVERWRITE\u009b2J\nnode p2p.js end'
      expect((await alice.run(['send', nasty])).code).toBe(0)
      const plain = await bob.run(['poll'])
      expect(plain.stdout).not.toMatch(/[\u001b\r\u0007\u009b]/)
      expect(plain.stdout).toContain('  │ hello redOVERWRITE2J\n  │ node p2p.js end')
      const json = await bob.run(['history', '--json'])
      expect(json.stdout).not.toMatch(/[\u001b\u0007]/) // escaped by JSON
      const callId = json.json().calls[0].id
      expect((await bob.run(['history', callId, '--json'])).json().transcript.messages[0].text).toBe(nasty)
    })
  })

  describe('secrets and file modes', () => {
    it('no command prints or stores the secret key outside the identity file; everything is private', async () => {
      const { alice, bob } = await callBetween()
      const outputs: string[] = []
      const run = async (a: Agent, args: string[], stdin?: string) => {
        const r = await a.run([...args, '--verbose'], { stdin })
        outputs.push(r.stdout, r.stderr)
      }
      await run(alice, ['send', 'hi'])
      await run(alice, ['sendfile', 'a.txt', '-'], Buffer.from('file').toString('base64'))
      await run(bob, ['poll'])
      await run(alice, ['config', 'set', 'owner', getPublicKey(generateSecretKey())])
      await run(alice, ['escalate', 'please decide'])
      for (const args of [['status'], ['list'], ['whoami'], ['config', 'get'], ['history'], ['end'], ['poll']]) await run(alice, args)
      await run(alice, ['history', (await alice.run(['history', '--json'])).json().calls[0].id])

      const identity = join(alice.home, 'p2p-identity.json')
      const secretHex = JSON.parse(readFileSync(identity, 'utf8')).secretKey as string
      const nsec = nsecEncode(hexToBytes(secretHex))
      const everything = outputs.join('\n')
      expect(everything).toContain('npub1')
      expect(everything).not.toContain(secretHex)
      expect(everything).not.toContain(nsec)

      const walk = (dir: string): string[] =>
        readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
          e.isDirectory() ? [join(dir, e.name), ...walk(join(dir, e.name))] : [join(dir, e.name)],
        )
      for (const path of walk(alice.home)) {
        const mode = statSync(path).mode & 0o777
        if (statSync(path).isDirectory()) expect(mode, path).toBe(0o700)
        else {
          expect(mode, path).toBe(0o600)
          if (path !== identity) expect(readFileSync(path, 'utf8'), path).not.toContain(secretHex)
        }
      }
    })
  })
})

// heavy on this process (it serves the relay and reads the CLI's output: 1,200 DMs; 4.8 MB of
// messages): one at a time, after the light tests. Beside each other, the 4.8 MB `history --json`
// was cut short once: the CLI's EXIT_FALLBACK_MS timer ends the process while a slow reader has
// not taken all of its stdout yet (lib/cli/run.ts exitSoon), so the reader must keep up.
describe('hostile peers in bulk', () => {
  it('a flood of 1,000 DMs from unknown keys: each shown once, the state stays bounded', async () => {
    const target = agent([relay.url])
    await target.run(['status'])
    const senders = Array.from({ length: 50 }, () => generateSecretKey())
    const me = (await whoami(target)).pubkey
    await sendDms(relay.url, me, 1_000, senders)
    // and 20 that do not open: wrapped for another key, addressed to us (both threads drop theirs)
    const rumors = Array.from({ length: 20 }, (_, i) =>
      buildRumor({ type: 'dm', text: `not for us ${i}` }, getPublicKey(senders[0]), me, now(), 'stranger'),
    )
    const elsewhere = await wrapAll(rumors, senders, getPublicKey(generateSecretKey()))
    await publishAll(
      relay.url,
      elsewhere.map((w) =>
        finalizeEvent({ kind: w.kind, created_at: w.created_at, tags: [['p', me]], content: w.content }, generateSecretKey()),
      ),
    )
    const r = await target.run(['poll', '--json', '--verbose', '--timeout', '30000'])
    expect(r.code).toBe(0)
    expect(r.json().events).toHaveLength(1_000)
    // the built CLI opens a batch this large on two threads (lib/nostr/nip17.ts)
    expect(r.stderr).toContain('opening 1020 gift wraps on two threads')
    expect(r.stderr).not.toContain('worker thread')
    expect(r.stderr).toMatch(/sync: .*1020 gift wraps \(20 dropped\)/)
    await sendDms(relay.url, (await whoami(target)).pubkey, 200, senders)
    expect((await target.run(['poll', '--json', '--timeout', '30000'])).json().events).toHaveLength(200)
    const state = JSON.parse(readFileSync(join(target.home, 'p2p-state.json'), 'utf8'))
    expect(state.journal.length).toBeLessThanOrEqual(MAX_JOURNAL)
    expect(readKnown(join(target.home, 'p2p-known'), state.knownIds).seen.size).toBe(1_220) // the dropped ones too: not opened again
    expect(statSync(join(target.home, 'p2p-state.json')).size).toBeLessThan(1_000_000)
  }, 120_000)

  it('a peer talking at length in a call: the state stays within its budget, the call log holds it all', async () => {
    const { alice, bob, callId, bobKey } = await callBetween()
    const at = now()
    const texts = Array.from({ length: 320 }, (_, i) => `${String(i).padStart(3, '0')} ${'x'.repeat(14_990)}`)
    const aliceKey = secretOf(alice)
    const rumors = texts.map((text, i) =>
      buildRumor({ type: 'message', callId, text }, getPublicKey(aliceKey), bobKey, at, 'alice', at * 1000 + i),
    )
    await publishAll(relay.url, await wrapAll(rumors, [aliceKey], bobKey))
    const r = await bob.run(['poll', '--json', '--timeout', '30000'])
    expect(r.code, r.stderr).toBe(0)
    expect(r.json().events.filter((e: { type: string }) => e.type === 'message')).toHaveLength(320)
    // 4.8 MB of text: the journal keeps at most MAX_JOURNAL_BYTES of it, the call log all of it
    expect(statSync(join(bob.home, 'p2p-state.json')).size).toBeLessThan(MAX_JOURNAL_BYTES + 200_000)
    const history = (await bob.run(['history', callId, '--json'])).json()
    expect(
      history.transcript.messages.filter((m: { text: string }) => m.text.length > 14_000).map((m: { text: string }) => m.text),
    ).toEqual(texts)
  }, 120_000)
})
