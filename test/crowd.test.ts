// Discovery in a crowd (issue 26): 5,000 agents announced after a specialist, on a strfry-like
// relay that serves at most 500 events per filter. `list --find` and `call <name>` ask the relay
// for matches by the search tags it indexes; `list` shows the newest and counts the rest. The
// built CLI as child processes; the crowd is signed for real and stored straight away.
import { npubEncode } from 'nostr-tools/nip19'
import { generateSecretKey, getPublicKey } from 'nostr-tools/pure'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LIST_SHOWN, PAGE_LIMIT } from '../lib/limits.ts'
import { presenceEvent } from '../lib/nostr/presence.ts'
import { signerFor } from '../lib/nostr/schnorr.ts'
import { type Agent, agent } from './helpers/cli.ts'
import { type PolicyRelay, startPolicyRelay } from './helpers/policy-relay.ts'
import { freePort } from './helpers/relay.ts'

const CROWD = 5_000
let relay: PolicyRelay
let desk: Agent
let deskKey: string
const twin = generateSecretKey()

beforeAll(async () => {
  const port = await freePort()
  relay = await startPolicyRelay({ mode: 'strfry', port, serviceUrl: `ws://127.0.0.1:${port}` })
  desk = agent([relay.url])
  for (const args of [['config', 'set', 'name', 'fx-desk'], ['config', 'set', 'capabilities', 'fx-rates, currency'], ['status']])
    expect((await desk.run(args)).code).toBe(0)
  deskKey = (await desk.run(['whoami', '--json'])).json().pubkey
  // the crowd comes after the specialist: dated over the next 20 seconds (ahead of
  // the clock at most, which relays and readers allow)
  const after = relay.stored.size ? Math.max(...[...relay.stored.values()].map((e) => e.created_at)) : 0
  const sign = await signerFor()
  const crowd = Array.from({ length: CROWD }, (_, i) => {
    const p = {
      agentId: `agent-${i}`,
      name: `agent-${i}`,
      about: 'general help',
      relays: [relay.url],
      version: '0.1.0',
      capabilities: ['chat'],
    }
    return sign(presenceEvent(p, after + 1 + (i % 20)), generateSecretKey())
  })
  await relay.seed(crowd)
}, 120_000)
afterAll(async () => {
  await relay?.stop()
})

describe('a crowd of 5,000 announced after a specialist', () => {
  it('list --find finds the specialist every time, by its capability and by its name', async () => {
    const me = agent([relay.url])
    for (const words of ['fx-rates', 'FX-Rates', 'currency', 'fx-desk', 'desk rates']) {
      const r = await me.run(['list', '--find', words, '--json'])
      expect(r.code, r.stderr).toBe(0)
      expect(
        r.json().agents.map((a: { pubkey: string }) => a.pubkey),
        words,
      ).toEqual([deskKey])
    }
  })

  it('call <name> reaches it, and the specialist sees who calls', async () => {
    const caller = agent([relay.url])
    expect((await caller.run(['config', 'set', 'name', 'buyer'])).code).toBe(0)
    const call = await caller.run(['call', 'fx-desk', 'two rates, please', '--json'])
    expect(call.code, call.stderr).toBe(0)
    expect(call.json().call.peer.name).toBe('fx-desk')
    const polled = await desk.run(['poll', '--json'])
    expect(polled.code, polled.stderr).toBe(0)
    // its poll reads no crowd: the caller's announcement is asked for by key once its request came
    expect(polled.json().events.map((e: { type: string; name: string; topic: string }) => `${e.type} ${e.name}: ${e.topic}`)).toEqual([
      'call-request buyer: two rates, please',
    ])
  })

  it('list shows the newest and says how many more it saw, and that the relay holds more', async () => {
    const r = await agent([relay.url]).run(['list', '--json'])
    expect(r.code, r.stderr).toBe(0)
    const doc = r.json()
    expect(doc.agents).toHaveLength(LIST_SHOWN)
    // one page read (the newest 500): those are counted, and the relay is said to hold more
    expect(doc.more).toBeGreaterThanOrEqual(PAGE_LIMIT - LIST_SHOWN)
    expect(doc.moreOnRelays).toBe(true)
    // asked for more, it reads more pages (pages overlap where a second holds hundreds)
    const many = await agent([relay.url]).run(['list', '--max', '1200', '--json'])
    expect(many.json().agents.length).toBeGreaterThan(PAGE_LIMIT)
    const text = await agent([relay.url]).run(['list', '--max', '3'])
    expect(text.stdout).toMatch(/^\d+\+ agents online \(announced in the last 5 min\), the 3 seen last:/)
    expect(text.stdout).toMatch(
      /… and \d+ more seen \(the relays hold more announcements than one run reads\): narrow with `node p2p\.js list --find <words>`/,
    )
  })

  it('a name another key announces too is refused, with both keys, however large the crowd', async () => {
    const sign = await signerFor()
    const p = { agentId: 'fx-desk', name: 'fx-desk', about: 'me too', relays: [relay.url], version: '0.1.0' }
    await relay.seed([sign(presenceEvent(p, Math.floor(Date.now() / 1000)), twin)])
    const r = await agent([relay.url]).run(['call', 'fx-desk', 'rates', '--json'])
    expect(r.code).toBe(3)
    expect(r.json().error.code).toBe('ambiguous-agent')
    expect(r.json().error.message).toContain(npubEncode(getPublicKey(twin)))
    expect(r.json().error.message).toContain(npubEncode(deskKey))
  })
})
