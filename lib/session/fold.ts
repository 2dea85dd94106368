// What a sync asks relays for, and how their answers fold into the state: pure functions of
// (state, relay results), so they are tested without a network. A sync sends three REQs to
// each relay: gift wraps alone (relays serve them only to their authenticated recipient, and
// strfry silently leaves them out of a REQ that mixes them with other filters), presence
// (read page by page), and our own lists plus the presence of agents we know.
import type { Filter } from 'nostr-tools/filter'
import type { Event } from 'nostr-tools/pure'
import { MAX_KNOWN_PEERS } from '../limits.ts'
import {
  GIFT_WRAP_KIND,
  INBOX_RELAYS_KIND,
  LEGACY_DM_KIND,
  PRESENCE_KIND,
  PRESENCE_TOPIC,
  PROFILE_KIND,
  RELAY_LIST_KIND,
} from '../nostr/kinds.ts'
import { parsePresence } from '../nostr/presence.ts'
import type { QueryResult, RelayReport } from '../nostr/relay/pool.ts'
import { makesKnown } from '../store/peers.ts'
import { healthOf, type RelayHealth } from '../store/relay-health.ts'
import type { AgentRecord, State } from '../store/schema.ts'
import {
  GIFT_WRAP_LOOKBACK_S,
  LEGACY_FIRST_LOOKBACK_S,
  LEGACY_OVERLAP_S,
  MAX_CLOCK_SKEW_S,
  NEG_PROBE_KNOWN_MS,
  NEG_PROBE_MS,
  NEG_RECHECK_S,
  NEG_RECHECK_SILENT_S,
  PRESENCE_OVERLAP_S,
} from '../timing.ts'
import type { RelayWarning } from '../ui/output.ts'
import { foldPaging, type PagedRead, type PagePlan, pagePlan } from './paging.ts'
import { noteSilence } from './silence.ts'

/** What one sync read, per REQ. */
export interface SyncReads {
  /** announcements and our own lists (gift wraps are opened apart) */
  events: Event[]
  /** `presence`: everyone's announcements, when the command read them */
  results: { presence?: QueryResult[]; lists: QueryResult[]; wraps: WrapResult[]; legacy?: PagedRead[] }
}

/** One relay's gift-wrap read (reconcile.ts). */
export interface WrapResult extends PagedRead {
  /** whether the relay reconciled by NIP-77, or showed that it does not speak it (by a refusal,
   *  or by no answer in time: `silent`), or that its answer cannot be trusted (reads need AUTH
   *  there, or it left out a wrap a REQ showed: `untrusted`) */
  negentropy?: 'ok' | 'unsupported' | 'silent' | 'untrusted'
}

/** Announcements within the online window, since the presence cursor. Like every paged read,
 *  it ends a little ahead of now: pages of events dated further ahead would be dropped whole,
 *  and the paging would stop on them. */
export function presenceFilter(state: State, now: number, onlineWindow: number): Filter {
  const cursor = state.cursor.presenceWindow >= onlineWindow ? state.cursor.presence - PRESENCE_OVERLAP_S : 0
  return { kinds: [PRESENCE_KIND], '#t': [PRESENCE_TOPIC], since: Math.max(now - onlineWindow, cursor), until: now + MAX_CLOCK_SKEW_S }
}

/** Our own announcements, relay lists and profile (to republish only where they are missing or stale),
 *  and the announcements of the agents we called or were in a call with (known: store/peers.ts,
 *  never callers nobody answered), which no flood can push out. */
export function listFilters(state: State, me: string, now: number, onlineWindow: number): Filter[] {
  const peers = [
    ...new Set(
      Object.values(state.calls)
        .filter(makesKnown)
        .sort((a, b) => b.updatedAt - a.updatedAt)
        .map((c) => c.peer),
    ),
  ]
  return [
    { kinds: [PRESENCE_KIND], authors: [me], '#t': [PRESENCE_TOPIC] },
    { kinds: [RELAY_LIST_KIND, INBOX_RELAYS_KIND, PROFILE_KIND], authors: [me] },
    ...(peers.length
      ? [{ kinds: [PRESENCE_KIND], authors: peers.slice(0, MAX_KNOWN_PEERS), '#t': [PRESENCE_TOPIC], since: now - onlineWindow }]
      : []),
  ]
}

