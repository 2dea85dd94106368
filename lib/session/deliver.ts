// The sending edge: where a peer reads (NIP-17 inbox relays, else NIP-65 read relays, else
// ours), and wrapping and publishing there, plus a copy to ourselves. Delivered means that a
// relay said `OK true`.
import { INBOX_RELAYS_KIND, RELAY_LIST_KIND } from '../nostr/kinds.ts'
import { prepareBulk } from '../nostr/nip44.ts'
import { wrapRumor } from '../nostr/nip59.ts'
import { type InboxSource, inboxFromLists } from '../nostr/nip65.ts'
import { buildRumor, type P2PMessage, type Rumor } from '../nostr/p2p.ts'
import type { RelayPool } from '../nostr/relay/pool.ts'
import type { State } from '../store/schema.ts'
import { INBOX_LOOKUP_MS, INBOX_TTL_S, unixNow } from '../timing.ts'
import type { Context } from './context.ts'
import { askIndexers } from './indexers.ts'
import { publishAll } from './publish.ts'
import { signer } from './sign.ts'

export interface Delivery {
  /** per target relay: ok when it accepted everything; `permanent` when it refused for good */
  relays: Array<{ url: string; ok: boolean; reason?: string; permanent?: boolean }>
  /** every rumor accepted by some inbox relay */
  delivered: boolean
  /** per rumor: accepted by some inbox relay */
  landed: boolean[]
  /** every inbox relay refused for good: sending again is pointless */
  permanent: boolean
  rateLimited: boolean
  inboxSource: InboxSource | 'ours'
}

export const rumorFor = (ctx: Context, peer: string, msg: P2PMessage, at = unixNow(), ms = Date.now()): Rumor =>
  buildRumor(msg, ctx.identity.pubkey, peer, at, ctx.name, ms)

async function peerInbox(
  ctx: Context,
  pool: RelayPool,
  state: State,
  peer: string,
  by: number,
): Promise<{ relays: string[]; source: Delivery['inboxSource'] }> {
  const cached = state.inboxes[peer]
  if (cached && cached.at > unixNow() - INBOX_TTL_S) return cached
  const deadline = Math.min(by, Date.now() + INBOX_LOOKUP_MS)
  const filters = [{ kinds: [INBOX_RELAYS_KIND, RELAY_LIST_KIND], authors: [peer] }]
  const outcome = await pool.query(filters, { deadline }, ctx.relays)
  const found = inboxFromLists(outcome.events, peer) ?? inboxFromLists(await askIndexers(ctx, pool, filters, deadline), peer)
  if (!found) return { relays: ctx.relays, source: 'ours' }
  await ctx.store.update((s) => {
    s.inboxes[peer] = { ...found, at: unixNow() }
  })
  return found
}

interface DeliverOptions {
  /** a copy of each rumor wrapped to ourselves, to our relays (default true) */
  selfCopy?: boolean
  /** done by then (default: the run's deadline) */
  deadline?: number
}

/** Wraps each rumor for the peer and publishes to its inbox, paced (publish.ts), with a copy
 *  to ourselves unless `selfCopy` is false. Never rejects. */
export async function deliver(
  ctx: Context,
  pool: RelayPool,
  state: State,
  peer: string,
  rumors: Rumor[],
  { selfCopy = true, deadline = pool.deadline }: DeliverOptions = {},
): Promise<Delivery> {
  const inbox = await peerInbox(ctx, pool, state, peer, deadline)
  const sign = await signer(ctx)
  await prepareBulk(rumors.length * (selfCopy ? 2 : 1))
  const wrapAll = (recipient: string) => rumors.map((rumor) => wrapRumor(rumor, ctx.identity.secretKey, recipient, sign))
  const [toPeer] = await Promise.all([
    publishAll(pool, wrapAll(peer), inbox.relays, deadline),
    selfCopy ? publishAll(pool, wrapAll(ctx.identity.pubkey), ctx.relays, deadline) : undefined,
  ])
  const relays = inbox.relays.map((url) => {
    const t = toPeer.relays.get(url) ?? { accepted: 0 }
    return { url, ok: t.accepted === rumors.length, ...(t.reason ? { reason: t.reason } : {}), ...(t.permanent ? { permanent: true } : {}) }
  })
  return {
    relays,
    delivered: toPeer.landed.every(Boolean),
    landed: toPeer.landed,
    permanent: relays.length > 0 && relays.every((r) => r.permanent),
    rateLimited: toPeer.rateLimited,
    inboxSource: inbox.source,
  }
}
