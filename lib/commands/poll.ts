// `poll`: for cron and for agents waiting on an answer. Syncs, keeps presence fresh, prints
// only the events no poll has printed yet (nothing at all when there are none), optionally
// runs a hook per event, and with --wait stays connected until something arrives.
import { countHookKills, leaseUnprinted, settleLease, unpolled } from '../calls/journal.ts'
import { liveCall } from '../calls/queries.ts'
import { agentNames } from '../calls/views.ts'
import { randomHex } from '../encoding.ts'
import { type CommandResult, usageError } from '../errors.ts'
import { GIFT_WRAP_KIND, LEGACY_DM_KIND } from '../nostr/kinds.ts'
import type { Context } from '../session/context.ts'
import { receiveLive, resync, whileOnline } from '../session/online.ts'
import type { Online } from '../session/synced.ts'
import { eventsOf } from '../session/transcripts.ts'
import { processStart, stillRuns } from '../store/process.ts'
import type { JournalEntry, P2PEvent, PrintLease, State } from '../store/schema.ts'
import { DEFAULT_SETTLE_S, MAX_SETTLE_S, MAX_WAIT_S, PRINT_LEASE_S, RING_TIMEOUT_S, sleep, unixNow, WAIT_RESYNC_MS } from '../timing.ts'
import { renderEvent } from '../ui/render.ts'
import { hookCommand, runHooks } from './hooks.ts'

/** A poll's claim on what it prints: its token and process, and how many events it takes. */
type Lease = { token: string; pid: number; start?: string; max: number }

export async function poll(ctx: Context, opts: { exec?: string; wait?: number; settle?: number; max?: number }): CommandResult {
  const waitS = opts.wait ?? 0
  if (!Number.isFinite(waitS) || waitS < 0 || waitS > MAX_WAIT_S) {
    throw usageError('bad-wait', `--wait is a number of seconds from 0 to ${MAX_WAIT_S}`, 'e.g. `node p2p.js poll --wait 60`')
  }
  const settleS = opts.settle ?? DEFAULT_SETTLE_S
  if (!Number.isFinite(settleS) || settleS < 0 || settleS > MAX_SETTLE_S) {
    throw usageError(
      'bad-settle',
      `--settle is a number of seconds from 0 to ${MAX_SETTLE_S}`,
      'e.g. `node p2p.js poll --wait 60 --settle 3`',
    )
  }
  const max = opts.max ?? Infinity
  if (!(Number.isInteger(max) && max > 0) && max !== Infinity) {
    throw usageError('bad-max', '--max is a whole number of events, 1 or more', 'e.g. `node p2p.js poll --max 1`')
  }
  const hook = opts.exec === undefined ? undefined : hookCommand(opts.exec)
  return whileOnline(
    ctx,
    {
      extraMs: waitS * 1000,
      live:
        waitS > 0 ? [{ kinds: ctx.legacy ? [GIFT_WRAP_KIND, LEGACY_DM_KIND] : [GIFT_WRAP_KIND], '#p': [ctx.identity.pubkey] }] : undefined,
    },
    async (online) => {
      const start = processStart(process.pid)
      const lease = { token: randomHex(8), pid: process.pid, ...(start ? { start } : {}), max }
      let entries = await claim(ctx, lease)
      const until = Date.now() + waitS * 1000
      if (entries.length === 0 && waitS > 0) {
        entries = await waitFor(ctx, online, lease, until)
        // a burst (a file, then "sent, anything else?"): what follows closely comes along
        if (entries.length && settleS > 0) entries = await waitFor(ctx, online, lease, Math.min(until, Date.now() + settleS * 1000), true)
        if (entries.length === 0) ctx.out.warn(nothingYet(online.state, waitS))
      }
      const events = eventsOf(ctx, online.state, entries)
      const hooks = hook ? await runHooks(ctx, hook, entries, events) : []
      const printed = await print(
        ctx,
        events,
        online.state,
        hooks.filter((h) => h.status !== 0),
      )
      // printed (and each hook ran to its end, or was given up on): done; a closed pipe or a
      // killed hook: for the next poll
      const handled = (i: number) => !hook || hooks[i].status !== null || hooks[i].gaveUp
      const done = printed ? entries.filter((_j, i) => handled(i)).map((j) => j.seq) : []
      const killed = entries.filter((_j, i) => hook && hooks[i].status === null).map((j) => j.seq)
      if (entries.length)
        await ctx.store.update((s) => {
          countHookKills(s, killed)
          settleLease(s, lease.token, done)
        })
    },
  )
}

