// `poll`: for cron and for agents waiting on an answer. Syncs, keeps presence fresh, prints
// only the events no poll has printed yet (nothing at all when there are none), optionally
// runs a hook per event, and with --wait stays connected until something arrives.
import { spawnSync } from 'node:child_process'
import { leaseUnprinted, settleLease, unpolled } from '../calls/journal.ts'
import { liveCall } from '../calls/queries.ts'
import { agentNames } from '../calls/views.ts'
import { randomHex } from '../encoding.ts'
import { type CommandResult, usageError } from '../errors.ts'
import { GIFT_WRAP_KIND, LEGACY_DM_KIND } from '../nostr/kinds.ts'
import type { Context } from '../session/context.ts'
import { type Online, receiveLive, resync, whileOnline } from '../session/online.ts'
import { eventsOf } from '../session/transcripts.ts'
import type { JournalEntry, P2PEvent, PrintLease, State } from '../store/schema.ts'
import {
  DEFAULT_SETTLE_S,
  HOOK_TIMEOUT_MS,
  MAX_SETTLE_S,
  MAX_WAIT_S,
  PRINT_LEASE_S,
  RING_TIMEOUT_S,
  sleep,
  unixNow,
  WAIT_RESYNC_MS,
} from '../timing.ts'
import { renderEvent } from '../ui/render.ts'

type Lease = { token: string; pid: number }

export async function poll(ctx: Context, opts: { exec?: string; wait?: number; settle?: number }): CommandResult {
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
  return whileOnline(
    ctx,
    async (online) => {
      const lease = { token: randomHex(8), pid: process.pid }
      let entries = await claim(ctx, lease)
      const until = Date.now() + waitS * 1000
      if (entries.length === 0 && waitS > 0) {
        entries = await waitFor(ctx, online, lease, until)
        // a burst (a file, then "sent, anything else?"): what follows closely comes along
        if (entries.length && settleS > 0) entries = await waitFor(ctx, online, lease, Math.min(until, Date.now() + settleS * 1000), true)
        if (entries.length === 0) ctx.out.warn(nothingYet(online.state, waitS))
      }
      const events = eventsOf(ctx, online.state, entries)
      const hooks = opts.exec ? runHooks(ctx, opts.exec, events) : []
      const printed = await print(
        ctx,
        events,
        online.state,
        hooks.filter((h) => h.status !== 0),
      )
      // printed (and each hook ran to its end): done; a closed pipe or a killed hook: for the next poll
      const done = printed ? entries.filter((_j, i) => !opts.exec || hooks[i].status !== null).map((j) => j.seq) : []
      if (entries.length) await ctx.store.update((s) => settleLease(s, lease.token, done))
    },
    {
      extraMs: waitS * 1000,
      live:
        waitS > 0 ? [{ kinds: ctx.legacy ? [GIFT_WRAP_KIND, LEGACY_DM_KIND] : [GIFT_WRAP_KIND], '#p': [ctx.identity.pubkey] }] : undefined,
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
  while ((settling || entries.length === 0) && Date.now() < until) {
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
  return ctx.store.update((s) => leaseUnprinted(s, { ...lease, at: unixNow() }, (l) => l.token !== lease.token && leaseIsLive(l)))
}

/** Another poll's lease counts while its process runs, within the longest a poll can take. */
function leaseIsLive(lease: PrintLease): boolean {
  if (lease.at < unixNow() - PRINT_LEASE_S) return false
  try {
    process.kill(lease.pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Runs the hook once per event; one result per event (status null: killed, or it timed out). */
function runHooks(ctx: Context, command: string, events: P2PEvent[]): Array<{ event: P2PEvent; status: number | null; error?: string }> {
  const results = []
  for (const event of events) {
    const run = spawnSync(command, {
      shell: true,
      input: JSON.stringify(event),
      env: { ...process.env, P2P_EVENT_TYPE: event.type, P2P_CALL_ID: event.callId ?? '' },
      stdio: ['pipe', 2, 2], // the hook's output goes to stderr: stdout stays ours
      timeout: HOOK_TIMEOUT_MS,
    })
    if (run.status === 0) {
      results.push({ event, status: 0 })
      continue
    }
    const error = run.error?.message ?? `exit ${run.status ?? run.signal}`
    results.push({ event, status: run.status, error })
    ctx.out.warn(
      `warning: hook failed for ${event.type} event of call ${event.callId ?? '-'} (${error}); the event stays in \`node p2p.js history\``,
    )
  }
  return results
}

function print(ctx: Context, events: P2PEvent[], state: State, hookFailures: unknown[]): Promise<boolean> {
  const names = agentNames(state)
  const now = unixNow()
  return ctx.out.result({ events, ...(hookFailures.length ? { hookFailures } : {}) }, () =>
    events.flatMap((e) => renderEvent(e, names, now)),
  )
}
