// Several calls at once (issue 16, part 1), end to end: one agent with `maxCalls 3` serves three
// callers at the same time, the built CLI as child processes, one real relay for the file.

import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import * as nip19 from 'nostr-tools/nip19'
import { generateSecretKey, getEventHash, getPublicKey } from 'nostr-tools/pure'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MAX_CALLS } from '../lib/limits.ts'
import { wrapRumor } from '../lib/nostr/nip59.ts'
import { type Agent, agent } from './helpers/cli.ts'
import { startRelay, type TestRelay } from './helpers/relay.ts'
import { publishAll } from './helpers/stranger.ts'

let relay: TestRelay
beforeAll(async () => {
  relay = await startRelay()
})
afterAll(async () => {
  await relay.stop()
})

async function named(name: string): Promise<Agent> {
  const a = agent([relay.url])
  expect((await a.run(['config', 'set', 'name', name])).code).toBe(0)
  expect((await a.run(['status'])).code).toBe(0) // announces presence and inbox relays
  return a
}

const npubOf = async (a: Agent) => (await a.run(['whoami', '--json'])).json().npub as string
const poll = async (a: Agent) => {
  const r = await a.run(['poll', '--json'])
  expect(r.code, r.stderr).toBe(0)
  return r.json().events as Array<Record<string, any>>
}
async function ok(a: Agent, args: string[], stdin?: string) {
  const r = await a.run([...args, '--json'], { stdin })
  expect(r.code, `${args.join(' ')}: ${r.stdout}${r.stderr}`).toBe(0)
  return r.json()
}
/** The owner answering one escalation from their phone: a NIP-17 DM whose `e` tag names it. */
async function ownerReplies(ownerSk: Uint8Array, agentPubkey: string, escalationId: string, content: string) {
  const pubkey = getPublicKey(ownerSk)
  const rumor = {
    kind: 14,
    pubkey,
    created_at: Math.floor(Date.now() / 1000),
    tags: [
      ['p', agentPubkey],
      ['e', escalationId, '', 'reply'],
    ],
    content,
  }
  await publishAll(relay.url, [wrapRumor({ ...rumor, id: getEventHash(rumor) }, ownerSk, agentPubkey)])
}
const texts = (messages: Array<{ text: string }>) => messages.map((m) => m.text)
/** Each event's call and what it carried, in arrival order. */
const seen = (events: Array<Record<string, any>>) => events.map((e) => [e.type, e.callId, e.text ?? e.file?.name ?? e.reason ?? ''])

