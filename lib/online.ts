// The network part of every online command: connect, sync into the state (presence, gift
// wraps, calls), answer what needs an automatic answer, retry the outbox; at the end, keep
// presence and relay lists current and close.
import { finalizeEvent, type EventTemplate } from 'nostr-tools/pure'
import type { Context } from './context.ts'
import type { State } from './state.ts'
import { RelaySession, type RelayReport, type PublishStatus, type QueryOutcome } from './relay/session.ts'
import { syncFilters, foldSync, heldBy, journal, patientRelays, GIFT_WRAP_FILTER, type SyncSummary } from './sync.ts'
import {
  presenceEvent,
  relayListEvent,
  inboxRelaysEvent,
  presenceIsCurrent,
  relayListIsCurrent,
  PRESENCE_KIND,
  RELAY_LIST_KIND,
  INBOX_RELAYS_KIND,
  PRESENCE_REFRESH_S,
  type Presence,
} from './presence.ts'
import { applyIncoming, type Applied, type Incoming } from './calls.ts'
import { openWraps, collectFiles } from './receive.ts'
import { deliverOrQueue, flushOutbox, rumorFor } from './deliver.ts'
import { writeTranscript, transcriptFor } from './transcript.ts'
import { GIFT_WRAP_KIND } from './dm.ts'
import { signerFor, publicKeyOf } from './crypto/schnorr.ts'
import { checkKeyPair } from './identity.ts'
import { networkError } from './errors.ts'
import { VERSION } from './version.ts'

export interface Online {
  session: RelaySession
  outcome: QueryOutcome
  reports: RelayReport[]
  state: State
  summary: SyncSummary
  applied: Applied
  /** gift wraps that did not open or were not understood */
  dropped: number
}

export const unixNow = () => Math.floor(Date.now() / 1000)

export function openSession(ctx: Context, extraMs = 0): RelaySession {
  return new RelaySession(ctx.relays, {
    timeoutMs: ctx.timeoutMs + extraMs,
    log: ctx.out.log,
    signAuth: (template) => finalizeEvent(template, ctx.identity.secretKey),
  })
}

/** `extraMs` lengthens the deadline for commands that do more than one round (sendfile, poll --wait). */
export async function connectAndSync(ctx: Context, extraMs = 0): Promise<Online> {
  const session = openSession(ctx, extraMs)
  try {
    return await sync(ctx, session)
  } catch (err) {
    session.close()
    throw err
  }
}

export async function sync(ctx: Context, session: RelaySession): Promise<Online> {
  const me = ctx.identity.pubkey
  const before = await ctx.store.read()
  const knownPresence = new Set(Object.values(before.agents).map((a) => a.eventId))
  const outcome = await session.query(syncFilters(before, me, unixNow(), ctx.onlineWindow), {
    paginate: GIFT_WRAP_FILTER,
    known: (id) => id in before.seen || knownPresence.has(id),
    // our own announcements and lists only tell what a relay holds, for republishing
    trusted: (event) => event.pubkey === me && event.kind !== GIFT_WRAP_KIND,
    patient: patientRelays(before, ctx.relays, unixNow()),
  })
  const reports = session.reports()
  const wraps = outcome.events.filter((e) => e.kind === GIFT_WRAP_KIND)
  const done = wraps.length > 100 ? ctx.out.progress(`opening ${wraps.length} messages`) : () => {}
  const { opened, dropped } = await openWraps(wraps, me, ctx.identity.secretKey, ctx.out.log).finally(done)
  const items = collectFiles(ctx.paths.files, opened, before, ctx.out.log)
  const now = unixNow()
  const { state, summary, applied } = await ctx.store.update((s) => {
    // another run may have processed some of these wraps since we read the state
    const fresh = items.filter((i: Incoming) => !i.wrapId || !(i.wrapId in s.seen))
    for (const w of wraps) s.seen[w.id] = w.created_at
    const summary = foldSync(s, outcome, reports, me, now, ctx.onlineWindow)
    const applied = applyIncoming(s, fresh, me, now, ctx.owner)
    journal(s, applied.events)
    for (const id of applied.finished) saveTranscript(ctx, s, id)
    return { state: s, summary, applied }
  })
  for (const why of applied.ignored) ctx.out.log(`ignored ${why}`)
  ctx.out.log(`sync: ${outcome.events.length} events, ${wraps.length} gift wraps (${dropped} dropped), ${applied.events.length} new call events, ${applied.ignored.length} ignored`)
  const online: Online = { session, outcome, reports, state, summary, applied, dropped }
  await sendReplies(ctx, online)
  if (state.outbox.length || applied.replies.length) {
    if (state.outbox.length) await flushOutbox(ctx, session, state)
    online.state = await ctx.store.read() // the outbox changed
  }
  return online
}

