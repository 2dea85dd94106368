// Strangers as adversaries (issue 23, points 3, 6, 7 and 12), end to end: the built CLI as child
// processes against real local relays, with strangers publishing as other programs would.
import { readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { finalizeEvent, generateSecretKey } from 'nostr-tools/pure'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connected, named, pollEvents, whoami } from './helpers/agents.ts'
import type { Agent } from './helpers/cli.ts'
import { inject, now } from './helpers/inject.ts'
import { LegacyAgent } from './helpers/legacy-agent.ts'
import { publishTo } from './helpers/publish.ts'
import { connect } from './helpers/raw-client.ts'
import { startRelay, type TestRelay } from './helpers/relay.ts'

let relay: TestRelay
let other: TestRelay
beforeAll(async () => {
  ;[relay, other] = await Promise.all([startRelay(), startRelay()])
})
afterAll(async () => {
  await Promise.all([relay.stop(), other.stop()])
})

const ok = async (a: Agent, args: string[], env?: Record<string, string>) => {
  const r = await a.run(args, env ? { env } : {})
  expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0)
  return r
}

/** Changes `a`'s state file as time passing would (the tests never wait on the clock). */
function age(a: Agent, change: (state: any) => void): void {
  const file = join(a.home, 'p2p-state.json')
  const state = JSON.parse(readFileSync(file, 'utf8'))
  change(state)
  writeFileSync(file, JSON.stringify(state))
}

const callRequest = (callId: string, topic = 'let me in') => ({ type: 'call-request' as const, callId, topic })

// independent tests (each its own agents; shared relays only serve them): two at a time
describe.concurrent('strangers', () => {
  it('busy declines and strangers with huge relay lists leave the state small and history as it was (point 3)', async () => {
    const [alice, bob] = await Promise.all([named('alice', [relay.url]), named('bob', [relay.url])])
    const callId = await connected(alice, bob)
    const bobKey = (await whoami(bob)).pubkey
    const before = statSync(join(bob.home, 'p2p-state.json')).size
    // 20 strangers, each with an inbox list of 8 URLs of 4,000 characters, call bob while he is busy
    const strangers = Array.from({ length: 20 }, () => generateSecretKey())
    const long = (i: number) => `wss://relay.example/${'x'.repeat(4_000)}${i}`
    await Promise.all(
      strangers.map(async (sk, n) => {
        const tags = Array.from({ length: 8 }, (_, i) => ['relay', long(i)])
        await publishTo(relay.url, finalizeEvent({ kind: 10050, created_at: now(), tags, content: '' }, sk))
        await inject(relay.url, callRequest(`5747a${n.toString(16).padStart(5, '0')}`), { author: sk, to: bobKey })
      }),
    )
    expect(await pollEvents(bob)).toEqual([])
    const after = statSync(join(bob.home, 'p2p-state.json')).size
    expect(after - before, 'bytes the strangers added to the state').toBeLessThan(16_000)
    const history = (await ok(bob, ['history', '--json'])).json()
    expect(history.calls.map((c: { id: string }) => c.id)).toEqual([callId])
  })

  it('an offline peer we know keeps its name: allow and call by name reach it, not a stranger using it (point 6)', async () => {
    const genuine = await named('research-bot', [relay.url])
    const me = await named('asker', [relay.url])
    const genuineKey = (await whoami(genuine)).npub
    await ok(me, ['list'])
    expect((await ok(me, ['call', 'research-bot', 'the Q3 report', '--json'])).json().call.peer.npub).toBe(genuineKey)
    await ok(me, ['end'])
    // an hour later, on another relay, research-bot is offline and a stranger announces its name
    const stranger = await named('research-bot', [other.url])
    const env = { P2P_RELAYS: other.url }
    age(me, (s) => {
      for (const a of Object.values<{ lastSeen: number }>(s.agents)) a.lastSeen -= 3_600
    })
    const listed = (await ok(me, ['list', '--json'], env)).json().agents
    expect(listed.map((a: { npub: string }) => a.npub)).toEqual([(await whoami(stranger)).npub])
    expect((await ok(me, ['allow', 'research-bot', '--json'], env)).json().agent).toBe(genuineKey)
    const call = await me.run(['call', 'research-bot', 'the Q4 report', '--json'], { env })
    expect(call.json().call.peer.npub).toBe(genuineKey)
  })

  it('an active call with no message either way ends, on both sides, with a reason (point 7)', async () => {
    const [alice, bob] = await Promise.all([named('alice-idle', [relay.url]), named('bob-idle', [relay.url])])
    const callId = await connected(alice, bob)
    await ok(bob, ['config', 'set', 'idleTimeout', '600'])
    expect((await bob.run(['config', 'set', 'idleTimeout', '5'])).code).toBe(2)
    await ok(alice, ['send', 'one question'])
    expect((await pollEvents(bob)).map((e) => e.type)).toEqual(['message'])
    // ten minutes and a second pass with no message either way
    age(bob, (s) => {
      s.calls[callId].updatedAt -= 601
    })
    const ended = await pollEvents(bob)
    expect(ended).toEqual([expect.objectContaining({ type: 'call-ended', callId, reason: expect.stringMatching(/idle.*10 minutes/) })])
    expect((await ok(bob, ['status', '--json'])).json().activeCall).toBeNull()
    expect(await pollEvents(alice)).toEqual([expect.objectContaining({ type: 'call-ended', callId })])
    expect((await ok(bob, ['history', callId, '--json'])).json().transcript.messages.map((m: { text: string }) => m.text)).toEqual([
      'one question',
    ])
  })

  it('a key holds at most one call with us, whatever maxCalls allows (point 7)', async () => {
    const bob = await named('specialist', [relay.url])
    await ok(bob, ['config', 'set', 'maxCalls', '3'])
    const bobKey = (await whoami(bob)).pubkey
    const sk = generateSecretKey()
    for (const id of ['0de0ca1100', '0de0ca1101', '0de0ca1102']) await inject(relay.url, callRequest(id), { author: sk, to: bobKey })
    const events = await pollEvents(bob)
    expect(events.map((e) => [e.type, e.known])).toEqual([['call-request', false]])
    expect((await ok(bob, ['status', '--json'])).json().incomingCalls).toHaveLength(1)
  })

  it('with legacy on, strangers calling over NIP-04 get no answer signed by us (point 12)', async () => {
    const bob = await named('bob-legacy', [relay.url])
    await ok(bob, ['config', 'set', 'legacy', 'on'])
    await ok(bob, ['config', 'set', 'accept', 'known'])
    const bobKey = (await whoami(bob)).pubkey
    const strangers = Array.from({ length: 5 }, (_, i) => new LegacyAgent(relay.url, `stranger-${i}`, `Stranger ${i}`))
    for (const s of strangers) for (const topic of ['one', 'two']) await s.call(bobKey, topic)
    const polled = await bob.run(['poll', '--json', '--verbose'])
    expect(polled.json().events).toEqual([])
    expect(polled.stderr).toMatch(/refused by the accept policy/)
    const client = await connect(relay.url)
    try {
      const signed = (await client.req('ours', { kinds: [4], authors: [bobKey] })).filter((f) => f[0] === 'EVENT')
      expect(signed, 'kind 4 events signed by us').toEqual([])
    } finally {
      client.close()
    }
  })
})
