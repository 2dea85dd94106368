// Relays that answer nothing (issue 13, point 4): remembered, then tried in the background of
// later runs without holding up the others, with a back-off before they are waited for again;
// `status` still shows them. The rule in grace.ts and fold.ts, then the built CLI end to end.

import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { graced, HELD_BACK } from '../lib/nostr/relay/grace.ts'
import type { QueryResult, RelayPool } from '../lib/nostr/relay/pool.ts'
import type { Context } from '../lib/session/context.ts'
import { foldSync, type SyncReads } from '../lib/session/fold.ts'
import { indexersToNote, noteIndexers } from '../lib/session/indexers.ts'
import { patientRelays, silentRelays } from '../lib/session/silence.ts'
import { emptyState } from '../lib/store/schema.ts'
import { SILENT_RETRY_MAX_S, SILENT_RETRY_S } from '../lib/timing.ts'
import { agent } from './helpers/cli.ts'
import { startBlackHole, startRelay, type TestRelay } from './helpers/relay.ts'

const NOW = 1_800_000_000

/** A relay in graced(): answers `ok` after `ms`, or never (undefined). */
interface Fake {
  url: string
  ms?: number
  ok?: boolean
}
const never = new Promise<QueryResult>(() => {})
function race(relays: Fake[], heldBack: string[]): Promise<QueryResult[]> {
  return graced(
    relays,
    (r) =>
      r.ms === undefined ? never : new Promise((resolve) => setTimeout(() => resolve({ url: r.url, complete: r.ok !== false }), r.ms)),
    (q) => q.complete,
    (r, reason) => ({ url: r.url, complete: false, reason }),
    (r) => heldBack.includes(r.url),
  )
}

describe('the grace rule with relays held back', () => {
  it('gives up on a held-back relay as soon as the others are done, without a grace period', async () => {
    const started = Date.now()
    const results = await race([{ url: 'a', ms: 5 }, { url: 'b', ms: 20 }, { url: 'hole' }], ['hole'])
    expect(results.map((r) => r.complete)).toEqual([true, true, false])
    expect(results[2].reason).toBe(HELD_BACK)
    // a grace period would have taken at least GRACE_MIN_MS (500 ms)
    expect(Date.now() - started).toBeLessThan(400)
  })

  it('uses what a held-back relay gave when it answered before the others were done', async () => {
    const results = await race(
      [
        { url: 'a', ms: 60 },
        { url: 'back', ms: 5 },
      ],
      ['back'],
    )
    expect(results).toEqual([
      { url: 'a', complete: true },
      { url: 'back', complete: true },
    ])
  })

  it('waits for held-back relays as for any when none of the others answered well', async () => {
    const results = await race(
      [
        { url: 'a', ms: 1, ok: false },
        { url: 'back', ms: 40 },
      ],
      ['back'],
    )
    expect(results[1]).toEqual({ url: 'back', complete: true })
  })

  it('holds back nothing when every relay is held back (an operation to those relays alone)', async () => {
    const results = await race(
      [
        { url: 'x', ms: 5 },
        { url: 'y', ms: 50 },
      ],
      ['x', 'y'],
    )
    expect(results.map((r) => r.complete)).toEqual([true, true])
  })
})

