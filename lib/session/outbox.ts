// The outbox, written ahead: whatever a command publishes is queued in the same state update
// that records it, before any relay hears of it, and leaves the queue once a relay accepts it.
// A run killed at any moment therefore loses nothing: the next run sends it. Retrying is
// bounded: it runs beside the command with its own short budget, waits after `rate-limited:`,
// and gives up (and says so) after a permanent refusal, MAX_OUTBOX_ATTEMPTS or OUTBOX_TTL_S.
import { readFileSync } from 'node:fs'
import type { Event } from 'nostr-tools/pure'
import type { Reply } from '../calls/inputs.ts'
import { isKnown } from '../calls/policy.ts'
import { outboxView } from '../calls/views.ts'
import { AUTO_REPLY_WINDOW, MAX_OUTBOX_ATTEMPTS } from '../limits.ts'
import { findTag, TAG } from '../nostr/kinds.ts'
import type { Rumor } from '../nostr/p2p.ts'
import type { RelayPool } from '../nostr/relay/pool.ts'
import type { OutboxEntry, State } from '../store/schema.ts'
import { AUTO_REPLY_MS, OUTBOX_BACKOFF_MAX_S, OUTBOX_BACKOFF_S, OUTBOX_RETRY_MS, OUTBOX_TTL_S, RING_TIMEOUT_S, unixNow } from '../timing.ts'
import type { Context } from './context.ts'
import { type Delivery, deliver, deliverEvents, legacyDmFor, legacyRumorDm, rumorFor } from './deliver.ts'
import { fileRumors, wholeFile } from './files.ts'
import { signer } from './sign.ts'

type Item = Pick<OutboxEntry, 'peer' | 'callId' | 'dm'> &
  ({ rumor: Rumor; file?: undefined } | { file: OutboxEntry['file']; rumor?: undefined })

/** Queues an item; call it inside the update that records what is sent. */
export function enqueue(state: State, item: Item, now = unixNow()): OutboxEntry {
  const id = item.rumor?.id ?? item.file?.fileId ?? ''
  const existing = state.outbox.find((e) => e.id === id)
  if (existing) return existing
  const entry: OutboxEntry = { id, ...item, queuedAt: now, attempts: 0 }
  state.outbox.push(entry)
  return entry
}

export type Sent = Delivery & { queued: boolean; failed: boolean }

/** Whether every rumor is on some relay it was published to: the entry leaves the outbox. Not
 *  the same as delivered: a peer with no inbox list gets it on our relays, which is all that
 *  sending again could do too (deliver.ts). */
const allLanded = (d: Delivery) => d.landed.every(Boolean)

/** What became of a send, in a few words for the log. */
export const sentWords = (s: Sent): string =>
  s.delivered ? 'delivered' : s.queued ? 'still queued' : s.failed ? 'given up' : 'on our relays only: the peer publishes no inbox list'

const refusals = (d: Delivery) => d.relays.map((r) => `${r.url}: ${r.reason ?? 'refused'}`).join('; ') || 'no relay to publish to'

/** What is still to send: a message's one rumor, or a file's chunks that no relay took yet; in
 *  a call with an agent of the original skill, the entry's one signed DM (none when another run
 *  took the entry out of the queue, or gave it up, meanwhile). */
async function pending(
  ctx: Context,
  state: State,
  entry: OutboxEntry,
): Promise<({ rumors: Rumor[]; events?: undefined } | { events: Event[]; rumors?: undefined }) & { indexes: number[]; total: number }> {
  if (entry.dm || legacyEntry(state, entry)) {
    const dm = await signedDm(ctx, entry)
    return dm ? { events: [dm], indexes: [0], total: 1 } : { events: [], indexes: [], total: 1 }
  }
  if (entry.rumor) return { rumors: [entry.rumor], indexes: [0], total: 1 }
  const f = entry.file as NonNullable<OutboxEntry['file']>
  const all = fileRumors(ctx, entry.peer, entry.callId ?? '', { ...f, data: readFileSync(f.path) }, f.at, f.ms)
  const indexes = all.map((_r, i) => i).filter((i) => !f.sent?.includes(i))
  return { rumors: indexes.map((i) => all[i]), indexes, total: all.length }
}

