// Pure logic, no network: relay lists, keys, presence, sync folding, state parsing, config.

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as nip19 from 'nostr-tools/nip19'
import { type Event, finalizeEvent, generateSecretKey, getPublicKey } from 'nostr-tools/pure'
import { describe, expect, it } from 'vitest'
import { onlineAgents } from '../lib/calls/agents.ts'
import { unknownCommand } from '../lib/cli/suggest.ts'
import { parseConfigValue } from '../lib/commands/config.ts'
import { newSecretKey, parsePubkey, publicKeyFromSecret } from '../lib/nostr/keys.ts'
import { inboxRelaysEvent, relayListEvent, relayListIsCurrent } from '../lib/nostr/nip65.ts'
import { parsePresence, presenceEvent, presenceIsCurrent } from '../lib/nostr/presence.ts'
import type { QueryOutcome } from '../lib/nostr/relay/pool.ts'
import { normalizeRelayUrl, parseRelayList } from '../lib/nostr/relay-url.ts'
import { heldBy } from '../lib/session/announce.ts'
import { foldSync, presenceFilter, type SyncReads, wrapFilter } from '../lib/session/fold.ts'
import { patientRelays } from '../lib/session/silence.ts'
import { DEFAULT_RELAYS, loadConfig, resolveRelays } from '../lib/store/config.ts'
import { homePaths } from '../lib/store/home.ts'
import { parseState } from '../lib/store/parse.ts'
import { emptyState, STATE_VERSION } from '../lib/store/schema.ts'
import { MIN_ONLINE_WINDOW_S, PRESENCE_OVERLAP_S, PRESENCE_REFRESH_S } from '../lib/timing.ts'
import { ago, table, thousands } from '../lib/ui/format.ts'
import { VERSION } from '../lib/version.ts'

const NOW = 1_800_000_000
const key = () => {
  const sk = generateSecretKey()
  return { sk, pk: getPublicKey(sk) }
}
const presence = { agentId: 'bot', name: 'bot', about: 'does things', relays: ['wss://a.example'], version: VERSION }
const outcomeOf = (events: Event[], url = 'wss://a.example'): QueryOutcome => ({
  events,
  seenOn: new Map(events.map((e) => [e.id, new Set([url])])),
  results: [{ url, complete: true }],
})
/** What a sync read: `events` from every REQ of one relay, each complete or not. */
const readsOf = (events: Event[], complete = true, url = 'wss://a.example', top = NOW): SyncReads => {
  const results = [{ url, complete }]
  // its gift wraps as new as the read (a cursor moves no further than what a relay served)
  return { events, results: { presence: results, lists: results, wraps: [{ url, complete, top, served: top }] } }
}

describe('relay URLs', () => {
  it('normalises and rejects', () => {
    expect(normalizeRelayUrl('WSS://Relay.Example.COM/')).toBe('wss://relay.example.com')
    expect(normalizeRelayUrl('ws://127.0.0.1:7000')).toBe('ws://127.0.0.1:7000')
    for (const bad of ['http://x.com', 'relay.damus.io', '', 'wss://user:pw@x.com']) {
      expect(() => normalizeRelayUrl(bad)).toThrow(/not a relay URL/)
    }
  })
  it('parses lists and picks the source by precedence', () => {
    expect(parseRelayList('wss://a.io, wss://b.io wss://a.io')).toEqual(['wss://a.io', 'wss://b.io'])
    expect(resolveRelays({ flag: ['wss://f.io'], env: 'wss://e.io', config: ['wss://c.io'] })).toEqual({
      urls: ['wss://f.io'],
      source: 'flag',
    })
    expect(resolveRelays({ env: 'wss://e.io', config: ['wss://c.io'] }).source).toBe('env')
    expect(resolveRelays({ env: ' ', config: ['wss://c.io'] }).source).toBe('config')
    expect(resolveRelays({})).toEqual({ urls: DEFAULT_RELAYS, source: 'default' })
  })
})

