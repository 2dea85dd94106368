// Where each relay's gift-wrap read starts and what it leaves for the next run (fold.ts: wrapPlan,
// foldSync), without a network; and reading page by page past a deadline or a page budget
// (relay/pages.ts) against a real relay: run after run, nothing skipped, piles of one second
// split across pages included.
import { finalizeEvent, generateSecretKey, getPublicKey } from 'nostr-tools/pure'
import { describe, expect, it } from 'vitest'
import { readPages } from '../lib/nostr/relay/pages.ts'
import { RelaySocket } from '../lib/nostr/relay/socket.ts'
import { foldSync, type SyncReads, type WrapResult, wrapPlan } from '../lib/session/fold.ts'
import { emptyState, type State } from '../lib/store/schema.ts'
import { NEG_PROBE_KNOWN_MS, NEG_PROBE_MS } from '../lib/timing.ts'
import { agent } from './helpers/cli.ts'
import { inject, whoami } from './helpers/inject.ts'
import { startRelay } from './helpers/relay.ts'
import { publishAll } from './helpers/stranger.ts'

const NOW = 1_800_000_000
const LOOKBACK = 2 * 24 * 3600 + 3600
const SKEW = 120
const URL = 'wss://a.example'
const ME = 'ab'.repeat(32)

/** Folds reads of URL; a complete one was served a wrap dated as late as the read began, unless
 *  it says. */
const fold = (state: State, wraps: Array<Partial<WrapResult>>, now: number) => {
  const read = (w: Partial<WrapResult>) => ({
    url: URL,
    complete: false,
    top: now,
    ...w,
    served: 'served' in w ? w.served : w.complete ? (w.top ?? now) : undefined,
  })
  const reads: SyncReads = { events: [], results: { presence: [], lists: [], wraps: wraps.map(read) } }
  foldSync(state, reads, [{ url: URL, connected: true, dropped: 0 }], ME, now, 300)
}