/** Whether the entry belongs to a call held with an agent of the original skill. */
const legacyEntry = (state: State, e: OutboxEntry) =>
  state.calls[(e.file ? e.callId : e.rumor && findTag(e.rumor, TAG.p2p)?.[2]) ?? '']?.legacy === true

/** The entry's NIP-04 DM: the one signed before, else signed now and kept in the entry before
 *  it goes anywhere (a run killed mid-publish leaves the same event to send again; of two runs
 *  signing at once, the first to save wins). */
async function signedDm(ctx: Context, entry: OutboxEntry): Promise<Event | undefined> {
  if (entry.dm) return entry.dm
  const sign = await signer(ctx)
  const f = entry.file
  const dm = f
    ? legacyDmFor(ctx, entry.peer, wholeFile(entry.callId ?? '', { ...f, data: readFileSync(f.path) }), f.at, sign)
    : legacyRumorDm(ctx, entry.peer, entry.rumor as Rumor, sign)
  return ctx.store.update((s) => {
    const e = s.outbox.find((x) => x.id === entry.id)
    if (!e || e.gaveUp) return undefined
    e.dm ??= dm
    return e.dm
  })
}

/** Publishes one queued entry by `deadline` and records the outcome. */
export async function sendQueued(ctx: Context, pool: RelayPool, state: State, entry: OutboxEntry, deadline = pool.deadline): Promise<Sent> {
  let todo: Awaited<ReturnType<typeof pending>>
  try {
    todo = await pending(ctx, state, entry)
  } catch (err) {
    const why = `${entry.file ? 'its saved copy' : 'it'} cannot be read or sent (${(err as Error).message})`
    await ctx.store.update((s) => giveUp(s, entry.id, why, unixNow()))
    warnGaveUp(ctx, entry, why)
    return {
      relays: [],
      delivered: false,
      landed: [],
      permanent: false,
      rateLimited: false,
      inboxSource: 'ours',
      ownCopies: [],
      queued: false,
      failed: true,
    }
  }
  const result = todo.events
    ? await deliverEvents(ctx, pool, state, entry.peer, todo.events, undefined, deadline)
    : await deliver(ctx, pool, state, entry.peer, todo.rumors, { selfCopy: !entry.file, deadline })
  const landed = todo.indexes.filter((_i, k) => result.landed[k])
  const gaveUp = await ctx.store.update((s) => {
    for (const copy of result.ownCopies) s.seen.add(copy.id, copy.at)
    return record(s, entry.id, result, landed, todo.total, unixNow())
  })
  if (gaveUp) warnGaveUp(ctx, entry, gaveUp)
  return { ...result, queued: !allLanded(result) && !gaveUp, failed: Boolean(gaveUp) }
}

const warnGaveUp = (ctx: Context, entry: OutboxEntry, why: string) =>
  ctx.out.warn(`gave up on a queued ${entry.file ? `file, ${entry.file.name}` : outboxView(entry).type} (${entry.id.slice(0, 12)}): ${why}`)

function giveUp(s: State, id: string, why: string, now: number): void {
  const e = s.outbox.find((x) => x.id === id)
  if (e && !e.gaveUp) markGaveUp(e, why, now)
}

/** Not sent again: its signed DM (up to 64 KiB) need not weigh on every run's state. */
function markGaveUp(e: OutboxEntry, why: string, now: number): void {
  e.gaveUp = { at: now, why }
  delete e.dm
}