describe('public keys', () => {
  it('are derived and made by OpenSSL exactly as by nostr-tools', () => {
    for (let i = 0; i < 50; i++) {
      const sk = newSecretKey()
      expect(sk).toHaveLength(32)
      expect(publicKeyFromSecret(sk)).toBe(getPublicKey(sk))
    }
    const one = new Uint8Array(32)
    one[31] = 1
    expect(publicKeyFromSecret(one)).toBe(getPublicKey(one))
  })

  it('accepts npub, nprofile and hex; rejects the rest', () => {
    const { pk } = key()
    expect(parsePubkey(nip19.npubEncode(pk))).toBe(pk)
    expect(parsePubkey(nip19.nprofileEncode({ pubkey: pk, relays: ['wss://a.io'] }))).toBe(pk)
    expect(parsePubkey(pk.toUpperCase())).toBe(pk)
    expect(parsePubkey('npub1notreally')).toBeNull()
    expect(parsePubkey(nip19.nsecEncode(generateSecretKey()))).toBeNull()
    expect(parsePubkey('abc')).toBeNull()
  })
})

describe('presence', () => {
  it('round-trips our announcement, with expiration and the original skill tags', () => {
    const { sk, pk } = key()
    const event = finalizeEvent(presenceEvent(presence, NOW), sk)
    expect(event.tags).toContainEqual(['d', 'bot'])
    expect(event.tags).toContainEqual(['t', 'openclaw-p2p'])
    expect(event.tags).toContainEqual(['expiration', String(NOW + 600)])
    const content = JSON.parse(event.content)
    expect(content).toMatchObject({ agentId: 'bot', name: 'bot', capabilities: [], timestamp: NOW * 1000 })
    expect(parsePresence(event)).toEqual({
      pubkey: pk,
      eventId: event.id,
      agentId: 'bot',
      name: 'bot',
      about: 'does things',
      lastSeen: NOW,
      expiresAt: NOW + 600,
      client: `p2p-comm ${VERSION}`,
      nip17: true,
      capabilities: [],
    })
  })

  it("reads the original skill's announcement", () => {
    const { sk } = key()
    const template = JSON.parse(readFileSync(new URL('../fixtures/original-skill-presence.json', import.meta.url), 'utf8'))
    const event = finalizeEvent({ kind: template.kind, tags: template.tags, content: template.content, created_at: NOW }, sk)
    expect(parsePresence(event)).toMatchObject({
      agentId: 'legacy-helper',
      name: 'Legacy Helper',
      about: '',
      nip17: false,
      capabilities: ['search', 'summarise'],
    })
  })

  it('ignores other apps and survives junk content', () => {
    const { sk } = key()
    expect(parsePresence(finalizeEvent({ kind: 30078, tags: [['d', 'x']], content: '{}', created_at: NOW }, sk))).toBeNull()
    const junk = finalizeEvent(
      {
        kind: 30078,
        tags: [
          ['d', 'junk\u001b[31m'],
          ['t', 'openclaw-p2p'],
        ],
        content: 'not json',
        created_at: NOW,
      },
      sk,
    )
    expect(parsePresence(junk)).toMatchObject({ agentId: 'junk [31m', name: 'junk [31m' })
  })

  it('is current only when fresh and saying the same thing', () => {
    const { sk } = key()
    const held = finalizeEvent(presenceEvent(presence, NOW), sk)
    expect(presenceIsCurrent(held, presence, NOW + 10)).toBe(true)
    expect(presenceIsCurrent(held, presence, NOW + PRESENCE_REFRESH_S)).toBe(false)
    expect(presenceIsCurrent(held, { ...presence, about: 'changed' }, NOW + 10)).toBe(false)
    expect(presenceIsCurrent(held, { ...presence, relays: ['wss://b.example'] }, NOW + 10)).toBe(false)
    expect(presenceIsCurrent(undefined, presence, NOW)).toBe(false)
  })

  it('compares relay lists as sets', () => {
    const { sk } = key()
    const list = finalizeEvent(relayListEvent(['wss://a.io', 'wss://b.io'], NOW), sk)
    const inbox = finalizeEvent(inboxRelaysEvent(['wss://a.io'], NOW), sk)
    expect(relayListIsCurrent(list, ['wss://b.io', 'wss://a.io'])).toBe(true)
    expect(relayListIsCurrent(list, ['wss://a.io'])).toBe(false)
    expect(relayListIsCurrent(inbox, ['wss://a.io'])).toBe(true)
    expect(relayListIsCurrent(undefined, ['wss://a.io'])).toBe(false)
  })
})

