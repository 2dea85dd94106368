// Agents, relays and presence end to end: the built CLI as child processes against real relays.

import { readFileSync } from 'node:fs'
import * as nip19 from 'nostr-tools/nip19'
import { generateSecretKey, getPublicKey } from 'nostr-tools/pure'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { presenceEvent } from '../lib/nostr/presence.ts'
import { type Agent, agent, workedMs } from './helpers/cli.ts'
import { type FaultyRelay, startFaultyRelay } from './helpers/faulty-relay.ts'
import { secretOf } from './helpers/inject.ts'
import { publishTo, signed } from './helpers/publish.ts'
import { connect } from './helpers/raw-client.ts'
import { deadRelayUrl, startBlackHole, startRelay, type TestRelay } from './helpers/relay.ts'

const DEFAULT_DEADLINE_MS = 4_000
/** closing and saving on a loaded machine, by the CLI's own clock (workedMs: start-up is not counted) */
const SLACK_MS = 1_500
const now = () => Math.floor(Date.now() / 1000)

let r1: TestRelay
let r2: TestRelay
let blackHole: { url: string; stop(): Promise<void> }
let dead: string

beforeAll(async () => {
  ;[r1, r2, blackHole, dead] = await Promise.all([startRelay(), startRelay(), startBlackHole(), deadRelayUrl()])
})
afterAll(async () => {
  await Promise.all([r1.stop(), r2.stop(), blackHole.stop()])
})

async function named(name: string, relays: string[]): Promise<Agent> {
  const a = agent(relays)
  expect((await a.run(['config', 'set', 'name', name])).code).toBe(0)
  return a
}

describe('discovery', () => {
  it('agents on different relays see each other through the relay they share', async () => {
    const hub = await named('hub', [r1.url, r2.url])
    const left = await named('left', [r1.url])
    const right = await named('right', [r2.url])
    for (const a of [hub, left, right]) expect((await a.run(['status'])).code).toBe(0)

    const hubList = (await hub.run(['list', '--json'])).json()
    expect(hubList.agents.map((a: { name: string }) => a.name).sort()).toEqual(['left', 'right'])
    for (const entry of hubList.agents) {
      expect(Object.keys(entry)).toEqual(expect.arrayContaining(['npub', 'pubkey', 'name', 'about', 'lastSeen']))
      expect(nip19.decode(entry.npub).data).toBe(entry.pubkey)
      expect(Math.abs(entry.lastSeen - now())).toBeLessThan(30)
    }
    const leftNames = (await left.run(['list', '--json'])).json().agents.map((a: { name: string }) => a.name)
    expect(leftNames).toEqual(['hub'])
    const plain = await right.run(['list'])
    expect(plain.stdout).toMatch(/1 agent online/)
    expect(plain.stdout).toMatch(/hub/)
  })

  it('shows agents of the original skill, never merges a name claimed by two keys, and hides stale ones', async () => {
    const relay = await startRelay()
    try {
      const fixture = JSON.parse(readFileSync(new URL('../fixtures/original-skill-presence.json', import.meta.url), 'utf8'))
      const impostor = generateSecretKey()
      const legacy = generateSecretKey()
      const stale = generateSecretKey()
      await publishTo(
        relay.url,
        signed({ kind: fixture.kind, tags: fixture.tags, content: fixture.content, created_at: now() - 30 }, legacy),
      )
      await publishTo(
        relay.url,
        signed(
          {
            ...presenceEvent({ agentId: 'Legacy Helper', name: 'Legacy Helper', about: 'not really', relays: [], version: '9' }, now()),
            tags: [
              ['d', 'x'],
              ['t', 'openclaw-p2p'],
            ],
          },
          impostor,
        ),
      )
      await publishTo(
        relay.url,
        signed(
          {
            kind: 30078,
            tags: [
              ['d', 'old'],
              ['t', 'openclaw-p2p'],
            ],
            content: '{"name":"old"}',
            created_at: now() - 400,
          },
          stale,
        ),
      )

      const me = agent([relay.url])
      const listed = (await me.run(['list', '--json'])).json().agents
      expect(listed.map((a: { pubkey: string }) => a.pubkey).sort()).toEqual([getPublicKey(impostor), getPublicKey(legacy)].sort())
      expect(listed.every((a: { name: string; nameShared: boolean }) => a.name === 'Legacy Helper' && a.nameShared)).toBe(true)
      expect(listed[0].pubkey).toBe(getPublicKey(impostor)) // newest first
      expect((await me.run(['list'])).stdout).toMatch(/several keys use this name/)

      // a wider window shows the stale one too
      expect((await me.run(['config', 'set', 'onlineWindow', '600'])).code).toBe(0)
      const wider = (await me.run(['list', '--json'])).json().agents
      expect(wider.map((a: { pubkey: string }) => a.pubkey)).toContain(getPublicKey(stale))
    } finally {
      await relay.stop()
    }
  })
})