/** Gift wraps for us on one relay: NIP-59 backdates them up to 2 days, so read that far behind
 *  the last sync that relay completed (a relay that was away gives up what it kept). */
export function wrapFilter(state: State, me: string, url: string, now: number): Filter {
  const cursor = state.giftWrapCursors[url] ?? (state.cursor.giftWrap || now)
  return { kinds: [GIFT_WRAP_KIND], '#p': [me], since: cursor - GIFT_WRAP_LOOKBACK_S, until: now + MAX_CLOCK_SKEW_S }
}

/** A relay's NIP-04 cursor: its own, else the single one of versions before (no longer moved). */
const legacyCursor = (state: State, url: string) => state.relayHealth[url]?.legacy?.cursor ?? state.cursor.legacy

/** NIP-04 DMs to us on one relay (config legacy on), read page by page as gift wraps are: they
 *  carry their real date, so a cursor with a little overlap is enough; after legacy was off for
 *  a while, no further back than gift wraps. */
export function legacyPlan(state: State, me: string, url: string, now: number): PagePlan {
  const cursor = legacyCursor(state, url)
  const walk = state.relayHealth[url]?.legacy?.paging
  // a first read that stopped short goes on over the window it began with
  const since = cursor ? Math.max(cursor - LEGACY_OVERLAP_S, now - GIFT_WRAP_LOOKBACK_S) : (walk?.top ?? now) - LEGACY_FIRST_LOOKBACK_S
  return pagePlan({ kinds: [LEGACY_DM_KIND], '#p': [me], since, until: now + MAX_CLOCK_SKEW_S }, cursor, walk, now)
}

/** A relay's NIP-04 read moves its cursor, or keeps how far back it got (paging.ts). */
function foldLegacy(state: State, read: PagedRead): void {
  const health = healthOf(state, read.url)
  // the next read goes back LEGACY_OVERLAP_S from the cursor: one that far past the newest DM
  // served still reads it again, and a flood dated just before it is not read again on every run
  const served = read.served === undefined ? undefined : read.served + LEGACY_OVERLAP_S
  const { cursor, walk } = foldPaging(legacyCursor(state, read.url), health.legacy?.paging, { ...read, served })
  if (cursor === undefined && !walk) delete health.legacy
  else health.legacy = { ...(cursor === undefined ? {} : { cursor }), ...(walk ? { paging: walk } : {}) }
}

export interface WrapPlan extends PagePlan {
  /** the whole window (for NIP-77) */
  window: Filter
  /** ask for NIP-77: not known to be unsupported, or last asked long ago */
  negentropy: boolean
  /** how long to wait for its first answer before taking silence for "no NIP-77" */
  negProbeMs: number
}

/** How one relay's gift wraps are read this run. */
export function wrapPlan(state: State, me: string, url: string, now: number): WrapPlan {
  const window = wrapFilter(state, me, url, now)
  const health = state.relayHealth[url]
  return {
    window,
    ...pagePlan(window, state.giftWrapCursors[url], health?.wrapPaging, now),
    negentropy:
      health?.negentropy !== false ||
      now - (health.negentropyCheckedAt ?? 0) >= (health.negentropySilent ? NEG_RECHECK_SILENT_S : NEG_RECHECK_S),
    negProbeMs: health?.negentropy === true ? NEG_PROBE_KNOWN_MS : NEG_PROBE_MS,
  }
}

/** A relay's gift-wrap read moves its cursor, or keeps how far back it got (paging.ts); it says
 *  whether the relay speaks NIP-77. */
function foldWraps(state: State, read: WrapResult, now: number): void {
  const health = healthOf(state, read.url)
  if (read.negentropy) {
    Object.assign(health, { negentropy: read.negentropy === 'ok', negentropyCheckedAt: now })
    if (read.negentropy === 'silent') health.negentropySilent = true
    else delete health.negentropySilent
  }
  // NIP-59 dates wraps up to 2 days back, so the newest served may be long before the read: held
  // there, the cursor would widen every later window (a quiet agent reading the same old wraps
  // page by page for days). No further back than the lookback, which is still safe for a clock
  // that far ahead: the next window reaches back that far from the cursor.
  const served = Math.max(read.served ?? Number.NEGATIVE_INFINITY, read.top - GIFT_WRAP_LOOKBACK_S)
  const { cursor, walk } = foldPaging(state.giftWrapCursors[read.url], health.wrapPaging, { ...read, served })
  if (cursor !== undefined) state.giftWrapCursors[read.url] = cursor
  if (walk) health.wrapPaging = walk
  else delete health.wrapPaging
}