describe('sync', () => {
  it('folds announcements into agents, keeps the newest, skips ourselves, tracks relay health', () => {
    const me = key()
    const other = key()
    const state = emptyState()
    const old = finalizeEvent(presenceEvent({ ...presence, name: 'old' }, NOW - 100), other.sk)
    const newer = finalizeEvent(presenceEvent({ ...presence, name: 'new' }, NOW - 10), other.sk)
    const mine = finalizeEvent(presenceEvent(presence, NOW), me.sk)
    const reports = [
      { url: 'wss://a.example', connected: true, dropped: 0, ms: 5 },
      { url: 'wss://dead.example', connected: false, error: 'ECONNREFUSED', dropped: 0 },
    ]
    const summary = foldSync(state, readsOf([newer, old, mine]), reports, me.pk, NOW, 300)
    expect(summary.newAgents).toEqual([other.pk])
    expect(Object.keys(state.agents)).toEqual([other.pk])
    expect(state.agents[other.pk].name).toBe('new')
    expect(state.cursor).toMatchObject({ presence: NOW, presenceWindow: 300 })
    expect(state.relayHealth['wss://a.example']).toEqual({ lastOk: NOW, lastSynced: NOW })
    expect(state.relayHealth['wss://dead.example']).toMatchObject({ lastError: 'ECONNREFUSED', silentSince: NOW })
    // the same announcement again is not new
    expect(foldSync(state, readsOf([newer]), [], me.pk, NOW + 5, 300).newAgents).toEqual([])
  })

  it('moves the presence cursor no further than the newest announcement of another agent served (a clock ahead)', () => {
    const me = key()
    const other = key()
    const state = emptyState()
    const seen = finalizeEvent(presenceEvent(presence, NOW - 10), other.sk)
    const ours = finalizeEvent(presenceEvent(presence, NOW + 86_400), me.sk) // our own, dated by the clock ahead
    foldSync(state, readsOf([seen, ours]), [], me.pk, NOW + 86_400, 300)
    expect(state.cursor.presence).toBe(NOW - 10 + PRESENCE_OVERLAP_S)
    // served nothing: it stays, but never ahead of the clock
    foldSync(state, readsOf([]), [], me.pk, NOW + 600, 300)
    expect(state.cursor.presence).toBe(NOW - 10 + PRESENCE_OVERLAP_S)
    foldSync(state, readsOf([]), [], me.pk, NOW + 60, 300)
    expect(state.cursor.presence).toBe(NOW + 60)
    expect(presenceFilter(state, NOW + 60, 300).since).toBe(NOW + 60 - PRESENCE_OVERLAP_S)
  })

  it('keeps the cursor when no relay answered in full, and clamps future timestamps', () => {
    const me = key()
    const other = key()
    const state = emptyState()
    const future = finalizeEvent(presenceEvent(presence, NOW + 500), other.sk)
    foldSync(state, readsOf([future], false), [], me.pk, NOW, 300)
    expect(state.cursor.presence).toBe(0)
    expect(state.agents[other.pk].lastSeen).toBe(NOW)
  })

  it('waits longer for relays that connect but have not been read in full lately', () => {
    const state = emptyState()
    state.relayHealth = {
      'wss://fresh': { lastOk: NOW, lastSynced: NOW - 60 },
      'wss://slow': { lastOk: NOW, lastSynced: NOW - 3600 },
      'wss://never-synced': { lastOk: NOW },
      'wss://dead': { lastError: 'ECONNREFUSED' },
    }
    expect(patientRelays(state, ['wss://fresh', 'wss://slow', 'wss://never-synced', 'wss://dead', 'wss://new'], NOW)).toEqual([
      'wss://slow',
      'wss://never-synced',
    ])
  })

  it('reads presence since the cursor, within the window', () => {
    const state = emptyState()
    expect(presenceFilter(state, NOW, 300).since).toBe(NOW - 300)
    state.cursor = { ...state.cursor, presence: NOW - 30, presenceWindow: 300 }
    expect(presenceFilter(state, NOW, 300).since).toBe(NOW - 150)
    // a wider window than the cursor was read for reads the whole window again
    expect(presenceFilter(state, NOW, 600).since).toBe(NOW - 600)
  })

  it('keeps a gift-wrap cursor per relay: one that was away is read from where it stopped', () => {
    const me = key()
    const state = emptyState()
    const lookback = 2 * 24 * 3600 + 3600
    expect(wrapFilter(state, me.pk, 'wss://a.example', NOW).since).toBe(NOW - lookback)
    const reports = ['wss://a.example', 'wss://b.example'].map((url) => ({ url, connected: true, dropped: 0 }))
    foldSync(state, readsOf([], true, 'wss://a.example', NOW - 7200), reports, me.pk, NOW - 7200, 300)
    foldSync(state, readsOf([], true, 'wss://b.example', NOW - 3600), reports, me.pk, NOW - 3600, 300)
    // a answered an hour later too, b did not
    const later = readsOf([], true, 'wss://a.example')
    later.results.wraps.push({ url: 'wss://b.example', complete: false, top: NOW })
    foldSync(state, later, reports, me.pk, NOW, 300)
    expect(wrapFilter(state, me.pk, 'wss://a.example', NOW).since).toBe(NOW - lookback)
    expect(wrapFilter(state, me.pk, 'wss://b.example', NOW).since).toBe(NOW - 3600 - lookback)
  })

  it('finds which of our events each relay holds', () => {
    const me = key()
    const a = finalizeEvent(presenceEvent(presence, NOW - 50), me.sk)
    const b = finalizeEvent(presenceEvent(presence, NOW - 5), me.sk)
    const outcome = outcomeOf([a, b])
    expect(heldBy(outcome, 'wss://a.example', me.pk, 30078, 'bot')?.id).toBe(b.id)
    expect(heldBy(outcome, 'wss://other.example', me.pk, 30078, 'bot')).toBeUndefined()
    expect(heldBy(outcome, 'wss://a.example', me.pk, 30078, 'someone-else')).toBeUndefined()
  })
})