/** Records an attempt; returns why the entry was given up, if it was. */
function record(s: State, id: string, result: Delivery, landed: number[], total: number, now: number): string | undefined {
  const e = s.outbox.find((x) => x.id === id)
  if (!e || e.gaveUp) return undefined // dropped, delivered or given up by another run meanwhile
  if (e.file) e.file.sent = [...new Set([...(e.file.sent ?? []), ...landed])].sort((a, b) => a - b)
  if (e.file ? e.file.sent?.length === total : allLanded(result)) {
    s.outbox = s.outbox.filter((x) => x !== e)
    return undefined
  }
  e.attempts++
  e.lastError = refusals(result)
  const progress = landed.length > 0
  const why = result.permanent
    ? `refused for good (${e.lastError})`
    : !progress && e.attempts >= MAX_OUTBOX_ATTEMPTS
      ? `no relay accepted it in ${e.attempts} attempts`
      : now - e.queuedAt > OUTBOX_TTL_S
        ? `not delivered within ${OUTBOX_TTL_S / 3600} hours`
        : undefined
  if (why) markGaveUp(e, why, now)
  else if (result.rateLimited && !progress) e.nextAttemptAt = now + Math.min(OUTBOX_BACKOFF_S * 2 ** (e.attempts - 1), OUTBOX_BACKOFF_MAX_S)
  else delete e.nextAttemptAt
  return why
}

/** A call request past the ring timeout: the peer would ignore it. */
const ringOver = (e: OutboxEntry, now: number) =>
  e.queuedAt < now - RING_TIMEOUT_S && Boolean(e.rumor?.tags.some((t) => t[0] === TAG.p2p && t[1] === 'call-request'))

/** Retries what is due in the outbox, all at once, within OUTBOX_RETRY_MS; true when it tried. */
export async function retryOutbox(ctx: Context, pool: RelayPool, state: State): Promise<boolean> {
  const now = unixNow()
  const late = state.outbox.filter((e) => !e.gaveUp && ringOver(e, now))
  if (late.length) {
    const why = `the call request went unanswered for ${RING_TIMEOUT_S / 60} minutes: the peer would ignore it now`
    await ctx.store.update((s) => {
      for (const e of late) giveUp(s, e.id, why, now)
    })
    for (const e of late) warnGaveUp(ctx, e, why)
  }
  const due = state.outbox.filter((e) => !e.gaveUp && !ringOver(e, now) && (e.nextAttemptAt ?? 0) <= now)
  if (!due.length) return false
  const deadline = Math.min(pool.deadline, Date.now() + OUTBOX_RETRY_MS)
  await Promise.all(
    due.map(async (entry) => {
      const sent = await sendQueued(ctx, pool, state, entry, deadline)
      ctx.out.log(`outbox ${entry.id.slice(0, 12)}: ${sentWords(sent)}`)
    }),
  )
  return true
}

/** The machine's automatic answers (busy, too late, declined by policy): best effort, never
 *  queued, so that strangers cannot fill the outbox; AUTO_REPLY_WINDOW at a time, and none
 *  started after AUTO_REPLY_MS, so that a flood of callers cannot hold up the command (each
 *  costs a lookup, encryption and signatures); no copy to ourselves. */
export async function replyBestEffort(ctx: Context, pool: RelayPool, state: State, replies: Reply[]): Promise<void> {
  const deadline = Math.min(pool.deadline, Date.now() + AUTO_REPLY_MS)
  const line = [...replies]
  const worker = async () => {
    while (line.length && Date.now() < deadline) {
      const { peer, msg, legacy } = line.shift() as Reply
      const options = { deadline, selfCopy: false, stranger: !isKnown(state, peer), ...(legacy ? { legacy } : {}) }
      const d = await deliver(ctx, pool, state, peer, [rumorFor(ctx, peer, msg)], options)
      ctx.out.log(`automatic ${msg.type} to ${peer.slice(0, 12)}: ${d.delivered ? 'delivered' : 'not delivered (best effort: not queued)'}`)
    }
  }
  await Promise.all(Array.from({ length: Math.min(AUTO_REPLY_WINDOW, replies.length) }, worker))
  if (line.length) ctx.out.log(`${line.length} automatic replies not sent: over their ${AUTO_REPLY_MS} ms budget (best effort)`)
}