// independent tests (each its own agents and owner keys; the shared relays only serve them): two at a time
describe.concurrent('multicall', () => {
  describe('several calls at once', () => {
    it('maxCalls is a whole number from 1 to MAX_CALLS; send, sendfile, escalate and end document --call', async () => {
      const a = agent([relay.url])
      for (const bad of ['0', String(MAX_CALLS + 1), '2.5', 'many']) {
        const r = await a.run(['config', 'set', 'maxCalls', bad, '--json'])
        expect(r.code, bad).toBe(2)
        expect(r.json().error.code).toBe('bad-max-calls')
      }
      expect((await ok(a, ['config', 'set', 'maxCalls', String(MAX_CALLS)])).value).toBe(MAX_CALLS)
      expect((await ok(a, ['config', 'set', 'maxCalls', 'unset'])).value).toBeNull()
      for (const command of ['send', 'sendfile', 'escalate', 'end']) expect((await a.run([command, '--help'])).stdout).toMatch(/--call/)
    })

    it('one agent with maxCalls 3 holds three calls, interleaved, each transcript its own; --call is needed; a fourth caller hears busy', async () => {
      const fx = await named('fx-desk')
      await ok(fx, ['config', 'set', 'maxCalls', '3'])
      const [c1, c2, c3, c4] = await Promise.all(['eur-buyer', 'gbp-buyer', 'jpy-buyer', 'late-buyer'].map(named))
      const fxNpub = await npubOf(fx)
      const ownerSk = generateSecretKey()
      await ok(fx, ['config', 'set', 'owner', nip19.npubEncode(getPublicKey(ownerSk))])

      const ids: string[] = []
      for (const [caller, topic] of [
        [c1, 'EUR/USD'],
        [c2, 'GBP/JPY'],
        [c3, 'USD/JPY'],
      ] as const)
        ids.push((await ok(caller, ['call', fxNpub, topic])).call.id)
      const [id1, id2, id3] = ids
      // all three ring: none is declined as busy
      expect((await poll(fx)).map((e) => [e.type, e.callId])).toEqual(ids.map((id) => ['call-request', id]))
      // with three waiting, answer refuses to guess (as it always did)
      expect((await fx.run(['answer', 'accept', '--json'])).json().error.code).toBe('several-calls-waiting')
      for (const id of ids) expect((await ok(fx, ['answer', 'accept', '--call', id])).call).toMatchObject({ id, state: 'active' })
      for (const [caller, id] of [
        [c1, id1],
        [c2, id2],
        [c3, id3],
      ] as const)
        expect(seen(await poll(caller))).toEqual([['call-accepted', id, '']])

      // status lists every active call, in --json and plain
      const status = await ok(fx, ['status'])
      expect(status.activeCalls.map((c: { id: string; state: string }) => [c.id, c.state])).toEqual(ids.map((id) => [id, 'active']))
      // with several, activeCall names none of them: a reader taking it would act on a guess (issue 27, point 5)
      expect(status.activeCall).toBeNull()
      expect(status.maxCalls).toBe(3)
      const plain = await fx.run(['status'])
      expect(plain.stdout).toMatch(/calls +3 \(at most 3\); name one with --call <id>/)
      for (const id of ids) expect(plain.stdout).toMatch(new RegExp(`^ +${id} from \\S+`, 'm'))

      // with three active, send, sendfile, escalate and end refuse to guess: exit 3, the ids, the command to use
      for (const args of [['send', 'which call?'], ['sendfile', 'x.txt', 'eA=='], ['escalate', 'which call?'], ['end']]) {
        const r = await fx.run([...args, '--json'])
        expect(r.code, args[0]).toBe(3)
        const { error } = r.json()
        expect(error.code).toBe('several-calls-active')
        for (const id of ids) expect(error.message).toContain(id)
        expect(error.hint).toMatch(/--call <id>/)
      }
      const unknown = await fx.run(['send', '--call', 'ffffffffff', 'hello?', '--json'])
      expect(unknown.code).toBe(3)
      expect(unknown.json().error.code).toBe('no-such-active-call')
      const refusedPlain = await fx.run(['send', 'which call?'])
      expect(refusedPlain.code).toBe(3)
      expect(refusedPlain.stderr).toContain(id1)
      expect(refusedPlain.stderr).toMatch(/node p2p\.js send --call <id>/)

      // messages and files interleaved across the three calls
      const fileC3 = randomBytes(40_000)
      const fileFx = Buffer.from('EUR,USD,1.0832\n')
      await ok(c1, ['send', 'c1: EUR/USD please'])
      await ok(c2, ['send', 'c2: GBP/JPY please'])
      await ok(fx, ['send', '--call', id3, 'fx: hello jpy-buyer'])
      await ok(c3, ['sendfile', 'c3-portfolio.bin', '-'], fileC3.toString('base64'))
      expect((await ok(fx, ['sendfile', '--call', id1, 'rates-c1.csv', fileFx.toString('base64')])).callId).toBe(id1)
      expect(seen(await poll(fx))).toEqual([
        ['message', id1, 'c1: EUR/USD please'],
        ['message', id2, 'c2: GBP/JPY please'],
        ['file', id3, 'c3-portfolio.bin'],
      ])
      await ok(fx, ['send', '--call', id2, 'fx: GBP/JPY 190.12'])
      await ok(c1, ['send', 'c1: thanks'])
      expect(seen(await poll(c1))).toEqual([['file', id1, 'rates-c1.csv']])
      expect(seen(await poll(c2))).toEqual([['message', id2, 'fx: GBP/JPY 190.12']])
      expect(seen(await poll(c3))).toEqual([['message', id3, 'fx: hello jpy-buyer']])
      expect(seen(await poll(fx))).toEqual([['message', id1, 'c1: thanks']])

      // an escalation from the second call: the owner's answer joins that call's transcript only
      const escalated = await ok(fx, ['escalate', '--call', id2, 'a 2% discount for gbp-buyer?'])
      expect(escalated.callId).toBe(id2)
      await ownerReplies(ownerSk, (await ok(fx, ['whoami'])).pubkey, escalated.owner.escalationId, 'yes, 2% is fine')
      expect(seen(await poll(fx))).toEqual([['owner-message', id2, 'yes, 2% is fine']])
      expect(seen(await poll(c2))).toEqual([['escalation', id2, 'a 2% discount for gbp-buyer?']])

      // a fourth caller is declined as busy, without bothering fx
      const id4 = (await ok(c4, ['call', fxNpub, 'CHF?'])).call.id
      expect(await poll(fx)).toEqual([])
      expect(await poll(c4)).toEqual([
        expect.objectContaining({ type: 'call-rejected', callId: id4, reason: expect.stringMatching(/busy/) }),
      ])

      // each transcript holds exactly its own call, on both sides
      const escalation = '🙋 handed a decision to a human: a 2% discount for gbp-buyer?'
      const expected: Record<string, string[]> = {
        [id1]: ['c1: EUR/USD please', 'rates-c1.csv', 'c1: thanks'],
        [id2]: ['c2: GBP/JPY please', 'fx: GBP/JPY 190.12', escalation, 'yes, 2% is fine'],
        [id3]: ['fx: hello jpy-buyer', 'c3-portfolio.bin'],
      }
      // the owner's words stay on our side
      const theirs = (id: string) => expected[id].filter((t) => t !== 'yes, 2% is fine')
      const ended = await ok(fx, ['end', '--call', id2])
      expect(ended.call).toMatchObject({ id: id2, state: 'ended' })
      expect(texts(ended.transcript.messages)).toEqual(expected[id2])
      const md = readFileSync(ended.transcript.path, 'utf8')
      expect(md).toContain('fx: GBP/JPY 190.12')
      expect(md).not.toContain('c1: thanks')
      expect(md).not.toContain('hello jpy-buyer')
      await ok(fx, ['end', '--call', id3])
      // one call left: nothing to name, as with one call ever
      await ok(fx, ['send', 'fx: closing now'])
      expected[id1].push('fx: closing now')
      const last = await ok(fx, ['end'])
      expect(last.call.id).toBe(id1)
      for (const [caller, id] of [
        [c1, id1],
        [c2, id2],
        [c3, id3],
      ] as const) {
        expect((await poll(caller)).map((e) => e.type)).toContain('call-ended')
        expect(texts((await ok(caller, ['history', id])).transcript.messages)).toEqual(theirs(id))
        expect(texts((await ok(fx, ['history', id])).transcript.messages)).toEqual(expected[id])
      }
      const received = (await ok(fx, ['history', id3])).transcript.messages[1].file
      expect(readFileSync(received.path).equals(fileC3)).toBe(true)
    }, 240_000)

    it('with the default (one call), a second caller is declined as busy as before, and status has no activeCalls', async () => {
      const desk = await named('one-at-a-time')
      const [first, second] = await Promise.all(['first-caller', 'second-caller'].map(named))
      const deskNpub = await npubOf(desk)
      const id1 = (await ok(first, ['call', deskNpub, 'first'])).call.id
      expect(seen(await poll(desk))).toEqual([['call-request', id1, '']])
      await ok(desk, ['answer', 'accept'])
      const id2 = (await ok(second, ['call', deskNpub, 'second'])).call.id
      expect(await poll(desk)).toEqual([])
      expect(seen(await poll(second))).toEqual([['call-rejected', id2, 'busy: in another call, try again later']])
      const status = await ok(desk, ['status'])
      expect(status.activeCall).toMatchObject({ id: id1 })
      expect(status).not.toHaveProperty('activeCalls')
      // one call: send needs no --call, and a wrong --call is refused
      await ok(desk, ['send', 'hello'])
      expect((await desk.run(['end', '--call', id2, '--json'])).json().error.code).toBe('no-such-active-call')
      expect((await ok(desk, ['end'])).call.id).toBe(id1)
    }, 120_000)
  })
})
