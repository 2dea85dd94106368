// The sending edge: where a peer reads (NIP-17 inbox relays, else NIP-65 read relays, else
// ours), and wrapping and publishing there, plus a copy to ourselves. Delivered means that a
// relay said `OK true`.
import { INBOX_RELAYS_KIND, RELAY_LIST_KIND } from '../nostr/kinds.ts'
import { prepareBulk } from '../nostr/nip44.ts'
import { wrapRumor } from '../nostr/nip59.ts'
import { type InboxSource, inboxFromLists } from '../nostr/nip65.ts'
import { buildRumor, type P2PMessage, type Rumor } from '../nostr/p2p.ts'
import type { PublishStatus, RelayPool } from '../nostr/relay/pool.ts'
import type { State } from '../store/schema.ts'
import { INBOX_LOOKUP_MS, INBOX_TTL_S, unixNow } from '../timing.ts'
import type { Context } from './context.ts'
import { signer } from './sign.ts'

export interface Delivery {
  /** per target relay: ok when it accepted everything */
  relays: Array<{ url: string; ok: boolean; reason?: string }>
  delivered: boolean
  inboxSource: InboxSource | 'ours'
}

export const rumorFor = (ctx: Context, peer: string, msg: P2PMessage, at = unixNow(), ms = Date.now()): Rumor =>
  buildRumor(msg, ctx.identity.pubkey, peer, at, ctx.name, ms)

async function peerInbox(
  ctx: Context,
  pool: RelayPool,
  state: State,
  peer: string,
): Promise<{ relays: string[]; source: Delivery['inboxSource'] }> {
  const cached = state.inboxes[peer]
  if (cached && cached.at > unixNow() - INBOX_TTL_S) return cached
  const deadline = Math.min(pool.deadline, Date.now() + INBOX_LOOKUP_MS)
  const outcome = await pool.query([{ kinds: [INBOX_RELAYS_KIND, RELAY_LIST_KIND], authors: [peer] }], { deadline }, ctx.relays)
  const found = inboxFromLists(outcome.events, peer)
  if (!found) return { relays: ctx.relays, source: 'ours' }
  await ctx.store.update((s) => {
    s.inboxes[peer] = { ...found, at: unixNow() }
  })
  return found
}

/** Wraps each rumor for the peer and publishes to its inbox; a copy of each to ourselves
 *  unless `selfCopy` is false. Delivered = every rumor accepted by at least one inbox relay. */
export async function deliver(
  ctx: Context,
  pool: RelayPool,
  state: State,
  peer: string,
  rumors: Rumor[],
  selfCopy = true,
): Promise<Delivery> {
  const inbox = await peerInbox(ctx, pool, state, peer)
  const accepted = new Map<string, number>(inbox.relays.map((u) => [u, 0]))
  const reasons = new Map<string, string>()
  let everyRumorLanded = true
  const sign = await signer(ctx)
  const wrapFor = (rumor: Rumor, recipient: string) => wrapRumor(rumor, ctx.identity.secretKey, recipient, sign)
  await prepareBulk(rumors.length * (selfCopy ? 2 : 1))
  await Promise.all(
    rumors.map(async (rumor) => {
      const toPeer = pool.publish(wrapFor(rumor, peer), inbox.relays)
      const toSelf = selfCopy ? pool.publish(wrapFor(rumor, ctx.identity.pubkey), ctx.relays) : Promise.resolve([])
      const [statuses] = await Promise.all([toPeer, toSelf])
      if (!statuses.some((s) => s.ok)) everyRumorLanded = false
      for (const s of statuses) tally(accepted, reasons, s)
    }),
  )
  return {
    relays: inbox.relays.map((url) => ({
      url,
      ok: accepted.get(url) === rumors.length,
      ...(reasons.has(url) ? { reason: reasons.get(url) } : {}),
    })),
    delivered: everyRumorLanded,
    inboxSource: inbox.source,
  }
}

function tally(accepted: Map<string, number>, reasons: Map<string, string>, s: PublishStatus): void {
  if (s.ok) accepted.set(s.url, (accepted.get(s.url) ?? 0) + 1)
  else reasons.set(s.url, s.reason)
}
