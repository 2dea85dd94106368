// One sync: read presence, our own lists and the gift wraps since the cursor from every relay,
// open the wraps, fold everything into the state under the lock, journal the new events, write
// the transcripts that changed, then send the machine's automatic answers (best effort).

import { journal } from '../calls/journal.ts'
import { applyIncoming, type Incoming } from '../calls/machine.ts'
import { PROGRESS_FROM_WRAPS } from '../limits.ts'
import { GIFT_WRAP_KIND } from '../nostr/kinds.ts'
import { openWraps } from '../nostr/nip17.ts'
import type { RelayPool } from '../nostr/relay/pool.ts'
import { unixNow } from '../timing.ts'
import type { Context } from './context.ts'
import { receiveFiles } from './files.ts'
import { foldSync, GIFT_WRAP_FILTER, patientRelays, syncFilters } from './fold.ts'
import type { Online } from './online.ts'
import { replyBestEffort } from './outbox.ts'
import { saveTranscript } from './transcripts.ts'

export async function sync(ctx: Context, pool: RelayPool): Promise<Online> {
  const me = ctx.identity.pubkey
  const before = await ctx.store.read()
  const knownPresence = new Set(Object.values(before.agents).map((a) => a.eventId))
  const outcome = await pool.query(syncFilters(before, me, unixNow(), ctx.onlineWindow), {
    paginate: GIFT_WRAP_FILTER,
    known: (id) => id in before.seen || knownPresence.has(id),
    // our own announcements and lists only tell what a relay holds, for republishing
    trusted: (event) => event.pubkey === me && event.kind !== GIFT_WRAP_KIND,
    patient: patientRelays(before, ctx.relays, unixNow()),
  })
  const reports = pool.reports()
  const wraps = outcome.events.filter((e) => e.kind === GIFT_WRAP_KIND)
  const done = wraps.length > PROGRESS_FROM_WRAPS ? ctx.out.progress(`opening ${wraps.length} messages`) : () => {}
  const { opened, dropped } = await openWraps(wraps, me, ctx.identity.secretKey, ctx.out.log).finally(done)
  const items = receiveFiles(ctx.paths.files, opened, before, ctx.out.log)
  const now = unixNow()
  const { state, summary, applied } = await ctx.store.update((s) => {
    // another run may have processed some of these wraps since we read the state
    const fresh = items.filter((i: Incoming) => !i.wrapId || !(i.wrapId in s.seen))
    for (const w of wraps) s.seen[w.id] = w.created_at
    const summary = foldSync(s, outcome, reports, me, now, ctx.onlineWindow)
    const applied = applyIncoming(s, fresh, me, now, ctx.ownerPubkey)
    journal(s, applied.events)
    for (const id of applied.finished) saveTranscript(ctx, s, id)
    return { state: s, summary, applied }
  })
  for (const why of applied.ignored) ctx.out.log(`ignored ${why}`)
  ctx.out.log(
    `sync: ${outcome.events.length} events, ${wraps.length} gift wraps (${dropped} dropped), ${applied.events.length} new call events, ${applied.ignored.length} ignored`,
  )
  const online: Online = { pool, outcome, reports, state, summary, applied }
  // the machine's automatic answers (busy, too late): best effort, never queued
  if (applied.replies.length) await replyBestEffort(ctx, pool, state, applied.replies)
  return online
}
