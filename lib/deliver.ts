// The sending edge: where a peer reads (NIP-17 inbox relays, else NIP-65 read relays, else
// ours), wrapping and publishing there plus a copy to ourselves, and the outbox that keeps
// whatever no relay accepted until a later run delivers it.
import { readFileSync } from 'node:fs'
import { createHash } from 'node:crypto'
import type { Event } from 'nostr-tools/pure'
import type { Context } from './context.ts'
import type { RelaySession, PublishStatus } from './relay/session.ts'
import type { State, OutboxEntry } from './state.ts'
import { buildRumor, wrapRumor, newId, CHUNK_BYTES, type P2PMessage, type Rumor } from './dm.ts'
import { signerFor, publicKeyOf } from './crypto/schnorr.ts'
import { checkKeyPair } from './identity.ts'
import { prepareBulk } from './crypto/nip44.ts'
import { INBOX_RELAYS_KIND, RELAY_LIST_KIND } from './presence.ts'
import { normalizeRelayUrl } from './relays.ts'

/** A peer's relay list is looked up again after this long. */
const INBOX_TTL_S = 3600
const MAX_PEER_RELAYS = 8

export interface Delivery {
  /** per target relay: ok when it accepted everything */
  relays: Array<{ url: string; ok: boolean; reason?: string }>
  delivered: boolean
  inboxSource: 'nip17' | 'nip65' | 'ours'
}

const now = () => Math.floor(Date.now() / 1000)

/** The relays a peer reads DMs from, from its kind 10050 list, else its NIP-65 read relays. */
export function inboxFromLists(events: Event[], peer: string): { relays: string[]; source: 'nip17' | 'nip65' } | null {
  const newest = (kind: number) => events.filter((e) => e.pubkey === peer && e.kind === kind).sort((a, b) => b.created_at - a.created_at)[0]
  const valid = (urls: string[]) => [...new Set(urls.flatMap((u) => { try { return [normalizeRelayUrl(u)] } catch { return [] } }))].slice(0, MAX_PEER_RELAYS)
  const inbox = newest(INBOX_RELAYS_KIND)
  const fromInbox = inbox ? valid(inbox.tags.filter((t) => t[0] === 'relay' && typeof t[1] === 'string').map((t) => t[1])) : []
  if (fromInbox.length) return { relays: fromInbox, source: 'nip17' }
  const list = newest(RELAY_LIST_KIND)
  const reads = list ? valid(list.tags.filter((t) => t[0] === 'r' && typeof t[1] === 'string' && (t[2] === undefined || t[2] === 'read')).map((t) => t[1])) : []
  return reads.length ? { relays: reads, source: 'nip65' } : null
}

async function peerInbox(ctx: Context, session: RelaySession, state: State, peer: string): Promise<{ relays: string[]; source: Delivery['inboxSource'] }> {
  const cached = state.inboxes[peer]
  if (cached && cached.at > now() - INBOX_TTL_S) return cached
  const outcome = await session.query([{ kinds: [INBOX_RELAYS_KIND, RELAY_LIST_KIND], authors: [peer] }], { deadline: Math.min(session.deadline, Date.now() + 1_500) }, ctx.relays)
  const found = inboxFromLists(outcome.events, peer)
  if (!found) return { relays: ctx.relays, source: 'ours' }
  await ctx.store.update((s) => void (s.inboxes[peer] = { ...found, at: now() }))
  return found
}

/** Wraps each rumor for the peer and publishes to its inbox; a copy of each to ourselves
 *  unless `selfCopy` is false. Delivered = every rumor accepted by at least one inbox relay. */
export async function deliver(ctx: Context, session: RelaySession, state: State, peer: string, rumors: Rumor[], selfCopy = true): Promise<Delivery> {
  const inbox = await peerInbox(ctx, session, state, peer)
  const accepted = new Map<string, number>(inbox.relays.map((u) => [u, 0]))
  const reasons = new Map<string, string>()
  let everyRumorLanded = true
  await checkKeyPair(ctx.identity, ctx.paths.identity, publicKeyOf)
  const sign = await signerFor()
  await prepareBulk(rumors.length * (selfCopy ? 2 : 1))
  await Promise.all(
    rumors.map(async (rumor) => {
      const toPeer = session.publish(wrapRumor(rumor, ctx.identity.secretKey, peer, sign), inbox.relays)
      const toSelf = selfCopy ? session.publish(wrapRumor(rumor, ctx.identity.secretKey, ctx.identity.pubkey, sign), ctx.relays) : Promise.resolve([])
      const [statuses] = await Promise.all([toPeer, toSelf])
      if (!statuses.some((s) => s.ok)) everyRumorLanded = false
      for (const s of statuses) tally(accepted, reasons, s)
    }),
  )
  return {
    relays: inbox.relays.map((url) => ({ url, ok: accepted.get(url) === rumors.length, ...(reasons.has(url) ? { reason: reasons.get(url) } : {}) })),
    delivered: everyRumorLanded,
    inboxSource: inbox.source,
  }
}

