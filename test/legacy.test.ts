// Calls with agents of the original openclaw-p2p skill (issue 16, part 4), end to end: the built
// CLI as child processes, a real relay, and a stand-in for an original-skill agent written from
// its wire format (helpers/legacy-agent.ts: NIP-04 kind 4 DMs, JSON with a roomId). Both
// directions, files and escalation, the live wake-up, and what stays shut while legacy is off;
// files as large as strfry's 64 KiB events allow, and a retry that resends the same event.

import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import type { Event } from 'nostr-tools/pure'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { named, pollEvents, whoami } from './helpers/agents.ts'
import type { Agent } from './helpers/cli.ts'
import { forwardAll, holdKind, killWhilePublishing, startGate } from './helpers/gate-relay.ts'
import { LegacyAgent } from './helpers/legacy-agent.ts'
import { type PolicyRelay, startPolicyRelay } from './helpers/policy-relay.ts'
import { freePort, startRelay, type TestRelay } from './helpers/relay.ts'

let relay: TestRelay
beforeAll(async () => {
  relay = await startRelay()
})
afterAll(async () => {
  await relay.stop()
})

async function ok(a: Agent, args: string[], stdin?: string) {
  const r = await a.run([...args, '--json'], { stdin })
  expect(r.code, `${args.join(' ')}: ${r.stdout}${r.stderr}`).toBe(0)
  return r.json()
}

/** RFC 4122 version 4: the version nibble 4, the variant bits 10 (8, 9, a or b). */
const V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/
/** An event's size as strfry measures it (maxEventSize): its JSON with the keys in order. */
const wireBytes = ({ content, created_at, id, kind, pubkey, sig, tags }: Event) =>
  Buffer.byteLength(JSON.stringify({ content, created_at, id, kind, pubkey, sig, tags }))

/** An agent of ours on `relays`, legacy on, with a call request from a new agent of the original
 *  skill (on `theirRelay`) waiting. */
async function calledByLegacy(name: string, relays: string[], theirRelay: string, topic: string) {
  const us = await named(name, relays)
  await ok(us, ['config', 'set', 'legacy', 'on'])
  const key = (await whoami(us)).pubkey
  const helper = new LegacyAgent(theirRelay, `legacy-${name}`, `Legacy ${name}`)
  const roomId = await helper.call(key, topic)
  const [request, ...more] = await pollEvents(us)
  expect(more).toEqual([])
  expect(request).toMatchObject({ type: 'call-request', callId: roomOf({ roomId }), topic })
  return { us, key, helper, roomId }
}

/** A relay as strfry serves DMs: AUTH works, and kind 4 goes only to its sender and recipient. */
async function withStrfry(use: (relay: PolicyRelay) => Promise<void>): Promise<void> {
  const port = await freePort()
  const strfry = await startPolicyRelay({ mode: 'strfry', port, serviceUrl: `ws://127.0.0.1:${port}` })
  try {
    await use(strfry)
  } finally {
    await strfry.stop()
  }
}

const uuid = (callId: string) =>
  `${callId.slice(0, 8)}-${callId.slice(8, 12)}-${callId.slice(12, 16)}-${callId.slice(16, 20)}-${callId.slice(20)}`
const roomOf = (payload: { roomId: string }) => payload.roomId.replaceAll('-', '').toLowerCase()

