// Ending a call (issue 15, points 2, 4 and 5): `end` prints the whole transcript, so what it showed
// is not new any more; `end` after the peer hung up says so, and where the transcript is; both
// transcripts say who accepted the call and who ended it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { callBetween } from './helpers/inject.ts'
import { startRelay, type TestRelay } from './helpers/relay.ts'

let relay: TestRelay
beforeAll(async () => {
  relay = await startRelay()
})
afterAll(() => relay.stop())

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
      expect(shown).toContain(`— accepted by`)
      expect(shown.split('\n').find((l) => l.startsWith('— accepted by'))).toContain(bobPub.slice(0, 12))
      expect(shown.split('\n').find((l) => l.startsWith('— ended by'))).toContain(alicePub.slice(0, 12))
    }
    // with no call behind it, the usual refusal
    expect((await alice.run(['end', '--json'])).json().error.code).toBe('no-active-call')
  })
})
