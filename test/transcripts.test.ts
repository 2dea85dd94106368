// Transcripts (issue 15, points 1, 2, 4 and 5): in causal order on both sides, whatever the
// clocks say; ending a call: `end` prints the whole transcript, so what it showed
// is not new any more; `end` after the peer hung up says so, and where the transcript is; both
// transcripts say who accepted the call and who ended it.

import { readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { npubEncode } from 'nostr-tools/nip19'
import { generateSecretKey, getPublicKey } from 'nostr-tools/pure'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { callBetween, inject, now, secretOf, whoami } from './helpers/inject.ts'
import { startRelay, type TestRelay } from './helpers/relay.ts'
import { sendDms } from './helpers/stranger.ts'

let relay: TestRelay
beforeAll(async () => {
  relay = await startRelay()
})
afterAll(() => relay.stop())

describe('transcript order', () => {
  it('follows what each side saw, and both sides agree on what each of them said', async () => {
    const { alice, bob, callId } = await callBetween([relay.url])
    const owner = generateSecretKey()
    expect((await alice.run(['config', 'set', 'owner', npubEncode(getPublicKey(owner))])).code).toBe(0)
    const alicePub = (await whoami(alice)).pubkey
    // bob's clock runs 3 s ahead: his message is dated after what alice does once she has read it
    await inject(
      relay.url,
      { type: 'message', callId, text: 'the rates are attached' },
      { author: secretOf(bob), to: alicePub, at: now() + 3 },
    )
    expect((await alice.run(['poll'])).code).toBe(0)
    expect((await alice.run(['escalate', 'bob asks 2% for the rates: ok?'])).code).toBe(0)
    // the owner's phone sends no milliseconds
    await sendDms(relay.url, alicePub, 1, [owner], () => 'yes, take it')
    expect((await alice.run(['send', 'deal'])).code).toBe(0)
    expect((await alice.run(['poll'])).code).toBe(0)
    expect((await bob.run(['poll'])).code).toBe(0)

    const texts = async (a: typeof alice) => {
      const messages = (await a.run(['history', callId, '--json'])).json().transcript.messages as Array<{ from: string; text: string }>
      return messages.map((m) => ({ from: m.from, text: m.text }))
    }
    const seenByAlice = await texts(alice)
    const order = seenByAlice.map((m) => m.text)
    expect(order[0]).toBe('the rates are attached')
    expect(order[1]).toMatch(/2% for the rates/)
    expect(order.slice(2)).toEqual(['yes, take it', 'deal'])
    // bob has alice's escalation and message in the order she sent them
    const seenByBob = await texts(bob)
    const aliceNpub = npubEncode(alicePub)
    const said = (ms: typeof seenByAlice, who: string) => ms.filter((m) => m.from === who).map((m) => m.text)
    expect(said(seenByBob, aliceNpub)).toEqual(said(seenByAlice, aliceNpub))
  })
})

describe('end', () => {
  it('marks what its transcript showed: status does not count it, the next poll does not print it', async () => {
    const { alice, bob } = await callBetween([relay.url])
    expect((await alice.run(['send', 'the last word'])).code).toBe(0)
    const ended = await bob.run(['end', '--json'])
    expect(ended.code, ended.stderr).toBe(0)
    expect(ended.json().transcript.messages.map((m: { text: string }) => m.text)).toContain('the last word')
    expect((await bob.run(['status', '--json'])).json().new.events).toEqual([])
    expect((await bob.run(['poll', '--json'])).json().events).toEqual([])
  })

  it('leaves no text of a finished call in the state: a call of 40 messages of 15 KB, once ended, leaves it under 100 KB (issue 27, point 9)', async () => {
    const { alice, bob, callId } = await callBetween([relay.url])
    const bobPub = (await whoami(bob)).pubkey
    const texts = Array.from({ length: 40 }, (_, i) => `${i} `.padEnd(15_000, 'x'))
    for (const text of texts) await inject(relay.url, { type: 'message', callId, text }, { author: secretOf(alice), to: bobPub })
    const polled = await bob.run(['poll', '--json'])
    expect(polled.json().events.filter((e: { type: string }) => e.type === 'message')).toHaveLength(40)
    expect((await bob.run(['end'])).code).toBe(0)
    expect(statSync(join(bob.home, 'p2p-state.json')).size).toBeLessThan(100_000)
    // the text is where it belongs: the call log and the transcript
    const history = (await bob.run(['history', callId, '--json'])).json()
    expect(history.transcript.messages.map((m: { text: string }) => m.text)).toEqual(texts)
    expect(readFileSync(history.transcript.path, 'utf8')).toContain(texts[39])
  })

  it('history counts messages and escalations apart, on both sides (issue 27, point 6)', async () => {
    const { alice, bob, callId } = await callBetween([relay.url])
    expect((await alice.run(['config', 'set', 'owner', npubEncode(getPublicKey(generateSecretKey()))])).code).toBe(0)
    for (const args of [
      ['send', 'the rate is 1.08'],
      ['send', 'valid for an hour'],
      ['escalate', 'sell at 1.08?'],
    ])
      expect((await alice.run(args)).code).toBe(0)
    expect((await bob.run(['send', 'ok'])).code).toBe(0)
    await bob.run(['poll'])
    await alice.run(['poll'])
    for (const a of [alice, bob]) {
      const call = (await a.run(['history', '--json'])).json().calls.find((c: { id: string }) => c.id === callId)
      expect(call).toMatchObject({ messages: 3, escalations: 1 })
      expect((await a.run(['history'])).stdout).toMatch(/3 messages, 1 escalation\b/)
      // and which entry it is, in the transcript's JSON
      const messages = (await a.run(['history', callId, '--json'])).json().transcript.messages
      expect(messages.filter((m: { escalation?: boolean }) => m.escalation).map((m: { text: string }) => m.text)).toEqual([
        expect.stringContaining('sell at 1.08?'),
      ])
    }
  })

  it('after the peer hung up, says the peer ended it and where its transcript is', async () => {
    const { alice, bob, callId } = await callBetween([relay.url])
    expect((await alice.run(['end'])).code).toBe(0)
    const r = await bob.run(['end', '--json'])
    expect(r.code).toBe(3)
    const error = r.json().error
    expect(error.code).toBe('call-ended-by-peer')
    expect(error.message).toContain(`call ${callId} was already ended by the peer`)
    expect(error.message).toMatch(new RegExp(`p2p-transcripts/${callId}\\.md`))
    expect(error.hint).toMatch(/history/)
    // the call's life is in both transcripts: who accepted, who ended
    const alicePub = (await alice.run(['whoami', '--json'])).json().npub as string
    const bobPub = (await bob.run(['whoami', '--json'])).json().npub as string
    for (const a of [alice, bob]) {
      const shown = (await a.run(['history', callId])).stdout
      // the call's request too, by its caller (issue 27, point 6)
      expect(shown.split('\n')[1]).toMatch(new RegExp(`^— requested by .*${alicePub.slice(0, 12)}.*, \\d\\d:\\d\\d:\\d\\d$`))
      expect(shown).toContain(`— accepted by`)
      expect(shown.split('\n').find((l) => l.startsWith('— accepted by'))).toContain(bobPub.slice(0, 12))
      expect(shown.split('\n').find((l) => l.startsWith('— ended by'))).toContain(alicePub.slice(0, 12))
    }
    // with no call behind it, the usual refusal
    expect((await alice.run(['end', '--json'])).json().error.code).toBe('no-active-call')
  })
})
