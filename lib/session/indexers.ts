// Indexer relays (NIP-65): our relay lists and profile go there too, so that clients which look
// people up on indexers (as phone clients do for the owner's replies) find where we read; and
// a peer's or the owner's lists are looked up there, together with our relays. Publishing there
// is not paid by every run: only when what we say or where we say it changed, once a day, or an
// hour after a failure.
import type { Filter } from 'nostr-tools/filter'
import { sha256Hex } from '../encoding.ts'
import { inboxRelaysEvent, relayListEvent } from '../nostr/nip65.ts'
import { type Presence, profileEvent } from '../nostr/presence.ts'
import type { QueryOutcome, RelayPool } from '../nostr/relay/pool.ts'
import { healthOf } from '../store/relay-health.ts'
import type { State } from '../store/schema.ts'
import { INDEXER_REFRESH_S, INDEXER_RETRY_S, unixNow } from '../timing.ts'
import type { Context } from './context.ts'
import { signer } from './sign.ts'
import { noteSilence, silentRelays } from './silence.ts'
import type { Online } from './synced.ts'

/** Publishes our lists and profile to the indexers when due; records how it went. */
export async function announceToIndexers(ctx: Context, online: Online, presence: Presence, deadline: number): Promise<void> {
  if (ctx.indexers.length === 0) return
  const now = unixNow()
  // what the three events say (both lists name ctx.relays) and where they go: new indexers get
  // them on the next run, not a day later
  const digest = sha256Hex(JSON.stringify([ctx.relays, presence.name, presence.about, ctx.indexers]))
  const last = online.state.indexed
  const fresh = last?.digest === digest && last.at > now - (last.ok ? INDEXER_REFRESH_S : INDEXER_RETRY_S)
  // not to an indexer that answered nothing lately (it would hold the run to the deadline): it
  // gets them at the next publish due once its back-off has run out (a day later, when another
  // indexer took them)
  const silent = new Set(silentRelays(online.state, ctx.indexers, now))
  const indexers = ctx.indexers.filter((url) => !silent.has(url))
  if (fresh || indexers.length === 0) return
  const sign = await signer(ctx)
  const templates = [relayListEvent(ctx.relays, now), inboxRelaysEvent(ctx.relays, now), profileEvent(presence, now)]
  const results = await Promise.all(templates.map((t) => online.pool.publish(sign(t, ctx.identity.secretKey), indexers, deadline)))
  // taken when some indexer has each of them
  const ok = results.every((statuses) => statuses.some((s) => s.ok))
  ctx.out.log(`indexers: lists and profile ${ok ? 'published' : 'not taken; tried again in an hour'} (${indexers.join(' ')})`)
  await ctx.store.update((s) => {
    s.indexed = { digest, at: now, ok }
  })
}

/** Asks our relays and the indexers together, in one round, for what `filters` match (another
 *  key's lists). The indexers are waited for until `deadline` even when our relays answered
 *  first: their connections open only now, and our warm ones would otherwise win every race,
 *  cutting off the list that only an indexer has. But for one that answered nothing in an
 *  earlier lookup (held back, sync.ts): that one would cost every lookup the whole wait. */
export async function askWithIndexers(ctx: Context, pool: RelayPool, filters: Filter[], deadline: number): Promise<QueryOutcome> {
  pool.addRelays(ctx.indexers)
  return pool.query(filters, { deadline, patient: ctx.indexers }, [...ctx.relays, ...ctx.indexers])
}

/** Indexers whose silence was noted in a run (its pool): once a run, as a sync notes our
 *  relays, so that a run with several lookups does not double the back-off several times. */
const noted = new WeakMap<RelayPool, Set<string>>()

/** The indexers of `ctx` not noted yet in this run (never one of our relays: context.ts). */
export const indexersToNote = (ctx: Context, pool: RelayPool): string[] => ctx.indexers.filter((url) => !noted.get(pool)?.has(url))

/** Marks the indexers that never connected for a lookup as silent (a black hole, a dead host;
 *  one that connected but was slow is not), and clears the mark of those that answered, as a
 *  sync does for our relays (silence.ts). Once a run for each. */
export function noteIndexers(ctx: Context, state: State, pool: RelayPool, outcome: QueryOutcome, now: number): void {
  const urls = indexersToNote(ctx, pool)
  const done = noted.get(pool) ?? new Set<string>()
  noted.set(pool, done)
  for (const report of pool.reports(urls)) {
    const answered = report.connected || outcome.results.some((r) => r.url === report.url && r.complete)
    noteSilence(healthOf(state, report.url), answered, report.heldBack === true, now)
    done.add(report.url)
  }
}