describe('presence upkeep', () => {
  it('announces once, then only when what it says changes, and only where it is missing', async () => {
    const relay = await startRelay()
    try {
      const a = await named('upkeep', [relay.url])
      const published = (stderr: string) => [...stderr.matchAll(/(\S+) publish kind (\d+): accepted/g)].map((m) => `${m[2]}@${m[1]}`).sort()
      expect(published((await a.run(['status', '--verbose'])).stderr)).toEqual([
        `0@${relay.url}`,
        `10002@${relay.url}`,
        `10050@${relay.url}`,
        `30078@${relay.url}`,
      ])
      expect(published((await a.run(['status', '--verbose'])).stderr)).toEqual([])
      await a.run(['config', 'set', 'about', 'now with a description'])
      expect(published((await a.run(['status', '--verbose'])).stderr)).toEqual([`0@${relay.url}`, `30078@${relay.url}`])
      // the profile people's clients show: name, about, and that this is a bot (NIP-24)
      const c = await connect(relay.url)
      const profile = (await c.req('profile', { kinds: [0], authors: [(await a.run(['whoami', '--json'])).json().pubkey] })).find(
        (f) => f[0] === 'EVENT',
      )?.[2] as { content: string }
      c.close()
      expect(JSON.parse(profile.content)).toEqual({ name: 'upkeep', about: 'now with a description', bot: true })
      // a second relay joins: everything goes to it, relay lists to both (they now name two relays)
      const both = [relay.url, r2.url]
      const out = published((await a.run(['status', '--verbose', '--relay', relay.url, '--relay', r2.url])).stderr)
      expect(out).toEqual(
        [
          `0@${r2.url}`,
          `10002@${relay.url}`,
          `10002@${r2.url}`,
          `10050@${relay.url}`,
          `10050@${r2.url}`,
          `30078@${relay.url}`,
          `30078@${r2.url}`,
        ].sort(),
      )
      expect(both).toHaveLength(2)
    } finally {
      await relay.stop()
    }
  })

  it('polled every minute for ten minutes, renews its presence every 2 minutes and publishes nothing else (issue 26, point 6)', async () => {
    const relay = await startRelay()
    try {
      const a = await named('cron-agent', [relay.url])
      const published: string[] = []
      // the agent's clock a minute further each run, as cron's would be
      for (let minute = 1; minute <= 10; minute++) {
        const r = await a.run(['poll', '--verbose'], { env: { P2P_TEST_CLOCK_OFFSET_S: String(minute * 60) } })
        expect(r.code, r.stderr).toBe(0)
        for (const m of r.stderr.matchAll(/publish kind (\d+): accepted/g)) published.push(`${minute}: ${m[1]}`)
      }
      // the first run announces everything; then only the presence, when 2 minutes old
      expect(published).toEqual(['1: 30078', '1: 10002', '1: 10050', '1: 0', ...[3, 5, 7, 9].map((minute) => `${minute}: 30078`)])
    } finally {
      await relay.stop()
    }
  })

  it('a changed profile replaces one dated the same second or later (a relay keeps the lower id of two of one second)', async () => {
    const relay = await startRelay()
    try {
      const a = await named('dated', [relay.url])
      expect((await a.run(['status'])).code).toBe(0)
      // our profile as a run whose clock was ahead left it: a plain replacement dated now would lose
      const ahead = Math.floor(Date.now() / 1000) + 30
      await publishTo(
        relay.url,
        signed({ kind: 0, created_at: ahead, tags: [], content: JSON.stringify({ name: 'dated', about: 'old' }) }, secretOf(a)),
      )
      await a.run(['config', 'set', 'about', 'new'])
      expect((await a.run(['status'])).code).toBe(0)
      const c = await connect(relay.url)
      const profiles = (await c.req('p', { kinds: [0], authors: [(await a.run(['whoami', '--json'])).json().pubkey] })).filter(
        (f) => f[0] === 'EVENT',
      )
      c.close()
      expect(profiles.map((f) => JSON.parse((f[2] as { content: string }).content).about)).toEqual(['new'])
    } finally {
      await relay.stop()
    }
  })

  it('status and whoami say where the agent is visible, under which name and until when (issue 14, point 5)', async () => {
    const a = agent([r1.url, dead])
    expect((await a.run(['whoami', '--json'])).json().presence).toMatchObject({ relays: [], visibleUntil: null })
    const now = Math.floor(Date.now() / 1000)
    const status = (await a.run(['status', '--json'])).json()
    expect(status.presence.relays).toEqual([r1.url])
    expect(status.presence.visibleUntil).toBeGreaterThanOrEqual(now + 590)
    expect(status.presence.visibleUntil).toBeLessThanOrEqual(now + 610)
    const who = (await a.run(['whoami', '--json'])).json()
    expect(who.presence).toEqual(status.presence)
    expect((await a.run(['whoami'])).stdout).toMatch(/visible +as ".+" on 1 relay for 1\d more min; any online command renews it/)
    // a later run finds the copy on the relay and keeps it as it is
    expect((await a.run(['status', '--json'])).json().presence).toEqual(status.presence)
    // renamed: not visible under the new name until a run announces it
    await a.run(['config', 'set', 'name', 'renamed-agent'])
    const renamed = (await a.run(['whoami', '--json'])).json()
    expect(renamed.presence).toMatchObject({ name: 'renamed-agent', relays: [], visibleUntil: null })
    // and says what others see meanwhile, and when the new name goes out (issue 27, point 4)
    expect(renamed.announced).toEqual(status.presence)
    expect((await a.run(['whoami'])).stdout).toMatch(
      /visible +not yet as "renamed-agent": still as ".+" on 1 relay for \d+ more min; the new name goes out with the next online command/,
    )
    expect((await a.run(['status', '--json'])).json().presence).toMatchObject({ name: 'renamed-agent', relays: [r1.url] })
  })

  it('a renamed agent withdraws its announcement under the old name (NIP-09): no ghost for other clients (issue 14, point 6)', async () => {
    const relay = await startRelay()
    try {
      const a = await named('before-rename', [relay.url])
      expect((await a.run(['status'])).code).toBe(0)
      await a.run(['config', 'set', 'name', 'after-rename'])
      expect((await a.run(['status'])).code).toBe(0)
      const pubkey = (await a.run(['whoami', '--json'])).json().pubkey
      // another client asking the relay for the agent's announcements: one, under the new name
      const c = await connect(relay.url)
      const frames = await c.req('ghosts', { kinds: [30078], authors: [pubkey] })
      c.close()
      const dTags = frames.filter((f) => f[0] === 'EVENT').map((f) => (f[2] as { tags: string[][] }).tags.find((t) => t[0] === 'd')?.[1])
      expect(dTags).toEqual(['after-rename'])
      // and another agent lists it once
      const b = agent([relay.url])
      expect((await b.run(['list', '--json'])).json().agents.map((x: { name: string }) => x.name)).toEqual(['after-rename'])
    } finally {
      await relay.stop()
    }
  })

  it('works with a relay that requires NIP-42 AUTH', async () => {
    const relay = await startRelay({ auth: true })
    try {
      const a = await named('authed', [relay.url])
      const r = await a.run(['status', '--verbose'])
      expect(r.code).toBe(0)
      expect(r.stderr).toMatch(/> \["AUTH"/)
      expect(r.stderr).toMatch(/publish kind 30078: accepted/)
      const b = agent([relay.url])
      expect((await b.run(['list', '--json'])).json().agents.map((x: { name: string }) => x.name)).toEqual(['authed'])
    } finally {
      await relay.stop()
    }
  })
})

describe('dead, silent and lying relays', () => {
  it('status with one relay down still answers and marks it unreachable', async () => {
    const a = agent([r1.url, dead])
    const r = await a.run(['status', '--json'])
    expect(r.code).toBe(0)
    const doc = r.json()
    expect(Object.keys(doc)).toEqual(expect.arrayContaining(['npub', 'relays', 'activeCall', 'incomingCalls']))
    expect(doc.relays).toEqual([
      expect.objectContaining({ url: r1.url, connected: true }),
      expect.objectContaining({ url: dead, connected: false, error: 'ECONNREFUSED' }),
    ])
    expect(doc.activeCall).toBeNull()
    expect(doc.incomingCalls).toEqual([])
    const plain = await a.run(['status'])
    expect(plain.stdout).toMatch(/1 of 2 reachable/)
    expect(plain.stdout).toContain('✗')
  })

  it.each([
    ['status', []],
    ['list', []],
    ['whoami', []],
    ['config', ['get']],
  ])('%s answers within the deadline when relays are a black hole or dead', async (command, rest) => {
    const a = agent([blackHole.url, dead])
    const r = await a.run([command, ...rest, '--json', '--verbose'])
    expect(workedMs(r)).toBeLessThan(DEFAULT_DEADLINE_MS + SLACK_MS)
    expect(r.stderr).not.toMatch(/handle was still open/)
    expect(() => r.json()).not.toThrow()
    if (command === 'status' || command === 'list') {
      expect(r.code).toBe(4)
      expect(r.json().error.code).toBe('no-relay-reachable')
      expect(r.json().error.hint).toMatch(/--relay/)
    } else {
      expect(r.code).toBe(0)
    }
  })

  it('a black hole beside a live relay costs no more than the connect timeout', async () => {
    const a = agent([r1.url, blackHole.url])
    const r = await a.run(['status', '--json', '--timeout', '1500', '--verbose'])
    expect(r.code).toBe(0)
    expect(workedMs(r)).toBeLessThan(1_500 + SLACK_MS)
    expect(r.json().relays[1]).toMatchObject({ connected: false, error: expect.stringMatching(/connect timed out|still connecting/) })
  })

  describe('a relay answering garbage', () => {
    let liar: FaultyRelay
    const stranger = generateSecretKey()
    beforeAll(async () => {
      const good = signed(presenceEvent({ agentId: 'real', name: 'real', about: '', relays: [], version: '1' }, now()), stranger)
      liar = await startFaultyRelay((sub, ws) => {
        ws.send('this is not json')
        ws.send(Buffer.from([0, 1, 2]), { binary: true })
        ws.send(JSON.stringify(['EVENT', sub, { ...good, content: good.content.replace('real', 'fake') }])) // signature no longer matches
        ws.send(JSON.stringify(['EVENT', sub, { ...signed({ kind: 1, tags: [], content: 'off-topic', created_at: now() }, stranger) }])) // not what was asked
        ws.send(
          JSON.stringify([
            'EVENT',
            sub,
            signed(
              { ...presenceEvent({ agentId: 'future', name: 'future', about: '', relays: [], version: '1' }, now() + 86_400) },
              generateSecretKey(),
            ),
          ]),
        )
        ws.send(JSON.stringify(['EVENT', sub, { id: 'x' }]))
        ws.send(JSON.stringify(['EVENT', sub, good]))
        ws.send(JSON.stringify(['EOSE', sub]))
      })
    })
    afterAll(() => liar.stop())

    it('keeps only the genuine event and stays healthy', async () => {
      const a = agent([liar.url])
      const r = await a.run(['list', '--json', '--verbose'])
      expect(r.code).toBe(0)
      expect(r.json().agents.map((x: { name: string }) => x.name)).toEqual(['real'])
      // it answers every REQ (a sync sends several) with the same four bad events, each dropped,
      // and the genuine one, dropped too where that REQ did not ask for it
      const reqs = r.stderr.match(/> \["REQ"/g)?.length ?? 0
      const drops = r.stderr.match(/invalid event dropped/g)?.length ?? 0
      expect(reqs).toBeGreaterThan(0)
      expect(drops).toBeGreaterThanOrEqual(4 * reqs)
      expect(drops).toBeLessThanOrEqual(5 * reqs)
      expect(r.stderr).toMatch(/malformed JSON ignored/)
      const state = JSON.parse(readFileSync(`${a.home}/p2p-state.json`, 'utf8'))
      expect(Object.values(state.agents).map((x) => (x as { name: string }).name)).toEqual(['real'])
    })
  })
})