/** What each read is, as a warning names it: DMs first, what a silent poll must not hide.
 *  Announcements are not among them: a stranger's flood past the page budget cuts that read on
 *  purpose (MAX_PRESENCE_PAGES), and would otherwise make every cron poll warn. */
const READS = [
  ['messages', 'wraps'],
  ['NIP-04 messages', 'legacy'],
  ['own lists', 'lists'],
] as const

/** The relays of `urls` that this sync did not read in full (no connection, a refusal, a CLOSED,
 *  no EOSE in time, a page-by-page read that stopped short), each once, with the first reason:
 *  anything they hold may not have been seen. */
export function unreadRelays(urls: string[], reads: SyncReads, reports: RelayReport[]): RelayWarning[] {
  return urls.flatMap((url) => {
    const report = reports.find((r) => r.url === url)
    if (report && !report.connected) return [{ relay: url, reason: report.error ?? 'unreachable' }]
    for (const [what, key] of READS) {
      const result = reads.results[key]?.find((r) => r.url === url)
      if (result && !result.complete) return [{ relay: url, reason: `${what}: ${result.reason ?? 'not read in full'}` }]
    }
    return []
  })
}

/** What a run learnt of a relay's cap on one answer (pages.ts). */
function foldCaps(health: RelayHealth, report: RelayReport, now: number): void {
  if (report.largestPage) health.largestPage = Math.max(health.largestPage ?? 0, report.largestPage)
  if (!report.info) return
  health.infoCheckedAt = now
  if (report.info.maxLimit) health.maxLimit = report.info.maxLimit
  else delete health.maxLimit
}

export interface SyncSummary {
  /** agents heard from that were not online before this sync */
  newAgents: string[]
}

/** The agents `events` announce (never ourselves), none seen later than `now`. */
export function announcedAgents(events: Event[], me: string, now: number): AgentRecord[] {
  return events.flatMap((event) => {
    const agent = event.pubkey === me ? null : parsePresence(event)
    return agent ? [{ ...agent, lastSeen: Math.min(agent.lastSeen, now) }] : []
  })
}

export function foldSync(
  state: State,
  reads: SyncReads,
  reports: RelayReport[],
  me: string,
  now: number,
  onlineWindow: number,
): SyncSummary {
  const newAgents: string[] = []
  for (const agent of announcedAgents(reads.events, me, now)) {
    const known = state.agents[agent.pubkey]
    if (known && known.lastSeen >= agent.lastSeen) continue
    if (!known || known.lastSeen < now - onlineWindow) newAgents.push(agent.pubkey)
    state.agents[agent.pubkey] = agent
  }
  const complete = (results: QueryResult[], url: string) => results.some((r) => r.url === url && r.complete)
  const { presence, lists, wraps } = reads.results
  const made = presence ? [presence, lists, wraps] : [lists, wraps]
  for (const report of reports) {
    const health = healthOf(state, report.url)
    foldCaps(health, report, now)
    if (report.connected) {
      if (report.asksAuth) health.asksAuth = true
      else delete health.asksAuth
      health.lastOk = now
      if (made.every((results) => complete(results, report.url))) health.lastSynced = now
      delete health.lastError
    } else {
      health.lastError = report.error ?? 'unreachable'
    }
    const answered = made.some((results) => complete(results, report.url))
    noteSilence(health, answered, report.heldBack === true, now)
  }
  // Only a relay that said EOSE has told us everything: without one, keep the old cursor. Never
  // past the newest announcement of another agent served (and the overlap the next read goes
  // back): a run whose clock was ahead would otherwise have later runs read none for that long.
  const served = Math.max(...reads.events.filter((e) => e.kind === PRESENCE_KIND && e.pubkey !== me).map((e) => e.created_at))
  const upTo = Math.min(now, Number.isFinite(served) ? served + PRESENCE_OVERLAP_S : state.cursor.presence)
  if (presence?.some((r) => r.complete)) state.cursor = { ...state.cursor, presence: upTo, presenceWindow: onlineWindow }
  for (const r of reads.results.wraps) foldWraps(state, r, now)
  for (const r of reads.results.legacy ?? []) foldLegacy(state, r)
  return { newAgents }
}
