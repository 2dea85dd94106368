// `outbox` / `outbox drop <id>|all`: what is queued for retry, with its attempts and the last
// relay answer, and dropping items from it. Local only: no network.
import { outboxView } from '../calls/views.ts'
import { type CommandResult, stateError, usageError } from '../errors.ts'
import type { Context } from '../session/context.ts'
import { ago, table } from '../ui/format.ts'

type View = ReturnType<typeof outboxView>

const describe = (e: View): string[] => [
  e.state === 'failed' ? 'failed' : 'waiting',
  e.id.slice(0, 12),
  e.file ? `file ${e.file.name}` : e.type,
  `to ${e.peer.slice(0, 16)}…`,
  `queued ${ago(e.queuedAt)}, ${e.attempts} attempt${e.attempts === 1 ? '' : 's'}`,
  e.gaveUp ?? e.lastError ?? '',
]

export async function outbox(ctx: Context): CommandResult {
  const entries = (await ctx.store.read()).outbox.map(outboxView)
  ctx.out.result({ outbox: entries }, () =>
    entries.length
      ? [...table(entries.map(describe)), 'drop one with `node p2p.js outbox drop <id>`, or all with `node p2p.js outbox drop all`']
      : ['nothing queued'],
  )
}

export async function outboxDrop(ctx: Context, id: string | undefined): CommandResult {
  if (!id) throw usageError('missing-id', 'name the item to drop, or all', 'e.g. `node p2p.js outbox drop all`; ids: `node p2p.js outbox`')
  const { dropped, left } = await ctx.store.update((s) => {
    const match = id === 'all' ? s.outbox : s.outbox.filter((e) => e.id.startsWith(id))
    if (!match.length) throw stateError('no-such-item', `nothing queued has the id ${id}`, 'see the ids with `node p2p.js outbox`')
    if (match.length > 1 && id !== 'all')
      throw stateError('ambiguous-item', `${match.length} queued items start with ${id}`, 'give more of the id')
    s.outbox = s.outbox.filter((e) => !match.includes(e))
    return { dropped: match.map((e) => e.id), left: s.outbox.map(outboxView) }
  })
  ctx.out.result({ dropped, outbox: left }, () => [
    `dropped ${dropped.length} queued item${dropped.length === 1 ? '' : 's'}; ${left.length} left`,
  ])
}
