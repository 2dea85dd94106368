// The outbox, written ahead: whatever a command publishes is queued in the same state update
// that records it, before any relay hears of it, and leaves the queue once a relay accepts it.
// A run killed at any moment therefore loses nothing: the next run sends it. Retrying is
// bounded: it runs beside the command with its own short budget, waits after `rate-limited:`,
// and gives up (and says so) after a permanent refusal, MAX_OUTBOX_ATTEMPTS or OUTBOX_TTL_S.
import { readFileSync } from 'node:fs'
import type { Reply } from '../calls/machine.ts'
import { outboxView } from '../calls/views.ts'
import { MAX_OUTBOX_ATTEMPTS } from '../limits.ts'
import { TAG } from '../nostr/kinds.ts'
import type { Rumor } from '../nostr/p2p.ts'
import type { RelayPool } from '../nostr/relay/pool.ts'
import type { OutboxEntry, State } from '../store/schema.ts'
import { AUTO_REPLY_MS, OUTBOX_BACKOFF_MAX_S, OUTBOX_BACKOFF_S, OUTBOX_RETRY_MS, OUTBOX_TTL_S, RING_TIMEOUT_S, unixNow } from '../timing.ts'
import type { Context } from './context.ts'
import { type Delivery, deliver, rumorFor } from './deliver.ts'
import { fileRumors } from './files.ts'

type Item = Pick<OutboxEntry, 'peer' | 'callId'> & ({ rumor: Rumor; file?: undefined } | { file: OutboxEntry['file']; rumor?: undefined })

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

/** The rumors still to send: a message's one, or a file's chunks that no relay took yet. */
function pending(ctx: Context, entry: OutboxEntry): { rumors: Rumor[]; indexes: number[]; total: number } {
  if (entry.rumor) return { rumors: [entry.rumor], indexes: [0], total: 1 }
  const f = entry.file as NonNullable<OutboxEntry['file']>
  const all = fileRumors(ctx, entry.peer, entry.callId ?? '', { ...f, data: readFileSync(f.path) }, f.at, f.ms)
  const indexes = all.map((_r, i) => i).filter((i) => !f.sent?.includes(i))
  return { rumors: indexes.map((i) => all[i]), indexes, total: all.length }
}

/** Publishes one queued entry by `deadline` and records the outcome. */
export async function sendQueued(ctx: Context, pool: RelayPool, state: State, entry: OutboxEntry, deadline = pool.deadline): Promise<Sent> {
  let todo: ReturnType<typeof pending>
  try {
    todo = pending(ctx, entry)
  } catch (err) {
    const why = `its saved copy cannot be read (${(err as Error).message})`
    await ctx.store.update((s) => giveUp(s, entry.id, why, unixNow()))
    warnGaveUp(ctx, entry, why)
    return {
      relays: [],
      delivered: false,
      landed: [],
      permanent: false,
      rateLimited: false,
      inboxSource: 'ours',
      queued: false,
      failed: true,
    }
  }
  const result = await deliver(ctx, pool, state, entry.peer, todo.rumors, { selfCopy: !entry.file, deadline })
  const landed = todo.indexes.filter((_i, k) => result.landed[k])
  const gaveUp = await ctx.store.update((s) => record(s, entry.id, result, landed, todo.total, unixNow()))
  if (gaveUp) warnGaveUp(ctx, entry, gaveUp)
  return { ...result, queued: !allLanded(result) && !gaveUp, failed: Boolean(gaveUp) }
}

const warnGaveUp = (ctx: Context, entry: OutboxEntry, why: string) =>
  ctx.out.warn(`gave up on a queued ${entry.file ? `file, ${entry.file.name}` : outboxView(entry).type} (${entry.id.slice(0, 12)}): ${why}`)

function giveUp(s: State, id: string, why: string, now: number): void {
  const e = s.outbox.find((x) => x.id === id)
  if (e && !e.gaveUp) e.gaveUp = { at: now, why }
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
  if (why) e.gaveUp = { at: now, why }
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

/** The machine's automatic answers (busy, too late): best effort, within AUTO_REPLY_MS, never
 *  queued, so that strangers cannot fill the outbox. */
export async function replyBestEffort(ctx: Context, pool: RelayPool, state: State, replies: Reply[]): Promise<void> {
  const deadline = Math.min(pool.deadline, Date.now() + AUTO_REPLY_MS)
  await Promise.all(
    replies.map(async ({ peer, msg, legacy }) => {
      const d = await deliver(ctx, pool, state, peer, [rumorFor(ctx, peer, msg)], { deadline, ...(legacy ? { legacy } : {}) })
      ctx.out.log(`automatic ${msg.type} to ${peer.slice(0, 12)}: ${d.delivered ? 'delivered' : 'not delivered (best effort: not queued)'}`)
    }),
  )
}
