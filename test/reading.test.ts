// Reading as deployed relays and hostile peers make it hard (issue 11, "Reading"): a relay that
// was away gives up what it kept, a pile of same-second wraps cannot stall the paging, and a
// flood of announcements cannot push real agents out of `list` or win their name.
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { npubEncode } from 'nostr-tools/nip19'
import { generateSecretKey, getPublicKey } from 'nostr-tools/pure'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { presenceEvent } from '../lib/nostr/presence.ts'
import { signerFor } from '../lib/nostr/schnorr.ts'
import { whoami as agentWhoami } from './helpers/agents.ts'
import { type Agent, agent } from './helpers/cli.ts'
import { startRelay, type TestRelay } from './helpers/relay.ts'
import { datedDm, publishAll } from './helpers/stranger.ts'

const now = () => Math.floor(Date.now() / 1000)
const DAY = 24 * 3600

let r1: TestRelay
let r2: TestRelay
/** signs as finalizeEvent does, with the CLI's WASM code: thousands of events take a third of the time */
let sign: Awaited<ReturnType<typeof signerFor>>
beforeAll(async () => {
  ;[r1, r2, sign] = await Promise.all([startRelay(), startRelay(), signerFor()])
})
afterAll(async () => {
  await Promise.all([r1.stop(), r2.stop()])
})

const whoami = agentWhoami
const poll = async (a: Agent, ...extra: string[]) => {
  const r = await a.run(['poll', '--json', ...extra])
  expect(r.code, r.stderr).toBe(0)
  return r.json().events as Array<{ type: string; text?: string }>
}

describe('a relay that was away', () => {
  it('still gives up what it kept once it is back: each relay has its own cursor', async () => {
    const a = agent([r1.url, r2.url])
    expect((await a.run(['status'])).code).toBe(0)
    const me = (await whoami(a)).pubkey
    // both relays were last read in full three hours ago
    const statePath = join(a.home, 'p2p-state.json')
    const state = JSON.parse(readFileSync(statePath, 'utf8'))
    const threeHoursAgo = now() - 3 * 3600
    state.cursor.giftWrap = threeHoursAgo
    state.giftWrapCursors = { [r1.url]: threeHoursAgo, [r2.url]: threeHoursAgo }
    writeFileSync(statePath, JSON.stringify(state))
    // r2 alone holds a DM sent more than two hours ago (NIP-59 dated it two days before that)
    await publishAll(r2.url, [datedDm(generateSecretKey(), me, 'kept by r2', now() - 2 * DAY - 2 * 3600)])
    await r2.stop()
    try {
      expect(await poll(a)).toEqual([]) // r1 answers in full; r2 is away
    } finally {
      await r2.start()
    }
    // r2 answered nothing in the last run, so it is waited for only once it has connected: on
    // a loaded machine r1 can finish before r2 connects, and the DM comes with a later run (r2's
    // cursor did not move). It comes once, and is not lost.
    const got: Array<string | undefined> = []
    for (let run = 0; run < 4 && got.length === 0; run++) got.push(...(await poll(a)).map((e) => e.text))
    expect(got).toEqual(['kept by r2'])
    expect(await poll(a)).toEqual([])
  })
})

describe('paging', () => {
  it('is not stalled by a page of gift wraps all dated to the same second', async () => {
    const a = agent([r1.url])
    expect((await a.run(['status'])).code).toBe(0)
    const me = (await whoami(a)).pubkey
    const second = now() - 10
    // 500 (one page) undecryptable wraps in one second, newer than an honest DM
    const pile = Array.from({ length: 500 }, (_, i) =>
      sign({ kind: 1059, created_at: second, tags: [['p', me]], content: `junk ${i}` }, generateSecretKey()),
    )
    await publishAll(r1.url, [...pile, datedDm(generateSecretKey(), me, 'older and honest', now() - 3600)])
    const events = await poll(a, '--timeout', '20000')
    expect(events.map((e) => e.text)).toEqual(['older and honest'])
  }, 60_000)
})

describe('a flood of announcements', () => {
  let real: Agent
  let realNpub: string
  beforeAll(async () => {
    real = agent([r2.url])
    expect((await real.run(['config', 'set', 'name', 'research-bot'])).code).toBe(0)
    expect((await real.run(['status'])).code).toBe(0)
    realNpub = (await whoami(real)).npub
  })

  /** `count` announcements by one key, each with its own d tag, all named research-bot;
   *  returns the attacker's npub. */
  const flood = async (count: number, createdAt: number): Promise<string> => {
    const attacker = generateSecretKey()
    const events = Array.from({ length: count }, (_, i) =>
      sign(presenceEvent({ agentId: `bot-${i}`, name: 'research-bot', about: '', relays: [], version: '1' }, createdAt), attacker),
    )
    await publishAll(r2.url, events)
    return npubEncode(getPublicKey(attacker))
  }
  const researchBots = (agents: Array<{ npub: string; name: string }>) => agents.filter((x) => x.name === 'research-bot').map((x) => x.npub)

  it('dated in the future cannot push the real agent out of list, nor win its name', async () => {
    await flood(1_000, now() + 600)
    const caller = agent([r2.url])
    const list = await caller.run(['list', '--json', '--timeout', '15000'])
    expect(list.code, list.stderr).toBe(0)
    expect(researchBots(list.json().agents)).toEqual([realNpub])
    const call = await caller.run(['call', 'research-bot', 'the topic stays private', '--json', '--timeout', '15000'])
    expect(call.code, call.stdout).toBe(0)
    expect(call.json().call.peer.npub).toBe(realNpub)
  }, 90_000)

  it('dated now shows every key once; the shared name is refused until one is a known peer', async () => {
    const attacker = await flood(1_000, now())
    const caller = agent([r2.url])
    const list = await caller.run(['list', '--json', '--timeout', '15000'])
    expect(list.code, list.stderr).toBe(0)
    const agents = list.json().agents as Array<{ npub: string; name: string; nameShared: boolean }>
    expect(researchBots(agents).sort()).toEqual([realNpub, attacker].sort())
    expect(agents.filter((x) => x.name === 'research-bot').every((x) => x.nameShared)).toBe(true)
    const byName = await caller.run(['call', 'research-bot', 'x', '--json', '--timeout', '15000'])
    expect(byName.code).toBe(3)
    expect(byName.json().error.code).toBe('ambiguous-agent')
    // once the real one has been called by npub, its name resolves to it
    expect((await caller.run(['call', realNpub, 'first', '--timeout', '15000'])).code).toBe(0)
    expect((await caller.run(['end', '--timeout', '15000'])).code).toBe(0)
    const again = await caller.run(['call', 'research-bot', 'second', '--json', '--timeout', '15000'])
    expect(again.code, again.stdout).toBe(0)
    expect(again.json().call.peer.npub).toBe(realNpub)
  }, 90_000)
})
