// One sync: read our own lists, the gift wraps since the cursor and the announcements the
// command needs (discovery.ts) from every relay,
// open the wraps, fold everything into the state under the lock, journal the new events, write
// the transcripts that changed, then send the machine's automatic answers (best effort).

import type { Event } from 'nostr-tools/pure'
import type { Incoming } from '../calls/inputs.ts'
import { journal } from '../calls/journal.ts'
import { applyIncoming } from '../calls/machine.ts'
import { MAX_KNOWN_PEERS, PROGRESS_FROM_WRAPS } from '../limits.ts'
import { LEGACY_DM_KIND, PRESENCE_KIND, PRESENCE_TOPIC } from '../nostr/kinds.ts'
import { openLegacyDms } from '../nostr/legacy.ts'
import { openWraps } from '../nostr/nip17.ts'
import type { QueryOutcome, RelayPool, RelayReport } from '../nostr/relay/pool.ts'
import { signerFor } from '../nostr/schnorr.ts'
import type { State } from '../store/schema.ts'
import { RELAY_INFO_RECHECK_S, unixNow } from '../timing.ts'
import type { Context } from './context.ts'
import { type Discovery, lookupFilters, readCrowd } from './discovery.ts'
import { receiveFiles } from './files.ts'
import { announcedAgents, foldSync, legacyPlan, listFilters, presenceFilter, type SyncReads, unreadRelays } from './fold.ts'
import { replyBestEffort } from './outbox.ts'
import { readPaged } from './paging.ts'
import { readWraps } from './reconcile.ts'
import { patientRelays, silentRelays } from './silence.ts'
import type { Online } from './synced.ts'
import { saveTranscript } from './transcripts.ts'

export interface SyncOptions {
  /** what goes out in the same flight as the sync's reads, given the state they start from */
  alongside?: (before: State) => void
  /** whose announcements to ask for beyond ours and our peers' */
  discovery?: Discovery
}

export async function sync(ctx: Context, pool: RelayPool, { alongside, discovery = {} }: SyncOptions = {}): Promise<Online> {
  const me = ctx.identity.pubkey
  const before = await ctx.store.read()
  const started = unixNow()
  const knownPresence = new Set(Object.values(before.agents).map((a) => a.eventId))
  const patient = patientRelays(before, ctx.relays, started)
  // indexers too: one that answered nothing is not waited for by the peer-list lookups
  pool.holdBack(silentRelays(before, [...ctx.relays, ...ctx.indexers], started))
  pool.knowPageCaps(before.relayHealth)
  alongside?.(before)
  // the WASM signer loads while the relays connect, not after one asks for AUTH
  if (ctx.relays.some((url) => before.relayHealth[url]?.asksAuth)) void signerFor()
  pool.askMaxLimits(ctx.relays.filter((url) => started - (before.relayHealth[url]?.infoCheckedAt ?? 0) >= RELAY_INFO_RECHECK_S))
  // our relays only: the pool may hold others too (the indexers a lookup alongside opened, a
  // peer's inbox relays in a later sync of poll --wait)
  const relays = ctx.relays
  const [lists, presence, lookup, wrapped, legacy] = await Promise.all([
    // our own announcements and lists only tell what a relay holds, for republishing
    pool.query(
      listFilters(before, me, started, ctx.onlineWindow),
      { patient, known: (id) => knownPresence.has(id), trusted: (e) => e.pubkey === me },
      relays,
    ),
    discovery.crowd
      ? readCrowd(pool, presenceFilter(before, started, ctx.onlineWindow), discovery.crowd, {
          patient,
          known: (id) => knownPresence.has(id),
          relays,
          log: ctx.out.log,
        })
      : undefined,
    // every match, announcements already seen too: the command answers from what it found
    discovery.lookup ? pool.query(lookupFilters(discovery.lookup, before, started, ctx.onlineWindow), { patient }, relays) : undefined,
    // by NIP-77 where the relay speaks it, else page by page from where the last run stopped
    readWraps(pool, before, me, started, { patient, log: ctx.out.log, relays }),
    // the original skill's DMs, only when asked for (they show relays who talks to whom)
    ctx.legacy
      ? readPaged(pool, (url) => legacyPlan(before, me, url, started), {
          patient,
          known: (id) => before.seen.has(id),
          log: ctx.out.log,
          relays,
        })
      : undefined,
  ])
  const reports = pool.reports(relays)
  const outcome = [presence, lookup].reduce<QueryOutcome>((all, more) => (more ? mergeOutcomes(all, more) : all), lists)
  const results = { lists: lists.results, presence: presence?.results, wraps: wrapped.results, legacy: legacy?.results }
  const reads: SyncReads = { events: outcome.events, results }
  const received = await receive(ctx, pool, before, [...wrapped.events, ...(legacy?.events ?? [])], reads, reports)
  const found = announcedAgents([...(lookup?.events ?? []), ...(presence?.events ?? [])], me, unixNow())
  return { pool, outcome, wrapResults: wrapped.results, reports, unread: unreadRelays(ctx.relays, reads, reports), found, ...received }
}

