// The network part of every online command: connect, sync into the state, keep presence and
// relay lists current, close. Commands call connectAndSync, act, then announce and close.
import { finalizeEvent, type EventTemplate } from 'nostr-tools/pure'
import type { Context } from './context.ts'
import type { State } from './state.ts'
import { RelaySession, type RelayReport, type PublishStatus, type QueryOutcome } from './relay/session.ts'
import { syncFilters, foldSync, heldBy, type SyncSummary } from './sync.ts'
import {
  presenceEvent,
  relayListEvent,
  inboxRelaysEvent,
  presenceIsCurrent,
  relayListIsCurrent,
  PRESENCE_KIND,
  RELAY_LIST_KIND,
  INBOX_RELAYS_KIND,
  type Presence,
} from './presence.ts'
import { networkError } from './errors.ts'
import { VERSION } from './version.ts'

export interface Online {
  session: RelaySession
  outcome: QueryOutcome
  reports: RelayReport[]
  state: State
  summary: SyncSummary
}

export const unixNow = () => Math.floor(Date.now() / 1000)

export async function connectAndSync(ctx: Context): Promise<Online> {
  const me = ctx.identity.pubkey
  const session = new RelaySession(ctx.relays, {
    timeoutMs: ctx.timeoutMs,
    log: ctx.out.log,
    signAuth: (template) => finalizeEvent(template, ctx.identity.secretKey),
  })
  try {
    const before = await ctx.store.read()
    const outcome = await session.query(syncFilters(before, me, unixNow(), ctx.onlineWindow))
    const reports = session.reports()
    const now = unixNow()
    const { state, summary } = await ctx.store.update((s) => ({
      state: s,
      summary: foldSync(s, outcome, reports, me, now, ctx.onlineWindow),
    }))
    ctx.out.log(`sync: ${outcome.events.length} events, ${summary.newAgents.length} new agents`)
    return { session, outcome, reports, state, summary }
  } catch (err) {
    session.close()
    throw err
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

/** Publishes our announcement and relay lists to each connected relay that lacks a current copy. */
export async function announce(ctx: Context, online: Online): Promise<PublishStatus[]> {
  const me = ctx.identity.pubkey
  const now = unixNow()
  const presence = desiredPresence(ctx)
  const connected = online.reports.filter((r) => r.connected).map((r) => r.url)
  const plans: Array<{ template: EventTemplate; urls: string[] }> = [
    { template: presenceEvent(presence, now), urls: connected.filter((u) => !presenceIsCurrent(heldBy(online.outcome, u, me, PRESENCE_KIND, presence.agentId), presence, now)) },
    { template: relayListEvent(ctx.relays, now), urls: connected.filter((u) => !relayListIsCurrent(heldBy(online.outcome, u, me, RELAY_LIST_KIND), ctx.relays)) },
    { template: inboxRelaysEvent(ctx.relays, now), urls: connected.filter((u) => !relayListIsCurrent(heldBy(online.outcome, u, me, INBOX_RELAYS_KIND), ctx.relays)) },
  ]
  const statuses = await Promise.all(
    plans
      .filter((p) => p.urls.length > 0)
      .map((p) => online.session.publish(finalizeEvent(p.template, ctx.identity.secretKey), p.urls)),
  )
  return statuses.flat()
}

/** The usual ending of an online command: announce what is stale, then close every socket. */
export async function announceAndClose(ctx: Context, online: Online): Promise<PublishStatus[]> {
  try {
    return await announce(ctx, online)
  } finally {
    online.session.close()
  }
}