describe('online agents', () => {
  it('lists newest first within the window, never us, flags shared names', () => {
    const state = emptyState()
    const add = (pubkey: string, name: string, lastSeen: number) =>
      (state.agents[pubkey] = { pubkey, name, about: '', agentId: name, lastSeen })
    add('a'.repeat(64), 'helper', NOW - 10)
    add('b'.repeat(64), 'Helper', NOW - 5)
    add('c'.repeat(64), 'stale', NOW - 400)
    add('d'.repeat(64), 'me', NOW)
    const agents = onlineAgents(state, 'd'.repeat(64), NOW, 300)
    expect(agents.map((a) => a.pubkey)).toEqual(['b'.repeat(64), 'a'.repeat(64)])
    expect(agents.every((a) => a.nameShared)).toBe(true)
  })

  it('an announcement past its NIP-40 expiration is not online, whatever the window', () => {
    const { sk, pk } = key()
    const state = emptyState()
    const parsed = parsePresence(
      finalizeEvent(
        {
          ...presenceEvent(presence, NOW - 100),
          tags: [
            ['t', 'openclaw-p2p'],
            ['d', 'bot'],
            ['expiration', String(NOW - 1)],
          ],
        },
        sk,
      ),
    )
    if (!parsed) throw new Error('not an announcement')
    state.agents[pk] = parsed
    expect(onlineAgents(state, 'd'.repeat(64), NOW, 300)).toEqual([])
    state.agents[pk] = { ...parsed, expiresAt: NOW + 1 }
    expect(onlineAgents(state, 'd'.repeat(64), NOW, 300).map((a) => a.pubkey)).toEqual([pk])
  })
})