/** When the next ringing or waiting call expires, in ms since the epoch (Infinity when none). */
const nextExpiry = (state: State) =>
  Math.min(
    Infinity,
    ...Object.values(state.calls)
      .filter((c) => c.state === 'ringing' || c.state === 'incoming')
      .map((c) => (c.createdAt + RING_TIMEOUT_S + 1) * 1000),
  )

/** Waits until something is new (or, `settling`, until `until`, taking what arrives), and
 *  returns the unprinted events leased to this poll. */
async function waitFor(ctx: Context, online: Online, lease: Lease, until: number, settling = false): Promise<JournalEntry[]> {
  let entries: JournalEntry[] = settling ? await claim(ctx, lease) : []
  // while a relay's live subscription is cut, a sync reads it this often
  let resyncAt = Number.POSITIVE_INFINITY
  while ((settling ? entries.length < lease.max : entries.length === 0) && Date.now() < until) {
    // wake up when a ringing call expires too: that is news for a caller waiting on an answer
    const wakeAt = Math.min(until, nextExpiry(online.state), resyncAt)
    const outcome = online.live ? await online.live.wait(wakeAt, (id) => online.state.seen.has(id)) : 'closed'
    if (outcome === 'timeout' && wakeAt === until) break
    if (outcome === 'closed' && settling) break
    if (outcome === 'arrived' || (outcome === 'timeout' && wakeAt < resyncAt)) {
      // what the feed brought (or, at an expiry, nothing) is opened and applied as a sync would: no REQ
      await receiveLive(ctx, online)
    } else {
      // no relay keeps a live subscription (dead, or it refused one): look again now and then, never in a loop;
      // one was cut (a flood): read it by a sync at once, then now and then
      if (outcome === 'closed') await sleep(Math.min(WAIT_RESYNC_MS, wakeAt - Date.now()))
      await resync(ctx, online)
      if (online.live?.partial) resyncAt = Date.now() + WAIT_RESYNC_MS
    }
    entries = await claim(ctx, lease)
  }
  return entries
}

/** Said on stderr when a wait ends with nothing: not a hang, nothing lost, and what to do. */
function nothingYet(state: State, waitS: number): string {
  const live = liveCall(state)
  const open = live ? `call ${live.id} is still ${live.state === 'active' ? 'open' : 'ringing'}; ` : ''
  return `nothing new within ${waitS} s; ${open}wait again (\`node p2p.js poll --wait ${waitS}\`) rather than sending again`
}

/** Leases the unprinted events under the lock, so that overlapping polls never print one twice
 *  (when there are none, there is nothing to lease: the state is not written). */
async function claim(ctx: Context, lease: Lease): Promise<JournalEntry[]> {
  if (unpolled(await ctx.store.read()).length === 0) return []
  const { max, ...held } = lease
  return ctx.store.update((s) => leaseUnprinted(s, { ...held, at: unixNow() }, (l) => l.token !== lease.token && leaseIsLive(l), max))
}

/** Another poll's lease counts while its process runs (the same process: a pid is reused),
 *  within the longest a poll can take. */
const leaseIsLive = (lease: PrintLease): boolean => lease.at >= unixNow() - PRINT_LEASE_S && stillRuns(lease.pid, lease.start)

function print(ctx: Context, events: P2PEvent[], state: State, hookFailures: unknown[]): Promise<boolean> {
  const names = agentNames(state)
  const now = unixNow()
  return ctx.out.result({ events, ...(hookFailures.length ? { hookFailures } : {}) }, () =>
    events.flatMap((e) => renderEvent(e, names, now)),
  )
}
