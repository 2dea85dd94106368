// The outbox: whatever no relay accepted is kept until a later run delivers it. Every online
// run retries it after its sync.
import { readFileSync } from 'node:fs'
import type { Rumor } from '../nostr/p2p.ts'
import type { RelayPool } from '../nostr/relay/pool.ts'
import type { OutboxEntry, State } from '../store/schema.ts'
import { unixNow } from '../timing.ts'
import type { Context } from './context.ts'
import { type Delivery, deliver } from './deliver.ts'
import { fileRumors } from './files.ts'

const refusals = (d: Delivery) => d.relays.map((r) => `${r.url}: ${r.reason ?? 'refused'}`).join('; ')

/** Delivers now, or queues in the outbox (the command then exits 4) so that a later run delivers it. */
export async function deliverOrQueue(
  ctx: Context,
  pool: RelayPool,
  state: State,
  peer: string,
  callId: string | null,
  rumors: Rumor[],
  file?: OutboxEntry['file'],
): Promise<Delivery & { queued: boolean }> {
  const result = await deliver(ctx, pool, state, peer, rumors, !file)
  if (result.delivered) return { ...result, queued: false }
  const why = refusals(result) || 'no relay to publish to'
  await ctx.store.update((s) => {
    if (file) queue(s, { id: file.fileId, peer, callId, file }, why)
    else for (const rumor of rumors) queue(s, { id: rumor.id, peer, callId, rumor }, why)
  })
  return { ...result, queued: true }
}

function queue(state: State, entry: Omit<OutboxEntry, 'queuedAt' | 'attempts'>, error: string): void {
  if (state.outbox.some((e) => e.id === entry.id)) return
  state.outbox.push({ ...entry, queuedAt: unixNow(), attempts: 1, lastError: error })
}

/** Retries everything in the outbox; what a relay now accepts leaves it. */
export async function flushOutbox(ctx: Context, pool: RelayPool, state: State): Promise<string[]> {
  const sent: string[] = []
  const failed = new Map<string, string>()
  for (const entry of state.outbox) {
    const rumors = entry.file
      ? fileRumors(
          ctx,
          entry.peer,
          entry.callId ?? '',
          { ...entry.file, data: readFileSync(entry.file.path) },
          entry.file.at,
          entry.file.ms,
        )
      : entry.rumor
        ? [entry.rumor]
        : []
    const result = await deliver(ctx, pool, state, entry.peer, rumors, !entry.file)
    if (result.delivered) sent.push(entry.id)
    else failed.set(entry.id, refusals(result))
    ctx.out.log(`outbox ${entry.id.slice(0, 12)}: ${result.delivered ? 'delivered' : 'still queued'}`)
  }
  if (sent.length || failed.size) {
    await ctx.store.update((s) => {
      s.outbox = s.outbox.filter((e) => !sent.includes(e.id))
      for (const e of s.outbox) {
        if (!failed.has(e.id)) continue
        e.attempts++
        e.lastError = failed.get(e.id)
      }
    })
  }
  return sent
}
