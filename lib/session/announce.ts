// Keeping this agent findable: its presence, relay lists and profile, republished at the end of a run
// to each connected relay that lacks a current copy (presence that the state already shows due
// goes out beside the sync instead: announceEarly); an announcement under an earlier name is
// withdrawn (NIP-09), so that a rename leaves no ghost. Best effort: a relay gets ANNOUNCE_MS to
// answer, and one that did not is left alone until presence is due again, so that it cannot
// slow every run down.
import type { Event, EventTemplate } from 'nostr-tools/pure'
import { expirationOf, INBOX_RELAYS_KIND, newest, PRESENCE_KIND, PROFILE_KIND, RELAY_LIST_KIND, tagValue } from '../nostr/kinds.ts'
import { inboxRelaysEvent, relayListEvent, relayListIsCurrent } from '../nostr/nip65.ts'
import { type Presence, presenceEvent, presenceIsCurrent, profileEvent, profileIsCurrent, withdrawal } from '../nostr/presence.ts'
import type { PublishStatus, QueryOutcome, RelayPool } from '../nostr/relay/pool.ts'
import { healthOf } from '../store/relay-health.ts'
import type { OwnPresence, State } from '../store/schema.ts'
import { ANNOUNCE_MS, CONNECT_TIMEOUT_MS, PRESENCE_EXPIRY_S, PRESENCE_REFRESH_S, unixNow } from '../timing.ts'
import { VERSION } from '../version.ts'
import type { Context } from './context.ts'
import { announceToIndexers } from './indexers.ts'
import { signer } from './sign.ts'
import { silentRelays } from './silence.ts'
import type { Online } from './synced.ts'

function desiredPresence(ctx: Context): Presence {
  return {
    agentId: ctx.name,
    name: ctx.name,
    about: ctx.config.about ?? '',
    relays: ctx.relays,
    version: VERSION,
    capabilities: ctx.config.capabilities ?? [],
  }
}

const failedLately = (state: State, url: string, now: number) => (state.relayHealth[url]?.announceFailedAt ?? 0) > now - PRESENCE_REFRESH_S

export type EarlyAnnouncement = NonNullable<Awaited<Online['early']>>

/** Our presence where the state says it is due (no copy seen under this name, or one older than
 *  PRESENCE_REFRESH_S), published beside the sync's reads: a run that re-announces (every other
 *  cron poll) waits no round for it after the command. Not to relays held back as silent, and
 *  to each apart: announce() waits only for those that connected, and leaves them alone. */
export async function announceEarly(ctx: Context, pool: RelayPool, state: State): Promise<EarlyAnnouncement> {
  const now = unixNow()
  const presence = desiredPresence(ctx)
  const held = state.ownPresence?.name === presence.name ? state.ownPresence.relays : {}
  const madeAt = (url: string) => (held[url] ?? 0) - PRESENCE_EXPIRY_S
  const silent = new Set(silentRelays(state, ctx.relays, now))
  const due = ctx.relays.filter((url) => !silent.has(url) && !failedLately(state, url, now) && madeAt(url) <= now - PRESENCE_REFRESH_S)
  if (!due.length) return { published: {} }
  const sign = await signer(ctx)
  // later than any copy the relays may hold (of two dated the same second, relays keep the lower id)
  const event = sign(presenceEvent(presence, Math.max(now, ...ctx.relays.map((url) => madeAt(url) + 1))), ctx.identity.secretKey)
  const deadline = Math.min(pool.deadline, Date.now() + CONNECT_TIMEOUT_MS + ANNOUNCE_MS)
  const published = due.map((url) => [url, pool.publish(event, [url], deadline).then(([status]) => status)] as const)
  return { event, published: Object.fromEntries(published) }
}

/** Publishes our announcement and relay lists to each connected relay that lacks a current copy
 *  (but for those that took our presence beside the sync). */
