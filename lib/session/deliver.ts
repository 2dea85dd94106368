// The sending edge: where a peer reads (NIP-17 inbox relays, else NIP-65 read relays, else
// ours), and wrapping and publishing there, plus a copy to ourselves (or, to an agent of the
// original skill, its NIP-04 DM). Delivered means that a relay the peer reads said `OK true`:
// one of its lists, or, for an agent of the original skill (which publishes none and reads the
// relays it shares with us), ours. A peer with no list anywhere gets it on our relays, best
// effort, and it is not counted as delivered: nothing says the peer reads there.
import type { Event } from 'nostr-tools/pure'
import { MAX_EVENT_BYTES } from '../limits.ts'
import { findTag, INBOX_RELAYS_KIND, LEGACY_DM_KIND, RELAY_LIST_KIND, TAG } from '../nostr/kinds.ts'
import { legacyDm, legacyPayload } from '../nostr/legacy.ts'
import { prepareBulk } from '../nostr/nip44.ts'
import { type Sign, wrapRumor } from '../nostr/nip59.ts'
import { type InboxSource, inboxFromLists } from '../nostr/nip65.ts'
import { buildRumor, type P2PMessage, parseRumor, type Rumor } from '../nostr/p2p.ts'
import type { QueryOutcome, RelayPool } from '../nostr/relay/pool.ts'
import { peerRelaysToUse } from '../nostr/relay-url.ts'
import type { State } from '../store/schema.ts'
import { INBOX_LOOKUP_MS, INBOX_TTL_S, unixNow } from '../timing.ts'
import type { Context } from './context.ts'
import { askWithIndexers, indexersToNote, noteIndexers } from './indexers.ts'
import { publishAll } from './publish.ts'
import { signer } from './sign.ts'

export interface Delivery {
  /** per target relay: ok when it accepted everything; `permanent` when it refused for good */
  relays: Array<{ url: string; ok: boolean; reason?: string; permanent?: boolean }>
  /** every rumor accepted by some relay the peer reads (see the top of this file) */
  delivered: boolean
  /** per rumor: accepted by some relay it was published to (delivered, or as near as we can
   *  get: publishing again to the same relays would not do better) */
  landed: boolean[]
  /** every inbox relay refused for good: sending again is pointless */
  permanent: boolean
  rateLimited: boolean
  inboxSource: InboxSource | 'ours'
  /** our copies (wrapped to ourselves): kept in `seen` by who records the delivery, so that the
   *  next sync does not fetch back what we wrote (NIP-77 would list them as missing) */
  ownCopies: Array<{ id: string; at: number }>
}

export const rumorFor = (ctx: Context, peer: string, msg: P2PMessage, at = unixNow(), ms = Date.now()): Rumor =>
  buildRumor(msg, ctx.identity.pubkey, peer, at, ctx.name, ms)

/** Where the peer reads, of the relays we may connect to (relay-url.ts: none that its list puts
 *  on our machine or network; to a `stranger`, a few public ones), else ours. */
async function peerInbox(
  ctx: Context,
  pool: RelayPool,
  state: State,
  peer: string,
  by: number,
  stranger: boolean,
): Promise<{ relays: string[]; source: Delivery['inboxSource'] }> {
  const found = await peerLists(ctx, pool, state, peer, by)
  const relays = found ? peerRelaysToUse(found.relays, ctx.relays, stranger) : []
  return found && relays.length ? { relays, source: found.source } : { relays: ctx.relays, source: 'ours' }
}

/** The relays the peer's lists name, cached for INBOX_TTL_S; null when it publishes none. */
async function peerLists(ctx: Context, pool: RelayPool, state: State, peer: string, by: number) {
  const cached = cachedInbox(state, peer)
  if (cached) return cached
  const lists = await (ahead.get(pool)?.get(peer) ?? askForLists(ctx, pool, peer, by))
  const found = inboxFromLists(lists.events, peer)
  if (found || indexersToNote(ctx, pool).length)
    await ctx.store.update((s) => {
      noteIndexers(ctx, s, pool, lists, unixNow())
      if (found) s.inboxes[peer] = { ...found, at: unixNow() }
    })
  return found
}

/** The peer's lists as kept, unless older than INBOX_TTL_S. */
function cachedInbox(state: State, peer: string) {
  const cached = state.inboxes[peer]
  return cached && cached.at > unixNow() - INBOX_TTL_S ? cached : undefined
}

/** Both lists from our relays and the indexers in one round: NIP-17 says a DM goes only to the
 *  10050's relays, so a 10050 that only an indexer has must beat a 10002 on our relays. */
const askForLists = (ctx: Context, pool: RelayPool, peer: string, by: number) =>
  askWithIndexers(ctx, pool, [{ kinds: [INBOX_RELAYS_KIND, RELAY_LIST_KIND], authors: [peer] }], Math.min(by, Date.now() + INBOX_LOOKUP_MS))

/** Lookups started ahead (lookAhead), per run's pool. */
const ahead = new WeakMap<RelayPool, Map<string, Promise<QueryOutcome>>>()

/** Starts looking up the lists of the peers a command will write to, where not cached, in the
 *  sync's flight: the command does not wait one more round for them after the sync. */