/** What a sync did to the state. */
export type Received = Pick<Online, 'state' | 'summary' | 'applied'>

/** Opens gift wraps (and the original skill's NIP-04 DMs), receives their files, folds them and what was read (`reads`, `reports`)
 *  into the state under the lock, journals the new events, writes the transcripts that changed,
 *  then sends the machine's automatic answers: the one path for a sync and for what the live
 *  feed of `poll --wait` delivered (no reads, no reports). `before` is the state the wraps were
 *  read against. */
export async function receive(
  ctx: Context,
  pool: RelayPool,
  before: State,
  wraps: Event[],
  reads: SyncReads,
  reports: RelayReport[],
  what = 'sync',
): Promise<Received> {
  const me = ctx.identity.pubkey
  const done = wraps.length > PROGRESS_FROM_WRAPS ? ctx.out.progress(`opening ${wraps.length} messages`) : () => {}
  const isLegacy = (e: Event) => e.kind === LEGACY_DM_KIND
  const { opened, dropped } = await openWraps(
    wraps.filter((e) => !isLegacy(e)),
    me,
    ctx.identity.secretKey,
    unixNow(),
    ctx.out.log,
  ).finally(done)
  const legacy = openLegacyDms(wraps.filter(isLegacy), me, ctx.identity.secretKey, ctx.out.log)
  const items = receiveFiles(ctx.paths, [...opened, ...legacy], before, ctx.out)
  const read = await withCallers(ctx, pool, before, items, reads)
  const now = unixNow()
  const { state, summary, applied } = await ctx.store.update((s) => {
    // another run may have processed some of these wraps since we read the state
    const fresh = items.filter((i: Incoming) => !i.wrapId || !s.seen.has(i.wrapId))
    for (const w of wraps) s.seen.add(w.id, w.created_at)
    const summary = foldSync(s, read, reports, me, now, ctx.onlineWindow)
    const applied = applyIncoming(s, fresh, me, now, ctx.ownerPubkey, {
      accept: ctx.config.accept,
      maxCalls: ctx.maxCalls,
      idleS: ctx.idleS,
    })
    journal(s, applied.events, applied.logged)
    for (const id of applied.finished) saveTranscript(ctx, s, id)
    return { state: s, summary, applied }
  })
  for (const why of applied.ignored) ctx.out.log(`ignored ${why}`)
  ctx.out.log(
    `${what}: ${read.events.length} announcements and lists, ${wraps.length} gift wraps (${dropped} dropped), ${applied.events.length} new call events, ${applied.ignored.length} ignored`,
  )
  // the machine's automatic answers (busy, too late): best effort, never queued
  if (applied.replies.length) await replyBestEffort(ctx, pool, state, applied.replies)
  return { state, summary, applied }
}

/** With the announcements of new callers: a run that does not read everyone's (discovery.ts)
 *  asks for those of the keys whose call request it got and knows no name of, by key, so that
 *  the request says who calls. A round more, only in a run that brings such a request. */
async function withCallers(ctx: Context, pool: RelayPool, before: State, items: Incoming[], reads: SyncReads): Promise<SyncReads> {
  const heard = new Set(reads.events.map((e) => e.pubkey))
  const callers = [
    ...new Set(items.filter((i) => i.msg.type === 'call-request' && !before.agents[i.from] && !heard.has(i.from)).map((i) => i.from)),
  ]
  if (!callers.length) return reads
  const since = unixNow() - ctx.onlineWindow
  const filter = { kinds: [PRESENCE_KIND], authors: callers.slice(0, MAX_KNOWN_PEERS), '#t': [PRESENCE_TOPIC], since }
  const found = await pool.query([filter], {}, ctx.relays)
  return { ...reads, events: [...reads.events, ...found.events] }
}

/** Two queries' events as one outcome (an event served by both is listed once). */
function mergeOutcomes(a: QueryOutcome, b: QueryOutcome): QueryOutcome {
  const seenOn = new Map(a.seenOn)
  for (const [id, urls] of b.seenOn) seenOn.set(id, new Set([...(seenOn.get(id) ?? []), ...urls]))
  const ids = new Set(a.events.map((e) => e.id))
  return { events: [...a.events, ...b.events.filter((e) => !ids.has(e.id))], seenOn, results: [...a.results, ...b.results] }
}