export async function announce(ctx: Context, online: Online): Promise<PublishStatus[]> {
  const me = ctx.identity.pubkey
  const now = unixNow()
  const presence = desiredPresence(ctx)
  const connected = online.reports.filter((r) => r.connected && !failedLately(online.state, r.url, now)).map((r) => r.url)
  const early = (await online.early) ?? { published: {} }
  const tookEarly = await Promise.all(connected.map(async (url) => (await early.published[url])?.ok === true && url))
  const announcedEarly = new Set(tookEarly.filter((url) => url !== false))
  const lacking = (current: (url: string) => boolean) => connected.filter((url) => !current(url))
  const held = (url: string, kind: number) => heldBy(online.outcome, url, me, kind, kind === PRESENCE_KIND ? presence.agentId : undefined)
  // a replacement dated the same second as what it replaces may lose: of two, relays keep the lower id (NIP-01)
  const after = (kind: number, d?: string) => {
    const mine = newest(online.outcome.events, (e) => e.pubkey === me && e.kind === kind && (d === undefined || tagValue(e, 'd') === d))
    return Math.max(now, (mine?.created_at ?? 0) + 1)
  }
  const plans: Array<{ template: EventTemplate; urls: string[] }> = [
    {
      template: presenceEvent(presence, after(PRESENCE_KIND, presence.agentId)),
      urls: lacking((u) => announcedEarly.has(u) || presenceIsCurrent(held(u, PRESENCE_KIND), presence, now)),
    },
    {
      template: relayListEvent(ctx.relays, after(RELAY_LIST_KIND)),
      urls: lacking((u) => relayListIsCurrent(held(u, RELAY_LIST_KIND), ctx.relays)),
    },
    {
      template: inboxRelaysEvent(ctx.relays, after(INBOX_RELAYS_KIND)),
      urls: lacking((u) => relayListIsCurrent(held(u, INBOX_RELAYS_KIND), ctx.relays)),
    },
    { template: profileEvent(presence, after(PROFILE_KIND)), urls: lacking((u) => profileIsCurrent(held(u, PROFILE_KIND), presence)) },
  ]
  // our announcements under an earlier name, still served: withdrawn where they are
  const ghosts = online.outcome.events.filter(
    (e) => e.pubkey === me && e.kind === PRESENCE_KIND && tagValue(e, 'd') !== presence.agentId && (expirationOf(e) ?? 0) > now,
  )
  if (ghosts.length) {
    const servedBy = new Set(ghosts.flatMap((e) => [...(online.outcome.seenOn.get(e.id) ?? [])]))
    const names = [...new Set(ghosts.map((e) => tagValue(e, 'd') ?? ''))]
    plans.push({ template: withdrawal(me, names, now), urls: connected.filter((url) => servedBy.has(url)) })
  }
  const due = plans.filter((p) => p.urls.length > 0)
  // where our current announcement already is, and until when
  const visible: Record<string, number> = {}
  for (const url of announcedEarly) visible[url] = expirationOf(early.event as Event) ?? 0
  for (const url of connected) {
    if (visible[url]) continue
    const copy = held(url, PRESENCE_KIND)
    if (copy && presenceIsCurrent(copy, presence, now)) visible[url] = expirationOf(copy) ?? 0
  }
  const sign = due.length ? await signer(ctx) : undefined
  const deadline = Math.min(online.pool.deadline, Date.now() + ANNOUNCE_MS)
  const toIndexers = announceToIndexers(ctx, online, presence, deadline)
  const published = await Promise.all(
    due.map(async (p) => {
      const event = (sign as NonNullable<typeof sign>)(p.template, ctx.identity.secretKey)
      return { event, statuses: await online.pool.publish(event, p.urls, deadline) }
    }),
  )
  for (const { event, statuses } of published) {
    if (event.kind === PRESENCE_KIND) for (const s of statuses) if (s.ok) visible[s.url] = expirationOf(event) ?? 0
  }
  await toIndexers
  const statuses = published.flatMap((p) => p.statuses)
  const failed = [...new Set(statuses.filter((s) => !s.ok).map((s) => s.url))]
  // relays not read this run keep what we knew of them, under the same name
  const seenNow = (s: State): OwnPresence => {
    const before = s.ownPresence?.name === presence.name ? s.ownPresence.relays : {}
    const kept = Object.entries(before).filter(([url, until]) => until > now && !connected.includes(url))
    return { name: presence.name, relays: { ...Object.fromEntries(kept), ...visible } }
  }
  // a quiet run that learnt nothing new leaves the state file alone
  const same = (a: OwnPresence | undefined, b: OwnPresence) => JSON.stringify(a) === JSON.stringify(b)
  if (failed.length || !same(online.state.ownPresence, seenNow(online.state))) {
    await ctx.store.update((s) => {
      for (const url of failed) healthOf(s, url).announceFailedAt = now
      s.ownPresence = seenNow(s)
    })
  }
  return statuses
}

/** The newest of our own events of `kind` (and d tag) that `url` served. */
export function heldBy(outcome: QueryOutcome, url: string, me: string, kind: number, d?: string): Event | undefined {
  const servedMine = (e: Event) => e.pubkey === me && e.kind === kind && outcome.seenOn.get(e.id)?.has(url) === true
  return newest(outcome.events, (e) => servedMine(e) && (d === undefined || tagValue(e, 'd') === d))
}