describe('the gift-wrap cursor of one relay', () => {
  it('starts with the newest page of the whole window, by NIP-77 first', () => {
    const plan = wrapPlan(emptyState(), ME, URL, NOW)
    expect(plan.window).toMatchObject({ kinds: [1059], '#p': [ME], since: NOW - LOOKBACK, until: NOW + SKEW })
    expect(plan.pages).toEqual(plan.window)
    expect(plan).toMatchObject({ top: NOW, negentropy: true })
  })

  it('NIP-77 after each kind of answer: a relay that reconciled gets a longer probe; one not trusted is read page by page for a day', () => {
    const state = emptyState()
    expect(wrapPlan(state, ME, URL, NOW)).toMatchObject({ negentropy: true, negProbeMs: NEG_PROBE_MS })
    fold(state, [{ complete: true, negentropy: 'ok' }], NOW)
    expect(wrapPlan(state, ME, URL, NOW + 60)).toMatchObject({ negentropy: true, negProbeMs: NEG_PROBE_KNOWN_MS })
    fold(state, [{ complete: true, negentropy: 'untrusted' }], NOW + 60)
    expect(state.relayHealth[URL]).toMatchObject({ negentropy: false, negentropyCheckedAt: NOW + 60 })
    expect(wrapPlan(state, ME, URL, NOW + 3_600)).toMatchObject({ negentropy: false })
    expect(wrapPlan(state, ME, URL, NOW + 60 + 24 * 3600)).toMatchObject({ negentropy: true, negProbeMs: NEG_PROBE_MS })
  })

  it('goes on from where a read page by page stopped, and once through moves to when that read began', () => {
    const state = emptyState()
    state.giftWrapCursors[URL] = NOW - 3_600
    // run 1 stopped short (deadline, page budget) after reading back to NOW - 50,000
    fold(state, [{ pagedTo: NOW - 50_000, reason: 'no EOSE before the deadline' }], NOW)
    expect(state.giftWrapCursors[URL]).toBe(NOW - 3_600)
    expect(state.relayHealth[URL].wrapPaging).toMatchObject({ top: NOW, until: NOW - 50_000 })
    // run 2, ten minutes later: the same window, from there (inclusive: that second may hold more)
    const plan = wrapPlan(state, ME, URL, NOW + 600)
    expect(plan.pages).toMatchObject({ since: NOW - 3_600 - LOOKBACK, until: NOW - 50_000 })
    expect(plan.window).toMatchObject({ since: NOW - 3_600 - LOOKBACK, until: NOW + 600 + SKEW })
    expect(plan.top).toBe(NOW)
    fold(state, [{ pagedTo: NOW - 120_000, top: plan.top }], NOW + 600)
    expect(state.relayHealth[URL].wrapPaging).toMatchObject({ top: NOW, until: NOW - 120_000 })
    // run 3 reaches the end of the window: everything published before run 1 began is read
    fold(state, [{ complete: true, top: wrapPlan(state, ME, URL, NOW + 1_200).top }], NOW + 1_200)
    expect(state.giftWrapCursors[URL]).toBe(NOW)
    expect(state.relayHealth[URL].wrapPaging).toBeUndefined()
    expect(wrapPlan(state, ME, URL, NOW + 1_800)).toMatchObject({
      top: NOW + 1_800,
      pages: { since: NOW - LOOKBACK, until: NOW + 1_800 + SKEW },
    })
  })

  it('keeps the progress of a read that did not get past its first page, and of one cut off with nothing new', () => {
    const state = emptyState()
    fold(state, [{ pagedTo: NOW + SKEW }], NOW)
    expect(state.relayHealth[URL].wrapPaging).toMatchObject({ top: NOW, until: NOW + SKEW })
    // unreachable this time: no read, nothing changes
    fold(state, [{ top: NOW + 60 }], NOW + 60)
    expect(state.relayHealth[URL].wrapPaging).toMatchObject({ top: NOW, until: NOW + SKEW })
    expect(state.giftWrapCursors[URL]).toBeUndefined()
  })

  it('of two overlapping runs going on from one place, keeps the one that got further back', () => {
    const state = emptyState()
    state.relayHealth[URL] = { wrapPaging: { top: NOW - 600, until: NOW - 9_000 } }
    fold(state, [{ pagedTo: NOW - 20_000, top: NOW - 600 }], NOW)
    fold(state, [{ pagedTo: NOW - 15_000, top: NOW - 600 }], NOW)
    expect(state.relayHealth[URL].wrapPaging).toMatchObject({ top: NOW - 600, until: NOW - 20_000 })
  })

  it('forgets a read page by page once the cursor has passed it (NIP-77, or another run, completed)', () => {
    const state = emptyState()
    state.relayHealth[URL] = { wrapPaging: { top: NOW - 600, until: NOW - 9_000 } }
    fold(state, [{ complete: true, negentropy: 'ok', top: NOW }], NOW)
    expect(state.giftWrapCursors[URL]).toBe(NOW)
    expect(state.relayHealth[URL]).toMatchObject({ negentropy: true, negentropyCheckedAt: NOW })
    expect(state.relayHealth[URL].wrapPaging).toBeUndefined()
    // a stale record (a run that began before the cursor moved) is not resumed, nor written back
    state.relayHealth[URL].wrapPaging = { top: NOW - 60, until: NOW - 9_000 }
    expect(wrapPlan(state, ME, URL, NOW + 60)).toMatchObject({ top: NOW + 60, pages: { until: NOW + 60 + SKEW } })
    fold(state, [{ pagedTo: NOW - 10_000, top: NOW - 60 }], NOW + 60)
    expect(state.relayHealth[URL].wrapPaging).toBeUndefined()
    // the cursor never goes back
    fold(state, [{ complete: true, top: NOW - 60 }], NOW + 60)
    expect(state.giftWrapCursors[URL]).toBe(NOW)
  })

  it('moves no further than the newest wrap served, over every run of a read page by page (issue 23, point 13)', () => {
    const state = emptyState()
    // served nothing: no further than the lookback behind the read (a clock that far ahead
    // still reads every wrap later, and a quiet relay's window does not grow)
    fold(state, [{ complete: true, served: undefined }], NOW)
    expect(state.giftWrapCursors[URL]).toBe(NOW - LOOKBACK)
    fold(state, [{ complete: true, served: undefined }], NOW + 600)
    expect(state.giftWrapCursors[URL]).toBe(NOW + 600 - LOOKBACK)
    // a run whose clock is a day ahead, served wraps up to an hour after the cursor
    fold(state, [{ complete: true, top: NOW + 86_400, served: NOW + 3_600 }], NOW + 86_400)
    expect(state.giftWrapCursors[URL]).toBe(NOW + 3_600)
    // older wraps only: the cursor stays
    fold(state, [{ complete: true, top: NOW + 7_200, served: NOW - 50_000 }], NOW + 7_200)
    expect(state.giftWrapCursors[URL]).toBe(NOW + 3_600)
    // a read page by page over two runs: the first run saw the newest page
    fold(state, [{ pagedTo: NOW - 9_000, top: NOW + 90_000, served: NOW + 10_000 }], NOW + 90_000)
    expect(state.relayHealth[URL].wrapPaging).toMatchObject({ top: NOW + 90_000, until: NOW - 9_000, served: NOW + 10_000 })
    fold(state, [{ complete: true, top: NOW + 90_000, served: NOW - 20_000 }], NOW + 90_600)
    expect(state.giftWrapCursors[URL]).toBe(NOW + 10_000)
    expect(state.relayHealth[URL].wrapPaging).toBeUndefined()
  })

  it('remembers a relay that does not speak NIP-77, and asks it again a day later', () => {
    const state = emptyState()
    fold(state, [{ negentropy: 'unsupported', pagedTo: NOW - 100 }], NOW)
    expect(state.relayHealth[URL]).toMatchObject({ negentropy: false, negentropyCheckedAt: NOW })
    expect(wrapPlan(state, ME, URL, NOW + 3_600).negentropy).toBe(false)
    expect(wrapPlan(state, ME, URL, NOW + 24 * 3600).negentropy).toBe(true)
  })

  it('asks a relay that did not answer at all (maybe only slow) again an hour later, not a day', () => {
    const state = emptyState()
    fold(state, [{ negentropy: 'silent', pagedTo: NOW - 100 }], NOW)
    expect(state.relayHealth[URL]).toMatchObject({ negentropy: false, negentropySilent: true })
    expect(wrapPlan(state, ME, URL, NOW + 3_599).negentropy).toBe(false)
    expect(wrapPlan(state, ME, URL, NOW + 3_600).negentropy).toBe(true)
    fold(state, [{ negentropy: 'unsupported' }], NOW + 3_600) // then it refused: a day
    expect(state.relayHealth[URL].negentropySilent).toBeUndefined()
    expect(wrapPlan(state, ME, URL, NOW + 7_200).negentropy).toBe(false)
  })
})