describe('state file', () => {
  it('fills in what an older writer lacked', () => {
    const state = parseState(JSON.stringify({ version: 1, agents: {} }))
    expect(state).toEqual(emptyState())
  })
  it('refuses what is not a state document', () => {
    for (const text of ['{', '[]', '{"agents":{}}', '{"version":1,"seen":[]}', '{"version":1,"journal":{}}', '{"version":1,"calls":[]}']) {
      expect(() => parseState(text), text).toThrow()
    }
  })
  it('refuses a state from a newer version with advice', () => {
    expect(() => parseState(JSON.stringify({ version: STATE_VERSION + 1 }))).toThrow(/newer p2p-comm/)
  })
})

describe('config values', () => {
  it('validates each key', () => {
    const { pk } = key()
    expect(parseConfigValue('owner', pk)).toBe(nip19.npubEncode(pk))
    expect(() => parseConfigValue('owner', 'npub1bad')).toThrow(/not an npub/)
    expect(parseConfigValue('relays', 'wss://a.io,wss://b.io')).toEqual(['wss://a.io', 'wss://b.io'])
    expect(parseConfigValue('relays', 'default')).toBeUndefined()
    expect(() => parseConfigValue('relays', 'https://a.io')).toThrow(/not a relay URL/)
    expect(() => parseConfigValue('name', 'two\nlines')).toThrow()
    expect(parseConfigValue('onlineWindow', '600')).toBe(600)
    expect(() => parseConfigValue('onlineWindow', '5')).toThrow()
    expect(parseConfigValue('name', 'unset')).toBeUndefined()
  })
  it('keeps the online window longer than an announcement can be old while its agent runs (issue 23, point 15)', () => {
    expect(() => parseConfigValue('onlineWindow', '30')).toThrow(/renewed once 120 s old/)
    expect(() => parseConfigValue('onlineWindow', String(MIN_ONLINE_WINDOW_S - 1))).toThrow()
    expect(parseConfigValue('onlineWindow', String(MIN_ONLINE_WINDOW_S))).toBe(MIN_ONLINE_WINDOW_S)
    expect(MIN_ONLINE_WINDOW_S).toBeGreaterThan(PRESENCE_REFRESH_S)
    // a window set by an older version is ignored, with a warning, until it is set again
    const home = mkdtempSync(join(tmpdir(), 'p2p-config-'))
    writeFileSync(join(home, 'p2p-config.json'), JSON.stringify({ onlineWindow: 30, name: 'kept' }))
    const warnings: string[] = []
    expect(loadConfig(homePaths({ P2P_HOME: home }), (w) => warnings.push(w))).toEqual({ name: 'kept' })
    expect(warnings.join('\n')).toMatch(/onlineWindow is not valid/)
  })
})

describe('output helpers', () => {
  it('suggests the nearest command for a typo', () => {
    expect(unknownCommand('Unknown argument: statsu', ['status', 'list']).hint).toMatch(/node p2p.js status/)
    expect(unknownCommand('Unknown argument: zzzzzz', ['status', 'list']).hint).toMatch(/--help/)
  })
  it('groups thousands as en-US does', () => {
    for (const n of [0, 7, 999, 1_000, 36_054, 123_456, 1_000_000, 12_345_678_901]) expect(thousands(n)).toBe(n.toLocaleString('en-US'))
  })
  it('formats relative times and aligned tables', () => {
    expect(ago(NOW - 2, NOW)).toBe('just now')
    expect(ago(NOW - 5, NOW)).toBe('5 s ago')
    expect(ago(NOW - 180, NOW)).toBe('3 min ago')
    expect(ago(NOW - 7200, NOW)).toBe('2 h ago')
    expect(
      table([
        ['a', 'x'],
        ['long', 'y'],
      ]),
    ).toEqual(['a     x', 'long  y'])
  })
  it('keeps VERSION in step with package.json', () => {
    expect(VERSION).toBe(JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version)
  })
})
