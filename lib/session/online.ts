// The online life of one run, in one shape for every command: connect, sync, make sure some
// relay answered, act (while the outbox is retried beside it), then announce what is stale and
// close every socket, whatever happened.

import type { Filter } from 'nostr-tools/filter'
import { networkError } from '../errors.ts'
import { RelayPool } from '../nostr/relay/pool.ts'
import { signerFor } from '../nostr/schnorr.ts'
import type { State } from '../store/schema.ts'
import { announce, announceEarly, type EarlyAnnouncement } from './announce.ts'
import type { Context } from './context.ts'
import { lookAhead } from './deliver.ts'
import type { Discovery } from './discovery.ts'
import type { SyncReads } from './fold.ts'
import { retryOutbox } from './outbox.ts'
import { receive, sync } from './sync.ts'
import type { Online } from './synced.ts'

interface OnlineOptions {
  /** more time beyond --timeout, for commands that do more than one round (sendfile, poll --wait) */
  extraMs?: number
  /** fail with exit 4 before acting when no relay could be reached (default true; `status`
   *  reports unreachable relays itself) */
  requireRelay?: boolean
  /** open a live feed of these before the first sync (poll --wait): nothing that arrives
   *  during the sync is missed */
  live?: Filter[]
  /** the peers the command will write to, as the state before the sync says (their relay lists
   *  are looked up beside the sync) */
  writesTo?: (state: State) => string[]
  /** whose announcements to ask for beyond ours and our peers' (discovery.ts) */
  discovery?: Discovery
}

/** Runs `act` online: connect and sync first; announce and close after, whatever happened. */
export async function whileOnline<T>(ctx: Context, opts: OnlineOptions, act: (online: Online) => Promise<T>): Promise<T> {
  const pool = new RelayPool(ctx.relays, {
    timeoutMs: ctx.timeoutMs + (opts.extraMs ?? 0),
    log: ctx.out.log,
    signAuth: async (template) => (await signerFor())(template, ctx.identity.secretKey),
  })
  const live = opts.live && pool.live(opts.live)
  let online: Online | undefined
  try {
    // the peers' relay lists and a presence that is due go out with the sync's reads
    let early: Promise<EarlyAnnouncement> = Promise.resolve({ published: {} })
    const alongside = (before: State) => {
      if (opts.writesTo) lookAhead(ctx, pool, before, opts.writesTo(before))
      // handled at once: a sync that fails never awaits it, and its failure (a bad identity
      // file, say) would end the run as an unhandled rejection, exit 1, before the sync's own
      // error is reported; `announce` meets the same failure again, and reports it
      early = announceEarly(ctx, pool, before).catch((err: Error) => {
        ctx.out.log(`early announcement failed: ${err.message}`)
        return { published: {} }
      })
    }
    online = { ...(await sync(ctx, pool, { alongside, discovery: opts.discovery })), ...(live ? { live } : {}) }
    online.early = early
    // said before acting, and before failing for want of a relay: whatever the command does next
    ctx.out.unread(online.unread)
    if (opts.requireRelay !== false) requireRelay(online)
    // retrying runs beside the command, on its own short budget: it never costs the command time
    const retry = retryOutbox(ctx, pool, online.state).catch((err: Error) => {
      ctx.out.log(`outbox retry failed: ${err.message}`)
      return false
    })
    try {
      return await act(online)
    } finally {
      if ((await retry) && online) online.state = await ctx.store.read()
    }
  } finally {
    live?.close()
    try {
      if (online) await announce(ctx, online)
    } finally {
      pool.close()
    }
  }
}

/** Syncs again on the same connections (poll --wait, when no relay keeps a live feed). */
export async function resync(ctx: Context, online: Online): Promise<void> {
  Object.assign(online, await sync(ctx, online.pool))
  ctx.out.unread(online.unread)
}

/** Opens and applies what the live feed brought since the last time, by the sync's own path
 *  and without a REQ (poll --wait, once something arrived); with nothing new, it still applies
 *  what time did (a ringing call expires). */
export async function receiveLive(ctx: Context, online: Online): Promise<void> {
  const brought = online.live ? await online.live.take((id) => online.state.seen.has(id)) : []
  const before = await ctx.store.read()
  const wraps = brought.filter((w) => !before.seen.has(w.id))
  const nothingRead: SyncReads = { events: [], results: { presence: [], lists: [], wraps: [] } }
  Object.assign(online, await receive(ctx, online.pool, before, wraps, nothingRead, [], 'live'))
}

function requireRelay(online: Online): void {
  if (online.pool.anyConnected) return
  throw networkError('no-relay-reachable', `no relay could be reached (${online.reports.map((r) => `${r.url}: ${r.error}`).join('; ')})`)
}
