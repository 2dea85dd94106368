// Who may call me (issue 16, part 2): `config set accept anyone|known|allowlist`, `allow` and
// `block`, with three callers: one allowed, one known (we called it), one stranger. The built
// CLI as child processes against a real relay.

import { generateSecretKey, getPublicKey } from 'nostr-tools/pure'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { POLICY_REJECT_REASON } from '../lib/calls/policy.ts'
import { npub } from '../lib/nostr/keys.ts'
import { named, pollEvents, whoami } from './helpers/agents.ts'
import type { Agent } from './helpers/cli.ts'
import { startRelay, type TestRelay } from './helpers/relay.ts'
import { sendDms } from './helpers/stranger.ts'

let relay: TestRelay
beforeAll(async () => {
  relay = await startRelay()
})
afterAll(async () => {
  await relay.stop()
})

const ok = async (a: Agent, args: string[]) => {
  const r = await a.run(args)
  expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0)
  return r
}

// independent tests (each its own agents; shared relays only serve them): two at a time
describe.concurrent('accept', () => {
  describe('accept policy, allow and block', () => {
    it('allow and block take npubs or names, say what changed, and refuse bad input', async () => {
      const me = await named('gate', [relay.url])
      const other = await named('other', [relay.url])
      const otherKey = (await whoami(other)).npub
      await ok(me, ['list'])
      const allowed = (await ok(me, ['allow', 'other', '--json'])).json()
      expect(allowed).toMatchObject({ agent: otherKey, changed: true, accept: 'anyone', blocked: [] })
      expect(allowed.allowed).toEqual([expect.objectContaining({ npub: otherKey, name: 'other' })])
      // blocking moves it from one list to the other
      const blocked = (await ok(me, ['block', otherKey, '--json'])).json()
      expect(blocked.allowed).toEqual([])
      expect(blocked.blocked.map((e: { npub: string }) => e.npub)).toEqual([otherKey])
      expect((await ok(me, ['block', otherKey, '--remove', '--json'])).json()).toMatchObject({ changed: true, blocked: [] })
      expect((await ok(me, ['block', otherKey, '--remove', '--json'])).json().changed).toBe(false)
      expect((await me.run(['allow', 'nobody-by-that-name'])).code).toBe(3)
      expect((await me.run(['allow', 'npub1notakey'])).code).toBe(2)
      expect((await me.run(['config', 'set', 'accept', 'friends'])).code).toBe(2)
      expect((await ok(me, ['allow'])).stdout).toMatch(/allowed \(0\)/)
    })

    it('each policy with an allowed, a known and a stranger caller; a blocked key is dropped unseen', async () => {
      // four independent agents: set up side by side
      const [me, allowed, known, stranger] = await Promise.all(
        ['gatekeeper', 'allowed-one', 'known-one', 'stranger-one'].map((name) => named(name, [relay.url])),
      )
      const meKey = (await whoami(me)).pubkey
      const names = new Map<Agent, string>([
        [allowed, 'allowed-one'],
        [known, 'known-one'],
        [stranger, 'stranger-one'],
      ])
      await ok(me, ['allow', (await whoami(allowed)).npub])
      // known: we called it (it declined)
      await ok(me, ['call', 'known-one', 'an earlier question'])
      expect((await pollEvents(known)).map((e) => e.type)).toEqual(['call-request'])
      await ok(known, ['answer', 'reject', 'not now'])
      expect((await pollEvents(me)).map((e) => e.type)).toEqual(['call-rejected'])

      const round = async (accept: string, reachMe: Agent[], toldNow: Agent[]) => {
        await ok(me, ['config', 'set', 'accept', accept])
        // the callers are independent agents: they call, and later look, side by side
        await Promise.all([...names.keys()].map((caller) => ok(caller, ['call', npub(meKey), `under ${accept}`])))
        const events = await pollEvents(me)
        const requests = events.filter((e) => e.type === 'call-request' && e.topic === `under ${accept}`)
        expect(requests.map((e) => e.name).sort(), accept).toEqual(reachMe.map((a) => names.get(a)).sort())
        const look = async (caller: Agent) => {
          const rejected = (await pollEvents(caller)).filter((e) => e.type === 'call-rejected')
          if (toldNow.includes(caller))
            expect(
              rejected.map((e) => e.reason),
              `${accept} ${names.get(caller)}`,
            ).toEqual([POLICY_REJECT_REASON])
          else expect(rejected, `${accept} ${names.get(caller)}`).toEqual([])
          if (!rejected.length) await ok(caller, ['end'])
        }
        await Promise.all([...names.keys()].map(look))
        await pollEvents(me)
      }
      await round('anyone', [allowed, known, stranger], [])
      await round('known', [allowed, known], [stranger])
      // the stranger was told already today: not again; the known agent is told now
      await round('allowlist', [allowed], [known])

      // strangers' DMs: taken under anyone, dropped under known
      const dmFrom = generateSecretKey()
      await sendDms(relay.url, meKey, 1, [dmFrom], () => 'dropped under known')
      const dropped = await me.run(['poll', '--json', '--verbose'])
      expect(dropped.json().events).toEqual([])
      expect(dropped.stderr).toMatch(/refused by the accept policy \(known\)|refused by the accept policy \(allowlist\)/)

      // blocked: the stranger's request and a DM from a blocked key are dropped unseen under anyone
      await ok(me, ['config', 'set', 'accept', 'anyone'])
      await ok(me, ['block', 'stranger-one'])
      await ok(me, ['block', npub(getPublicKey(dmFrom))])
      await ok(stranger, ['call', npub(meKey), 'blocked'])
      await sendDms(relay.url, meKey, 1, [dmFrom], () => 'blocked')
      const quiet = await me.run(['poll', '--json', '--verbose'])
      expect(quiet.json().events).toEqual([])
      expect(quiet.stderr.match(/blocked \(dropped unseen\)/g)).toHaveLength(2)
      expect((await pollEvents(stranger)).filter((e) => e.type === 'call-rejected')).toEqual([])
      // unblocked, the next DM comes through
      await ok(me, ['block', npub(getPublicKey(dmFrom)), '--remove'])
      await sendDms(relay.url, meKey, 1, [dmFrom], () => 'welcome back')
      expect((await pollEvents(me)).map((e) => e.text)).toEqual(['welcome back'])
    }, 180_000)
  })
})