describe('remembering relays that answered nothing', () => {
  const reads = (answered: string[]): SyncReads => {
    const results = answered.map((url) => ({ url, complete: true }))
    return { events: [], results: { presence: results, lists: results, wraps: results.map((r) => ({ ...r, top: 0 })) } }
  }
  const live = { url: 'wss://live', connected: true, dropped: 0 }
  const hole = { url: 'wss://hole', connected: false, error: 'connect timed out', dropped: 0 }

  it('marks it, backs off (doubling, capped) after each full chance it misses, keeps the mark while held back, clears it on an answer', () => {
    const state = emptyState()
    foldSync(state, reads(['wss://live']), [live, hole], 'me', NOW, 300)
    expect(state.relayHealth['wss://hole']).toMatchObject({ silentSince: NOW, retryAt: NOW + SILENT_RETRY_S })
    expect(state.relayHealth['wss://live'].silentSince).toBeUndefined()
    expect(silentRelays(state, ['wss://live', 'wss://hole'], NOW + 1)).toEqual(['wss://hole'])
    // held back and silent again: the mark and its back-off stand
    foldSync(state, reads(['wss://live']), [live, { ...hole, heldBack: true }], 'me', NOW + 10, 300)
    expect(state.relayHealth['wss://hole']).toMatchObject({ silentSince: NOW, retryAt: NOW + SILENT_RETRY_S })
    // its full chance is due, and it misses it: twice as long
    const due = NOW + SILENT_RETRY_S
    expect(silentRelays(state, ['wss://hole'], due)).toEqual([])
    foldSync(state, reads(['wss://live']), [live, hole], 'me', due, 300)
    expect(state.relayHealth['wss://hole']).toMatchObject({ silentSince: NOW, retryAt: due + 2 * SILENT_RETRY_S })
    for (let i = 0; i < 20; i++) foldSync(state, reads(['wss://live']), [live, hole], 'me', due, 300)
    expect(state.relayHealth['wss://hole'].retryAt).toBe(due + SILENT_RETRY_MAX_S)
    // it answers, held back or not: the mark goes
    foldSync(state, reads(['wss://live', 'wss://hole']), [live, { ...hole, connected: true, heldBack: true }], 'me', due + 5, 300)
    expect(state.relayHealth['wss://hole'].silentSince).toBeUndefined()
    expect(state.relayHealth['wss://hole'].retryAt).toBeUndefined()
    expect(silentRelays(state, ['wss://hole'], due + 6)).toEqual([])
  })

  it('notes an indexer once a run, however many lookups the run makes; one that connected is not silent', () => {
    const state = emptyState()
    const ctx = { indexers: ['wss://hole', 'wss://slow'], relays: ['wss://live'] } as unknown as Context
    const pool = {
      reports: (urls: string[]) => urls.map((url) => ({ url, connected: url === 'wss://slow', dropped: 0 })),
    } as unknown as RelayPool
    const nothing = { events: [], seenOn: new Map(), results: [] }
    for (let lookup = 0; lookup < 3; lookup++) noteIndexers(ctx, state, pool, nothing, NOW)
    expect(state.relayHealth['wss://hole']).toMatchObject({ silentSince: NOW, retryAt: NOW + SILENT_RETRY_S, retryAfterS: SILENT_RETRY_S })
    expect(state.relayHealth['wss://slow']?.silentSince).toBeUndefined()
    expect(indexersToNote(ctx, pool)).toEqual([])
  })

  it('does not wait until the deadline for a relay that connects but never sends EOSE, while it is held back', () => {
    const state = emptyState()
    const mute = { url: 'wss://mute', connected: true, dropped: 0 }
    foldSync(state, reads(['wss://live']), [live, mute], 'me', NOW - 3600, 300)
    expect(state.relayHealth['wss://mute'].lastSynced).toBeUndefined()
    expect(patientRelays(state, ['wss://mute'], NOW - 3600 + 1)).toEqual([])
    // its full chance: patient again (a slow relay is still read in full now and then)
    expect(patientRelays(state, ['wss://mute'], NOW)).toEqual(['wss://mute'])
  })
})

