// NIP-04 DMs (config legacy on) are read page by page, per relay, under the gift wraps' flood and
// cursor rules (issue 23, point 2): a stranger's kind 4 flood neither cuts the agent off a relay
// nor hides an older real message, and a read that stops short goes on next run.
import { type Event, finalizeEvent, generateSecretKey } from 'nostr-tools/pure'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { named, whoami } from './helpers/agents.ts'
import type { Agent } from './helpers/cli.ts'
import { LegacyAgent } from './helpers/legacy-agent.ts'
import { startPolicyRelay } from './helpers/policy-relay.ts'
import { freePort, startRelay, type TestRelay } from './helpers/relay.ts'
import { publishAll, sendDms } from './helpers/stranger.ts'

const now = () => Math.floor(Date.now() / 1000)

/** `count` kind 4 DMs to `to` from one stranger, dated `at(i)`: nothing the original skill says. */
const strangerDms = (to: string, count: number, at: (i: number) => number): Event[] => {
  const sk = generateSecretKey()
  return Array.from({ length: count }, (_, i) => finalizeEvent({ kind: 4, created_at: at(i), tags: [['p', to]], content: `junk ${i}` }, sk))
}

async function poll(a: Agent, env: Record<string, string> = {}) {
  const r = await a.run(['poll', '--json'], { env })
  expect(r.code, r.stderr).toBe(0)
  return r.json() as {
    events: Array<{ type: string; text?: string; callId?: string }>
    warnings?: Array<{ relay: string; reason: string }>
  }
}

let relay: TestRelay
beforeAll(async () => {
  relay = await startRelay()
})
afterAll(() => relay.stop())

describe('legacy paging', () => {
  it('350 stranger kind 4 DMs on strfry (500 a REQ): the relay stays read, run after run, and a NIP-17 message comes', async () => {
    const port = await freePort()
    const strfry = await startPolicyRelay({ mode: 'strfry', port, serviceUrl: `ws://127.0.0.1:${port}` })
    try {
      const us = await named('frank', [strfry.url])
      expect((await us.run(['config', 'set', 'legacy', 'on'])).code).toBe(0)
      const me = (await whoami(us)).pubkey
      await strfry.seed(strangerDms(me, 350, (i) => now() - 100 + (i % 100)))
      await sendDms(strfry.url, me, 1, undefined, () => 'over NIP-17')
      // the code before asked for kind 4 with no limit (a budget of 300 events), dropped the
      // connection at the 301st, and so missed the gift wraps too, on every run
      const first = await poll(us)
      expect(first.warnings).toBeUndefined()
      expect(first.events.map((e) => e.text)).toEqual(['over NIP-17'])
      expect((await poll(us)).warnings).toBeUndefined()
    } finally {
      await strfry.stop()
    }
  }, 60_000)

  it('150 stranger DMs newer than a real call request do not hide it; a read cut short goes on next run', async () => {
    const us = await named('grace', [relay.url])
    expect((await us.run(['config', 'set', 'legacy', 'on'])).code).toBe(0)
    const me = (await whoami(us)).pubkey
    const helper = new LegacyAgent(relay.url, 'legacy-hidden', 'Legacy Hidden')
    const start = now()
    // older than the flood, and than the overlap a later run reads again
    const roomId = await helper.call(me, 'under the flood', start - 250)
    await publishAll(
      relay.url,
      strangerDms(me, 150, (i) => start - 240 + i),
    )
    // pages of 50, 3 a run: the first run reads the newest 150 and stops short, the next goes on
    const small = { P2P_TEST_PAGE_LIMIT: '50', P2P_TEST_MAX_PAGES: '3' }
    const first = await poll(us, small)
    expect(first.warnings?.map((w) => w.reason)).toEqual([expect.stringMatching(/^NIP-04 messages: more than 3 pages/)])
    const second = await poll(us, small)
    // the code before read the newest 100 (the relay's default limit), moved its cursor past the request, and lost it
    expect([...first.events, ...second.events].map((e) => [e.type, e.callId])).toEqual([['call-request', roomId.replaceAll('-', '')]])
    // read in full, its cursor moved: a run reads only what is new (and the overlap)
    expect(second.warnings).toBeUndefined()
    expect((await poll(us, small)).warnings).toBeUndefined()
  }, 60_000)
})