function tally(accepted: Map<string, number>, reasons: Map<string, string>, s: PublishStatus): void {
  if (s.ok) accepted.set(s.url, (accepted.get(s.url) ?? 0) + 1)
  else reasons.set(s.url, s.reason)
}

export const rumorFor = (ctx: Context, peer: string, msg: P2PMessage, at = now(), ms = Date.now()): Rumor =>
  buildRumor(msg, ctx.identity.pubkey, peer, at, ctx.name, ms)

/** Splits a file into chunk rumors (each fits one gift wrap), all stamped with the same time. */
export function fileRumors(ctx: Context, peer: string, callId: string, file: { fileId: string; name: string; data: Buffer; sha256?: string }, at = now(), ms = at * 1000): Rumor[] {
  const sha256 = file.sha256 ?? createHash('sha256').update(file.data).digest('hex')
  const total = Math.max(1, Math.ceil(file.data.length / CHUNK_BYTES))
  return Array.from({ length: total }, (_, index) =>
    rumorFor(ctx, peer, {
      type: 'file-chunk',
      callId,
      chunk: { fileId: file.fileId, name: file.name, size: file.data.length, sha256, index, total, data: file.data.subarray(index * CHUNK_BYTES, (index + 1) * CHUNK_BYTES).toString('base64') },
    }, at, ms),
  )
}

function queue(state: State, entry: Omit<OutboxEntry, 'queuedAt' | 'attempts'>, error: string): void {
  if (state.outbox.some((e) => e.id === entry.id)) return
  state.outbox.push({ ...entry, queuedAt: now(), attempts: 1, lastError: error })
}

/** Retries everything in the outbox; what a relay now accepts leaves it. */
export async function flushOutbox(ctx: Context, session: RelaySession, state: State): Promise<string[]> {
  const sent: string[] = []
  const failed = new Map<string, string>()
  for (const entry of state.outbox) {
    const rumors = entry.file
      ? fileRumors(ctx, entry.peer, entry.callId ?? '', { fileId: entry.file.fileId, name: entry.file.name, data: readFileSync(entry.file.path) }, entry.file.at, entry.file.ms)
      : entry.rumor ? [entry.rumor] : []
    const result = await deliver(ctx, session, state, entry.peer, rumors, !entry.file)
    if (result.delivered) sent.push(entry.id)
    else failed.set(entry.id, result.relays.map((r) => `${r.url}: ${r.reason ?? 'refused'}`).join('; '))
    ctx.out.log(`outbox ${entry.id.slice(0, 12)}: ${result.delivered ? 'delivered' : 'still queued'}`)
  }
  if (sent.length || failed.size) {
    await ctx.store.update((s) => {
      s.outbox = s.outbox.filter((e) => !sent.includes(e.id))
      for (const e of s.outbox) {
        if (!failed.has(e.id)) continue
        e.attempts++
        e.lastError = failed.get(e.id)
      }
    })
  }
  return sent
}

export const newCallId = () => newId(5)
export const newFileId = () => newId(8)

/** Delivers now, or queues in the outbox (exit 4) so that a later run delivers it. */
export async function deliverOrQueue(
  ctx: Context,
  session: RelaySession,
  state: State,
  peer: string,
  callId: string | null,
  rumors: Rumor[],
  file?: OutboxEntry['file'],
): Promise<Delivery & { queued: boolean }> {
  const result = await deliver(ctx, session, state, peer, rumors, !file)
  if (result.delivered) return { ...result, queued: false }
  const why = result.relays.map((r) => `${r.url}: ${r.reason ?? 'refused'}`).join('; ') || 'no relay to publish to'
  await ctx.store.update((s) => {
    if (file) queue(s, { id: file.fileId, peer, callId, file }, why)
    else for (const rumor of rumors) queue(s, { id: rumor.id, peer, callId, rumor }, why)
  })
  return { ...result, queued: true }
}