export function lookAhead(ctx: Context, pool: RelayPool, state: State, peers: string[]): void {
  const started = ahead.get(pool) ?? new Map<string, Promise<QueryOutcome>>()
  ahead.set(pool, started)
  for (const peer of peers) {
    if (started.has(peer) || cachedInbox(state, peer)) continue
    const lists = askForLists(ctx, pool, peer, pool.deadline)
    lists.catch(() => {}) // awaited (and its failure seen) only by a delivery that needs it
    started.set(peer, lists)
  }
}

interface DeliverOptions {
  /** a copy of each rumor wrapped to ourselves, to our relays (default true) */
  selfCopy?: boolean
  /** done by then (default: the run's deadline) */
  deadline?: number
  /** as NIP-04 DMs of the original skill (default: when the rumors' call is held that way) */
  legacy?: boolean
  /** to a key we never called (an automatic reply): a few of its public relays only (peerInbox) */
  stranger?: boolean
}

/** Whether a rumor belongs to a call held with an agent of the original skill. */
const legacyCall = (state: State, rumor: Rumor) => state.calls[findTag(rumor, TAG.p2p)?.[2] ?? '']?.legacy === true

/** Wraps each rumor for the peer and publishes to its inbox, paced (publish.ts), with a copy
 *  to ourselves unless `selfCopy` is false; to an agent of the original skill, each goes as its
 *  NIP-04 DM instead, and no copy is kept on relays. Never rejects (a rumor with no form in that
 *  protocol is a programming error: commands refuse such a message before queueing it). */
export async function deliver(
  ctx: Context,
  pool: RelayPool,
  state: State,
  peer: string,
  rumors: Rumor[],
  { selfCopy = true, deadline = pool.deadline, legacy = rumors.some((r) => legacyCall(state, r)), stranger = false }: DeliverOptions = {},
): Promise<Delivery> {
  const sign = await signer(ctx)
  if (legacy) return deliverEvents(ctx, pool, state, peer, legacyDms(ctx, rumors, peer, sign), undefined, deadline, stranger)
  await prepareBulk(rumors.length * (selfCopy ? 2 : 1))
  const wrapAll = (recipient: string) => rumors.map((rumor) => wrapRumor(rumor, ctx.identity.secretKey, recipient, sign))
  return deliverEvents(ctx, pool, state, peer, wrapAll(peer), selfCopy ? wrapAll(ctx.identity.pubkey) : undefined, deadline, stranger)
}

/** Publishes signed events to the peer's inbox relays (and `copies` to ours, alongside). */
export async function deliverEvents(
  ctx: Context,
  pool: RelayPool,
  state: State,
  peer: string,
  events: Event[],
  copies: Event[] | undefined,
  deadline = pool.deadline,
  stranger = false,
): Promise<Delivery> {
  const inbox = await peerInbox(ctx, pool, state, peer, deadline, stranger)
  const [toPeer] = await Promise.all([
    publishAll(pool, events, inbox.relays, deadline),
    copies ? publishAll(pool, copies, ctx.relays, deadline) : undefined,
  ])
  const relays = inbox.relays.map((url) => {
    const t = toPeer.relays.get(url) ?? { accepted: 0 }
    return { url, ok: t.accepted === events.length, ...(t.reason ? { reason: t.reason } : {}), ...(t.permanent ? { permanent: true } : {}) }
  })
  return {
    relays,
    // an agent of the original skill publishes no lists and reads the relays it shares with us
    delivered: toPeer.landed.every(Boolean) && (inbox.source !== 'ours' || events.every((e) => e.kind === LEGACY_DM_KIND)),
    landed: toPeer.landed,
    permanent: relays.length > 0 && relays.every((r) => r.permanent),
    rateLimited: toPeer.rateLimited,
    inboxSource: inbox.source,
    ownCopies: (copies ?? []).map((e) => ({ id: e.id, at: e.created_at })),
  }
}

/** The original skill's DM for each rumor (a rumor it has no words for is a programming error:
 *  commands refuse what cannot go to such an agent before they queue it). */
const legacyDms = (ctx: Context, rumors: Rumor[], peer: string, sign: Sign): Event[] =>
  rumors.map((rumor) => legacyRumorDm(ctx, peer, rumor, sign))

/** The original skill's DM for one of our rumors, dated as the rumor is. */
export function legacyRumorDm(ctx: Context, peer: string, rumor: Rumor, sign: Sign): Event {
  const msg = parseRumor(rumor)
  if (!msg) throw new Error(`rumor ${rumor.id} does not parse`)
  return legacyDmFor(ctx, peer, msg, rumor.created_at, sign)
}

/** The original skill's DM carrying `msg`, dated `at`, signed by us; throws when its protocol
 *  has no words for `msg`, or when the event would be larger than relays take. */
export function legacyDmFor(ctx: Context, peer: string, msg: P2PMessage, at: number, sign: Sign): Event {
  const payload = legacyPayload(msg, { agentId: ctx.name, name: ctx.name })
  if (!payload) throw new Error(`a ${msg.type} has no form in the original skill's protocol`)
  const event = legacyDm(payload, ctx.identity.secretKey, peer, at, sign)
  const bytes = Buffer.byteLength(JSON.stringify(event))
  if (bytes > MAX_EVENT_BYTES) throw new Error(`its NIP-04 DM would be ${bytes} bytes, over the ${MAX_EVENT_BYTES} relays take`)
  return event
}
