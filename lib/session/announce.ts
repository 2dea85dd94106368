// Keeping this agent findable: its presence, relay lists and profile, republished at the end of a run
// to each connected relay that lacks a current copy; an announcement under an earlier name is
// withdrawn (NIP-09), so that a rename leaves no ghost. Best effort: a relay gets ANNOUNCE_MS to
// answer, and one that did not is left alone until presence is due again, so that it cannot
// slow every run down.
import type { Event, EventTemplate } from 'nostr-tools/pure'
import { expirationOf, INBOX_RELAYS_KIND, newest, PRESENCE_KIND, PROFILE_KIND, RELAY_LIST_KIND, tagValue } from '../nostr/kinds.ts'
import { inboxRelaysEvent, relayListEvent, relayListIsCurrent } from '../nostr/nip65.ts'
import { type Presence, presenceEvent, presenceIsCurrent, profileEvent, profileIsCurrent, withdrawal } from '../nostr/presence.ts'
import type { PublishStatus, QueryOutcome } from '../nostr/relay/pool.ts'
import { healthOf } from '../store/relay-health.ts'
import type { OwnPresence, State } from '../store/schema.ts'
import { ANNOUNCE_MS, PRESENCE_REFRESH_S, unixNow } from '../timing.ts'
import { VERSION } from '../version.ts'
import type { Context } from './context.ts'
import { announceToIndexers } from './indexers.ts'
import { signer } from './sign.ts'
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

/** Publishes our announcement and relay lists to each connected relay that lacks a current copy. */
export async function announce(ctx: Context, online: Online): Promise<PublishStatus[]> {
  const me = ctx.identity.pubkey
  const now = unixNow()
  const presence = desiredPresence(ctx)
  const failedLately = (url: string) => (online.state.relayHealth[url]?.announceFailedAt ?? 0) > now - PRESENCE_REFRESH_S
  const connected = online.reports.filter((r) => r.connected && !failedLately(r.url)).map((r) => r.url)
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
      urls: lacking((u) => presenceIsCurrent(held(u, PRESENCE_KIND), presence, now)),
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
  for (const url of connected) {
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