describe('reading page by page (relay/pages.ts)', () => {
  it('goes on from where it stopped, run after run, and skips nothing at page boundaries within one second', async () => {
    const relay = await startRelay({ negentropy: 'off' })
    try {
      const me = getPublicKey(generateSecretKey())
      const base = Math.floor(Date.now() / 1000) - 3_600
      // 60 wraps in piles of 1 to 5 sharing a second (pages are 5): pages end inside piles
      const piles = [3, 5, 2, 4, 1, 5, 5, 3, 4, 2, 5, 1, 4, 3, 5, 4, 4]
      const dates = piles.flatMap((size, i) => Array.from({ length: size }, () => base - i * 10))
      const wraps = dates.map((at, i) =>
        finalizeEvent({ kind: 1059, created_at: at, tags: [['p', me]], content: `w${i}` }, generateSecretKey()),
      )
      await publishAll(relay.url, wraps)
      const socket = new RelaySocket(relay.url, { log: () => {} })
      await socket.connect(2_000)
      const filter = { kinds: [1059], '#p': [me], since: base - 86_400, until: base + 60 }
      const got: string[] = []
      let until = filter.until
      let runs = 0
      for (; runs < 40; runs++) {
        // three pages of five per run, as if the deadline came there
        const r = await readPages(socket, { ...filter, until }, Date.now() + 5_000, (e, known) => known || got.push(e.id), 3, {
          limit: 5,
          known: (id) => got.includes(id),
        })
        if (r.complete) break
        expect(r.pagedTo).toBeLessThanOrEqual(until)
        until = r.pagedTo ?? until
      }
      socket.close()
      expect(runs).toBeGreaterThan(3)
      expect(got.length).toBe(60)
      expect(new Set(got)).toEqual(new Set(wraps.map((w) => w.id)))
    } finally {
      await relay.stop()
    }
  })
})

describe('a run whose clock is a day ahead (issue 23, point 13)', () => {
  const DAY = 24 * 3600
  const hoursAgo = (h: number) => Math.floor(Date.now() / 1000) - h * 3600

  it('moves the cursor no further than the newest wrap the relay served: later messages are all read', async () => {
    const relay = await startRelay()
    try {
      const bob = agent([relay.url])
      const { pubkey } = await whoami(bob)
      const stranger = generateSecretKey()
      const dm = (text: string, wrapAt: number) => inject(relay.url, { type: 'dm', text }, { author: stranger, to: pubkey, wrapAt })
      await dm('before', hoursAgo(1))
      const ahead = await bob.run(['poll', '--json'], { env: { P2P_TEST_CLOCK_OFFSET_S: String(DAY) } })
      expect(ahead.code, ahead.stderr).toBe(0)
      expect(ahead.json().events.map((e: { text: string }) => e.text)).toEqual(['before'])
      // twenty later messages, their wraps dated 26 to 45 hours back, as NIP-59 may date them
      const texts = Array.from({ length: 20 }, (_, i) => `later ${i}`)
      for (const [i, text] of texts.entries()) await dm(text, hoursAgo(26 + i))
      const later = await bob.run(['poll', '--json'])
      expect(later.code, later.stderr).toBe(0)
      expect(
        later
          .json()
          .events.map((e: { text: string }) => e.text)
          .sort(),
      ).toEqual([...texts].sort())
    } finally {
      await relay.stop()
    }
  })
})