describe('legacy: NIP-04 calls with agents of the original skill', () => {
  it('we call it: refused while legacy is off, then a whole call with messages, files, an escalation and the end', async () => {
    const alice = await named('alice', [relay.url])
    const aliceKey = (await whoami(alice)).pubkey
    const helper = new LegacyAgent(relay.url, 'legacy-fx', 'Legacy FX')
    await helper.announce(['fx-rates'])

    const listed = (await ok(alice, ['list'])).agents.find((a: { pubkey: string }) => a.pubkey === helper.pubkey)
    expect(listed).toMatchObject({ name: 'Legacy FX', nip17: false })
    expect((await alice.run(['list'])).stdout).toMatch(/Legacy FX \(NIP-04\)[\s\S]*need `node p2p.js config set legacy on`/)
    const refused = await alice.run(['call', 'Legacy FX', 'EUR/USD', '--json'])
    expect(refused.code).toBe(3)
    expect(refused.json().error.code).toBe('peer-speaks-nip04')
    expect(refused.json().error.hint).toMatch(/config set legacy on/)
    expect(await helper.inbox()).toEqual([]) // nothing went out

    await ok(alice, ['config', 'set', 'legacy', 'on'])
    const { call } = await ok(alice, ['call', 'Legacy FX', 'EUR/USD rates'])
    expect(call.legacy).toBe(true)
    expect(call.id).toMatch(/^[0-9a-f]{32}$/)
    const request = await helper.next('call_request')
    expect(request.from).toBe(aliceKey)
    expect(request.payload).toMatchObject({
      roomId: uuid(call.id),
      agentId: 'alice',
      agentName: 'alice',
      topic: 'EUR/USD rates',
      origin: 'alice',
    })
    expect(request.payload.roomId).toMatch(V4)

    await helper.send(aliceKey, { type: 'call_accepted', roomId: request.payload.roomId, agentId: 'legacy-fx', agentName: 'Legacy FX' })
    expect((await pollEvents(alice)).map((e) => [e.type, e.callId])).toEqual([['call-accepted', call.id]])

    await ok(alice, ['send', 'what is your EUR/USD rate?'])
    expect((await helper.next('room_message')).payload).toMatchObject({
      roomId: request.payload.roomId,
      sender: 'alice',
      content: 'what is your EUR/USD rate?',
    })

    const csv = Buffer.from('pair,rate\nEURUSD,1.08\n')
    await helper.send(aliceKey, {
      type: 'room_message',
      roomId: request.payload.roomId,
      sender: 'Legacy FX',
      content: '1.08, file attached',
    })
    await helper.send(aliceKey, {
      type: 'room_file',
      roomId: request.payload.roomId,
      sender: 'Legacy FX',
      filename: 'rates.csv',
      content: csv.toString('base64'),
      mimeType: 'text/csv',
    })
    await helper.send(aliceKey, {
      type: 'escalate',
      roomId: request.payload.roomId,
      fromAgent: 'legacy-fx',
      message: 'a discount needs my owner',
    })
    const events = await pollEvents(alice)
    expect(events.map((e) => e.type).sort()).toEqual(['escalation', 'file', 'message'])
    expect(events.find((e) => e.type === 'message')).toMatchObject({ callId: call.id, text: '1.08, file attached' })
    expect(events.find((e) => e.type === 'escalation')).toMatchObject({ callId: call.id, reason: 'a discount needs my owner' })
    const file = events.find((e) => e.type === 'file')?.file
    expect(file).toMatchObject({ name: 'rates.csv', size: csv.length })
    expect(readFileSync(file.path)).toEqual(csv)

    const sample = randomBytes(2_000)
    await ok(alice, ['sendfile', 'sample.bin', sample.toString('base64')])
    const sent = (await helper.next('room_file')).payload
    expect(sent).toMatchObject({ roomId: request.payload.roomId, filename: 'sample.bin' })
    expect(Buffer.from(sent.content as string, 'base64')).toEqual(sample)

    const ended = await ok(alice, ['end'])
    expect((await helper.next('end_call')).payload.roomId).toBe(request.payload.roomId)
    const texts = ended.transcript.messages.map((m: { text: string }) => m.text)
    expect(texts).toEqual(expect.arrayContaining(['what is your EUR/USD rate?', '1.08, file attached', 'rates.csv', 'sample.bin']))
    const history = await alice.run(['history', call.id])
    expect(history.stdout).toMatch(/NIP-04/)
    expect(history.stdout).toMatch(/a discount needs my owner/)
  })

  it('it calls us: the request, the answer, a message each way (one woken live), and its end', async () => {
    const bob = await named('bob', [relay.url])
    const bobKey = (await whoami(bob)).pubkey
    const helper = new LegacyAgent(relay.url, 'legacy-reader', 'Legacy Reader')
    await helper.announce()

    // while legacy is off its DMs are not even asked for; once on, a request still ringing is seen
    const roomId = await helper.call(bobKey, 'summarise a paper')
    expect(await pollEvents(bob)).toEqual([])
    await ok(bob, ['config', 'set', 'legacy', 'on'])
    const [request] = (await pollEvents(bob)).filter((e) => e.type === 'call-request')
    expect(request).toMatchObject({ callId: roomOf({ roomId }), topic: 'summarise a paper', name: 'Legacy Reader' })

    const answered = await ok(bob, ['answer', 'accept'])
    expect(answered.call).toMatchObject({ id: request.callId, state: 'active', legacy: true })
    expect((await helper.next('call_accepted')).payload).toMatchObject({ roomId, agentName: 'bob' })

    // a waiting poll wakes on a NIP-04 DM as it does on a gift wrap
    const waiting = bob.run(['poll', '--wait', '20', '--json'])
    await new Promise((resolve) => setTimeout(resolve, 2_500))
    await helper.send(bobKey, { type: 'room_message', roomId, sender: 'Legacy Reader', content: 'here is the abstract' })
    const woke = await waiting
    expect(woke.code, woke.stderr).toBe(0)
    expect(woke.json().events).toEqual([expect.objectContaining({ type: 'message', callId: request.callId, text: 'here is the abstract' })])

    await ok(bob, ['send', 'thanks, that is enough'])
    expect((await helper.next('room_message')).payload).toMatchObject({ roomId, content: 'thanks, that is enough' })

    // someone else cannot speak in the call by naming its roomId
    const stranger = new LegacyAgent(relay.url, 'stranger', 'Stranger')
    await stranger.send(bobKey, { type: 'room_message', roomId, sender: 'Legacy Reader', content: 'forged' })
    await helper.send(bobKey, { type: 'end_call', roomId, reason: 'ended_by_peer' })
    const last = await pollEvents(bob)
    expect(last.map((e) => e.type)).toEqual(['call-ended'])
    const { transcript } = await ok(bob, ['history', request.callId])
    expect(transcript.messages.map((m: { text: string }) => m.text)).toEqual(['here is the abstract', 'thanks, that is enough'])
  })

  it('behind AUTH as strfry serves DMs (only to their recipient): its request is read and our refusal reaches it', () =>
    withStrfry(async (strfry) => {
      const { us: carol, helper, roomId } = await calledByLegacy('carol', [strfry.url], strfry.url, 'a quick question')
      expect(strfry.stats.authsAccepted).toBeGreaterThan(0)
      await ok(carol, ['answer', 'reject', 'busy today'])
      expect((await helper.next('call_rejected')).payload).toMatchObject({ roomId, reason: 'busy today', agentName: 'carol' })
    }))

  it('sizes as strfry caps events (64 KiB): a file as large as one DM carries, both ways, and no larger', () =>
    withStrfry(async (strfry) => {
      const { us: dave, key: daveKey, helper, roomId } = await calledByLegacy('dave', [strfry.url], strfry.url, 'big files')
      await ok(dave, ['answer', 'accept'])
      await helper.next('call_accepted')

      // theirs: 36,000 bytes fill a 64 KiB event, and strfry takes it
      const theirs = randomBytes(36_000)
      const event = await helper.sendFile(daveKey, roomId, 'theirs.bin', theirs)
      expect(wireBytes(event)).toBeLessThanOrEqual(65_536)
      const [got] = await pollEvents(dave)
      expect(got).toMatchObject({ type: 'file', file: { name: 'theirs.bin', size: theirs.length } })
      expect(readFileSync(got.file.path)).toEqual(theirs)

      // ours: the largest we send, in one event strfry takes; one byte more is refused here
      const ours = randomBytes(36_054)
      await ok(dave, ['sendfile', 'ours.bin', ours.toString('base64')])
      const sent = await helper.next('room_file')
      expect(Buffer.from(sent.payload.content as string, 'base64')).toEqual(ours)
      expect(wireBytes(sent.event)).toBeLessThanOrEqual(65_536)
      const big = await dave.run(['sendfile', 'big.bin', randomBytes(36_055).toString('base64'), '--json'])
      expect(big.code).toBe(2)
      expect(big.json().error).toMatchObject({ code: 'file-too-large-for-legacy', message: expect.stringMatching(/36,054 bytes/) })
    }))

  it('a retried DM is the same signed event, not encrypted again: the peer gets it once', async () => {
    // erin writes through a gate that holds her first DM (no OK: as when the relay took it and
    // the answer was lost); her run is killed there, and the next run sends it again
    const gate = await startGate(relay.url)
    try {
      const { us: erin, helper, roomId } = await calledByLegacy('erin', [gate.url], relay.url, 'retries')
      await ok(erin, ['answer', 'accept'])
      await helper.next('call_accepted')

      gate.policy = holdKind(4)
      await killWhilePublishing(erin.home, [gate.url], ['send', 'said once'], gate, 4)
      gate.policy = forwardAll
      expect((await erin.run(['status'])).code).toBe(0)
      const dms = gate.seen.filter((s) => s.event.kind === 4).map((s) => s.event)
      const [held, retried] = dms.slice(-2)
      expect(dms.length).toBeGreaterThanOrEqual(3) // call_accepted, the held DM, its retry
      expect(retried).toEqual(held)
      const said = (await helper.inbox()).filter((m) => m.payload.type === 'room_message')
      expect(said.map((m) => [m.payload.roomId, m.payload.content])).toEqual([[roomId, 'said once']])
      expect((await erin.run(['outbox', '--json'])).json().outbox).toEqual([])
    } finally {
      await gate.stop()
    }
  })
})
