// `escalate <reason>`: hand a decision to this agent's human owner. The owner gets an ordinary
// NIP-17 DM, written for a person on a phone, on their inbox relays; the peer in the call (if
// any; the one named with --call when several are active) is told that a human decision is
// pending. The owner's reply comes back as an `owner-message` event.
import { escalatedCall } from '../calls/actions.ts'
import { escalationEntry, escalationText } from '../calls/escalation.ts'
import { peersOfCalls } from '../calls/queries.ts'
import { addEntry } from '../calls/transcript.ts'
import type { CommandResult } from '../errors.ts'
import { MAX_REASON } from '../limits.ts'
import { npub } from '../nostr/keys.ts'
import { askedInCall } from '../nostr/owner-proof.ts'
import type { Context } from '../session/context.ts'
import { rumorFor } from '../session/deliver.ts'
import { whileOnline } from '../session/online.ts'
import { enqueue, sendQueued } from '../session/outbox.ts'
import { unixNow } from '../timing.ts'
import { printDelivery } from '../ui/delivery.ts'
import { requiredText } from './input.ts'
import { OWNER_RELAY_SOURCES, requiredOwner } from './owner.ts'

export async function escalate(ctx: Context, reason: string, callId?: string): CommandResult {
  const example = 'node p2p.js escalate "approve spending 40 USD on the dataset?"'
  reason = requiredText(reason, MAX_REASON, 'bad-reason', 'an escalation needs a reason', example)
  const owner = requiredOwner(ctx, 'escalate to')
  return whileOnline(ctx, { writesTo: (s) => [owner, ...peersOfCalls(s, callId)] }, async (online) => {
    const now = unixNow()
    const call = escalatedCall(online.state, callId)
    const text = escalationText({ name: ctx.name, npub: ctx.identity.npub }, call, online.state, reason)
    const toOwner = askedInCall(rumorFor(ctx, owner, { type: 'dm', text }, now), call?.id)
    const toPeer = call ? rumorFor(ctx, call.peer, { type: 'escalation', callId: call.id, reason }, now) : undefined
    const { state, entries } = await ctx.store.update((s) => {
      s.escalations.push({ id: toOwner.id, callId: call?.id ?? null, reason, at: now, rumor: toOwner })
      const live = call && s.calls[call.id]
      if (live && toPeer) addEntry(s, live, { id: toPeer.id, from: ctx.identity.pubkey, at: now, ...escalationEntry(reason) }, now)
      const entries = [enqueue(s, { peer: owner, callId: call?.id ?? null, rumor: toOwner })]
      if (live && toPeer) entries.push(enqueue(s, { peer: live.peer, callId: live.id, rumor: toPeer }))
      return { state: s, entries }
    })
    const [delivery, peer] = await Promise.all(entries.map((e) => sendQueued(ctx, online.pool, state, e)))
    const doc = {
      callId: call?.id ?? null,
      escalationId: toOwner.id,
      owner: { npub: npub(owner), relaySource: delivery.inboxSource, escalationId: toOwner.id },
      peerNotified: peer ? peer.delivered : null,
    }
    const told = call
      ? ` (call ${call.id}; the peer was ${peer?.delivered ? 'told' : peer?.queued ? 'not yet told: queued' : peer?.failed ? 'not told' : 'told on our relays only: it publishes no inbox list'})`
      : ''
    return printDelivery(
      ctx.out,
      doc,
      delivery,
      'escalation',
      [
        `escalated to your owner ${npub(owner)}${told}`,
        `escalation ${toOwner.id}`,
        `owner's relays (${OWNER_RELAY_SOURCES[delivery.inboxSource]}):`,
      ],
      ['the reply will show in `node p2p.js poll` as an owner-message naming this escalation (escalationId)'],
    )
  })
}