describe('a black hole among live relays (end to end)', () => {
  let r1: TestRelay
  let r2: TestRelay
  let hole: { url: string; stop(): Promise<void> }
  beforeAll(async () => {
    ;[r1, r2, hole] = await Promise.all([startRelay(), startRelay(), startBlackHole()])
  })
  afterAll(async () => {
    await Promise.all([r1.stop(), r2.stop(), hole.stop()])
  })

  it('waits for it once, then no more; status shows it; once it answers again the mark goes', async () => {
    const a = agent([r1.url, r2.url, hole.url])
    const stateFile = join(a.home, 'p2p-state.json')
    const health = () => JSON.parse(readFileSync(stateFile, 'utf8')).relayHealth[hole.url]
    // a long deadline: its connect timeout (5 s) never decides anything here
    const timeout = ['--timeout', '20000']

    const first = await a.run(['poll', '--verbose', ...timeout])
    expect(first.code).toBe(0)
    // given up on after the grace period (or, on a machine slow enough, at its connect timeout)
    expect(first.stderr).toMatch(new RegExp(`${hole.url} (slower than the other relays|unreachable after)`))
    const marked = health()
    expect(marked).toMatchObject({ silentSince: expect.any(Number), retryAt: expect.any(Number) })

    const later = await a.run(['poll', '--verbose', ...timeout])
    expect(later.code).toBe(0)
    expect(later.stdout).toBe('')
    // it was tried (its connection opened) and given up on once the live relays were done, not after a grace period
    expect(later.stderr).toContain(`${hole.url} ${HELD_BACK}`)
    expect(later.stderr).not.toContain(`${hole.url} slower than the other relays`)
    expect(later.stderr).not.toMatch(new RegExp(`${hole.url} (connected|unreachable)`))
    expect(later.ms).toBeLessThan(5_000) // sanity only: well under its connect timeout
    expect(health()).toMatchObject({ silentSince: marked.silentSince, retryAt: marked.retryAt })

    const status = await a.run(['status', '--json', ...timeout])
    expect(status.code).toBe(0)
    expect(status.json().relays.find((r: { url: string }) => r.url === hole.url)).toMatchObject({
      connected: false,
      silentSince: marked.silentSince,
      retryAt: marked.retryAt,
    })
    const plain = await a.run(['status', ...timeout])
    expect(plain.stdout).toMatch(/2 of 3 reachable/)
    // its minute of back-off reads `in 1 min` when this run starts within the second that set it
    expect(plain.stdout).toMatch(/answered nothing since .*waited for again in (\d+ s|1 min)/)

    // it becomes a real relay again; its back-off has run out (as if a minute had passed)
    const port = Number(new URL(hole.url).port)
    await hole.stop()
    const revived = await startRelay({ port })
    hole = revived
    const state = JSON.parse(readFileSync(stateFile, 'utf8'))
    state.relayHealth[revived.url].retryAt = Math.floor(Date.now() / 1000) - 1
    writeFileSync(stateFile, JSON.stringify(state))
    const again = await a.run(['status', '--json', '--verbose', ...timeout])
    expect(again.code).toBe(0)
    expect(again.stderr).toContain(`${revived.url} connected`)
    expect(again.json().relays.find((r: { url: string }) => r.url === revived.url)).toMatchObject({ connected: true, synced: true })
    expect(again.json().relays.find((r: { url: string }) => r.url === revived.url).silentSince).toBeUndefined()
    expect(health().silentSince).toBeUndefined()
  })

  it('an indexer that answers nothing is waited for by one peer-list lookup, then held back by the next ones', async () => {
    // a black hole of its own (the test above revived its own as a relay)
    const indexer = await startBlackHole()
    const a = agent([r1.url])
    expect((await a.run(['config', 'set', 'indexers', indexer.url])).code).toBe(0)
    const health = () => JSON.parse(readFileSync(join(a.home, 'p2p-state.json'), 'utf8')).relayHealth[indexer.url]
    const peers = [agent([r1.url]), agent([r1.url])]
    for (const p of peers) expect((await p.run(['status'])).code).toBe(0)
    const npubOf = async (p: (typeof peers)[number]) => (await p.run(['whoami', '--json'])).json().npub as string

    const first = await a.run(['call', await npubOf(peers[0]), 'first', '--verbose', '--timeout', '20000'])
    expect(first.code, first.stderr).toBe(0)
    expect(first.stderr).not.toContain(`${indexer.url} ${HELD_BACK}`)
    const marked = health()
    expect(marked).toMatchObject({ silentSince: expect.any(Number), retryAt: expect.any(Number) })

    expect((await a.run(['end'])).code).toBe(0)
    // our lists are due to go to the indexers again (as an hour after the failure): not to this one
    const file = join(a.home, 'p2p-state.json')
    writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), indexed: undefined }))
    const second = await a.run(['call', await npubOf(peers[1]), 'second', '--verbose', '--timeout', '20000'])
    expect(second.code, second.stderr).toBe(0)
    // not waited for: given up on once our relay had answered
    expect(second.stderr).toContain(`${indexer.url} ${HELD_BACK}`)
    expect(second.stderr).not.toContain(`${indexer.url} > ["EVENT"`)
    expect(second.stderr).not.toMatch(/indexers: lists and profile/)
    expect(health()).toMatchObject({ silentSince: marked.silentSince, retryAt: marked.retryAt })
    await indexer.stop()
  })
})
