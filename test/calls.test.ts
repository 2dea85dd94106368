// The call flow end to end: two (or three) agents, each its own P2P_HOME, the built CLI as
// child processes, real relays. The tests are independent (their own agents, names and calls):
// they run two at a time, as the CLI runs wait on sockets part of the time (calls-waiting.test.ts
// holds the rest of this file, so the two workers share it).

import { createHash, randomBytes } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connected, named, pollEvents, whoami } from './helpers/agents.ts'
import type { Agent } from './helpers/cli.ts'
import { startRelay, type TestRelay } from './helpers/relay.ts'

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

describe.concurrent('calls', () => {
  describe('the whole call flow', () => {
    it('list → call → accept → messages and a file → end → transcripts on both sides', async () => {
      const alice = await named('alice', [r1.url, r2.url])
      const bob = await named('bob', [r2.url, r1.url])

      expect((await alice.run(['list', '--json'])).json().agents.map((a: { name: string }) => a.name)).toContain('bob')
      const call = await alice.run(['call', 'bob', 'plan the launch', '--json'])
      expect(call.code, call.stderr).toBe(0)
      const doc = call.json()
      expect(doc.call).toMatchObject({
        topic: 'plan the launch',
        direction: 'outgoing',
        state: 'ringing',
        peer: { npub: await npubOf(bob), name: 'bob' },
      })
      expect(doc.relays.every((r: { ok: boolean }) => r.ok)).toBe(true)
      const callId = doc.call.id

      // bob sees the request once, although both relays carry it
      const requests = await poll(bob)
      expect(requests).toEqual([
        expect.objectContaining({ type: 'call-request', callId, topic: 'plan the launch', from: await npubOf(alice) }),
      ])
      expect(await poll(bob)).toEqual([])
      const status = (await bob.run(['status', '--json'])).json()
      expect(status.incomingCalls).toEqual([expect.objectContaining({ id: callId, state: 'incoming', direction: 'incoming' })])

      const accepted = await bob.run(['answer', 'accept', '--json'])
      expect(accepted.code).toBe(0)
      expect(accepted.json().call).toMatchObject({ id: callId, state: 'active' })
      expect(await poll(alice)).toEqual([expect.objectContaining({ type: 'call-accepted', callId })])

      const sent = await alice.run(['send', 'hello bob, line one\nline two', '--json'])
      expect(sent.code).toBe(0)
      expect(sent.json()).toMatchObject({ callId, relays: expect.arrayContaining([{ url: r2.url, ok: true }]) })
      expect(await poll(bob)).toEqual([expect.objectContaining({ type: 'message', callId, text: 'hello bob, line one\nline two' })])

      const file = randomBytes(3 * 1024 * 1024 + 123)
      const sentFile = await bob.run(['sendfile', 'data.bin', '-', '--json'], { stdin: file.toString('base64') })
      expect(sentFile.code, sentFile.stderr).toBe(0)
      expect((await bob.run(['send', 'that was the file'])).code).toBe(0)
      // 3 MB in ~210 gift wraps: one poll reads them all when its deadline allows, and the
      // default 4 s did not once on a loaded machine (the rest came with the next poll, as
      // designed); the deadline is the test's to give
      const polled = await alice.run(['poll', '--json', '--timeout', '30000'])
      expect(polled.code, polled.stderr).toBe(0)
      const got = polled.json().events
      expect(got.map((e: { type: string }) => e.type)).toEqual(['file', 'message'])
      const received = got[0].file
      expect(received).toMatchObject({ name: 'data.bin', size: file.length, sha256: createHash('sha256').update(file).digest('hex') })
      expect(readFileSync(received.path).equals(file)).toBe(true)
      expect(received.path.startsWith(alice.home)).toBe(true)

      const ended = await alice.run(['end', '--json'])
      expect(ended.code).toBe(0)
      const transcript = ended.json().transcript
      expect(ended.json().call).toMatchObject({ id: callId, state: 'ended' })
      expect(transcript.messages.map((m: { text: string }) => m.text)).toEqual([
        'hello bob, line one\nline two',
        'data.bin',
        'that was the file',
      ])
      expect(transcript.messages[1].file).toMatchObject({ name: 'data.bin', size: file.length })
      expect(readFileSync(transcript.path, 'utf8')).toContain(`# Call ${callId}: plan the launch`)

      // bob writes his transcript at his next poll
      expect(await poll(bob)).toEqual([expect.objectContaining({ type: 'call-ended', callId })])
      const bobHistory = (await bob.run(['history', callId, '--json'])).json()
      expect(bobHistory.call.state).toBe('ended')
      expect(bobHistory.transcript.messages.map((m: { text: string }) => m.text)).toEqual([
        'hello bob, line one\nline two',
        'data.bin',
        'that was the file',
      ])
      expect(existsSync(bobHistory.transcript.path)).toBe(true)
      expect(JSON.parse(readFileSync(bobHistory.transcript.path.replace(/\.md$/, '.json'), 'utf8')).participants).toHaveLength(2)
      const list = (await bob.run(['history', '--json'])).json().calls
      expect(list).toEqual([expect.objectContaining({ id: callId, state: 'ended', messages: 3 })])
      const plain = await bob.run(['history', callId])
      expect(plain.stdout).toMatch(/│ hello bob, line one\n {2}│ line two/)
    })
  })

  describe('answers, expiry and busy agents', () => {
    it('a rejection carries its reason to the caller', async () => {
      const alice = await named('alice2', [r1.url])
      const bob = await named('bob2', [r1.url])
      const callId = (await alice.run(['call', await npubOf(bob), 'can we talk?', '--json'])).json().call.id
      const rejected = await bob.run(['answer', 'reject', 'in a meeting until 3pm', '--json'])
      expect(rejected.code).toBe(0)
      expect(rejected.json().call).toMatchObject({ state: 'rejected', reason: 'in a meeting until 3pm' })
      expect(await poll(alice)).toEqual([expect.objectContaining({ type: 'call-rejected', callId, reason: 'in a meeting until 3pm' })])
      const send = await alice.run(['send', 'hello?', '--json'])
      expect(send.code).toBe(3)
      expect(send.json().error.code).toBe('no-active-call')
    })

    it('an unanswered call expires on both sides', async () => {
      const alice = await named('alice3', [r1.url])
      const bob = await named('bob3', [r1.url])
      const callId = (await alice.run(['call', await npubOf(bob), 'anyone?', '--json'])).json().call.id
      expect((await poll(bob)).map((e) => e.type)).toEqual(['call-request'])
      // five minutes pass: both state files are moved back in time
      for (const a of [alice, bob]) {
        const file = join(a.home, 'p2p-state.json')
        const state = JSON.parse(readFileSync(file, 'utf8'))
        state.calls[callId].createdAt -= 301
        writeFileSync(file, JSON.stringify(state))
      }
      expect(await poll(alice)).toEqual([expect.objectContaining({ type: 'call-rejected', callId, expired: true })])
      const late = await bob.run(['answer', 'accept', '--json'])
      expect(late.code).toBe(3)
      expect(late.json().error.code).toBe('no-incoming-call')
      expect((await bob.run(['history', '--json'])).json().calls[0]).toMatchObject({ id: callId, state: 'expired' })
    })

    it('a call to a busy agent is declined automatically, and one call at a time on our side', async () => {
      const alice = await named('alice4', [r1.url])
      const bob = await named('bob4', [r1.url])
      const carol = await named('carol4', [r1.url])
      await connected(alice, bob)
      const again = await alice.run(['call', await npubOf(carol), 'second call', '--json'])
      expect(again.code).toBe(3)
      expect(again.json().error).toMatchObject({ code: 'already-in-call' })
      expect(again.json().error.hint).toMatch(/node p2p.js end/)

      const callId = (await carol.run(['call', await npubOf(bob), 'are you free?', '--json'])).json().call.id
      expect(await poll(bob)).toEqual([]) // declined without bothering bob
      expect(await poll(carol)).toEqual([expect.objectContaining({ type: 'call-rejected', callId, reason: expect.stringMatching(/busy/) })])
    })

    it('the callee can end the call too; the caller keeps a transcript from its next poll', async () => {
      const alice = await named('alice5', [r2.url])
      const bob = await named('bob5', [r2.url])
      const callId = await connected(alice, bob)
      expect((await alice.run(['send', 'one thing'])).code).toBe(0)
      const ended = await bob.run(['end', '--json'])
      expect(ended.code).toBe(0)
      expect(ended.json().transcript.messages.map((m: { text: string }) => m.text)).toEqual(['one thing'])
      expect(await poll(alice)).toEqual([expect.objectContaining({ type: 'call-ended', callId })])
      const transcripts = readdirSync(join(alice.home, 'p2p-transcripts'))
      expect(transcripts.sort()).toEqual([`${callId}.json`, `${callId}.md`])
      expect(readFileSync(join(alice.home, 'p2p-transcripts', `${callId}.md`), 'utf8')).toContain('> one thing')
    })
  })
})