export function saveTranscript(ctx: Context, state: State, callId: string): string {
  const call = state.calls[callId]
  call.transcript = writeTranscript(ctx.paths.transcripts, transcriptFor(ctx, call, state))
  return call.transcript
}

/** Automatic answers of the state machine (busy, too late): queued when no relay takes them. */
async function sendReplies(ctx: Context, online: Online): Promise<void> {
  for (const reply of online.applied.replies) {
    await deliverOrQueue(ctx, online.session, online.state, reply.peer, reply.msg.callId, [rumorFor(ctx, reply.peer, reply.msg)])
  }
}

export function requireRelay(online: Online): void {
  if (online.session.anyConnected) return
  throw networkError(
    'no-relay-reachable',
    `no relay could be reached (${online.reports.map((r) => `${r.url}: ${r.error}`).join('; ')})`,
    'check the network, or try other relays: `node p2p.js status --relay wss://nos.lol`',
  )
}

export function desiredPresence(ctx: Context): Presence {
  return { agentId: ctx.name, name: ctx.name, about: ctx.config.about ?? '', relays: ctx.relays, version: VERSION }
}

/** Announcing is best effort: a relay gets this long to answer, and one that did not is left
 *  alone until presence is due again, so that it cannot slow every run down. */
const ANNOUNCE_MS = 1_000

/** Publishes our announcement and relay lists to each connected relay that lacks a current copy. */
export async function announce(ctx: Context, online: Online): Promise<PublishStatus[]> {
  const me = ctx.identity.pubkey
  const now = unixNow()
  const presence = desiredPresence(ctx)
  const failedLately = (url: string) => (online.state.relayHealth[url]?.announceFailedAt ?? 0) > now - PRESENCE_REFRESH_S
  const connected = online.reports.filter((r) => r.connected && !failedLately(r.url)).map((r) => r.url)
  const plans: Array<{ template: EventTemplate; urls: string[] }> = [
    { template: presenceEvent(presence, now), urls: connected.filter((u) => !presenceIsCurrent(heldBy(online.outcome, u, me, PRESENCE_KIND, presence.agentId), presence, now)) },
    { template: relayListEvent(ctx.relays, now), urls: connected.filter((u) => !relayListIsCurrent(heldBy(online.outcome, u, me, RELAY_LIST_KIND), ctx.relays)) },
    { template: inboxRelaysEvent(ctx.relays, now), urls: connected.filter((u) => !relayListIsCurrent(heldBy(online.outcome, u, me, INBOX_RELAYS_KIND), ctx.relays)) },
  ]
  const due = plans.filter((p) => p.urls.length > 0)
  if (due.length === 0) return []
  await checkKeyPair(ctx.identity, ctx.paths.identity, publicKeyOf)
  const sign = await signerFor()
  const deadline = Math.min(online.session.deadline, Date.now() + ANNOUNCE_MS)
  const statuses = (await Promise.all(due.map((p) => online.session.publish(sign(p.template, ctx.identity.secretKey), p.urls, deadline)))).flat()
  const failed = [...new Set(statuses.filter((s) => !s.ok).map((s) => s.url))]
  if (failed.length) {
    await ctx.store.update((s) => {
      for (const url of failed) (s.relayHealth[url] ??= { lastAttempt: now }).announceFailedAt = now
    })
  }
  return statuses
}

/** An acting command's network life: connect and sync, make sure some relay answered, act,
 *  then announce what is stale and close, whatever happened. */
export async function whileOnline<T>(ctx: Context, act: (online: Online) => Promise<T>, extraMs = 0): Promise<T> {
  const online = await connectAndSync(ctx, extraMs)
  try {
    requireRelay(online)
    return await act(online)
  } finally {
    await announceAndClose(ctx, online)
  }
}

/** The usual ending of an online command: announce what is stale, then close every socket. */
export async function announceAndClose(ctx: Context, online: Online): Promise<PublishStatus[]> {
  try {
    return await announce(ctx, online)
  } finally {
    online.session.close()
  }
}
