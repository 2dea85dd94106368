// `escalate <reason>`: hand a decision to this agent's human owner. The owner gets an ordinary
// NIP-17 DM, written for a person on a phone, on their inbox relays; the peer in the call (if
// any) is told that a human decision is pending. The owner's reply comes back as an
// `owner-message` event.
import type { Context } from '../context.ts'
import { whileOnline, unixNow } from '../online.ts'
import { deliverOrQueue, rumorFor } from '../deliver.ts'
import { addOwnEntry, callInProgress } from '../calls.ts'
import { peerName } from '../views.ts'
import { npub } from '../pubkey.ts'
import { printDelivery } from '../delivery-output.ts'
import { stateError, usageError, type CommandResult } from '../errors.ts'
import type { CallRecord, State } from '../state.ts'

/** What the owner reads on their phone. */
export function escalationText(agent: { name: string; npub: string }, call: CallRecord | undefined, state: State, reason: string): string {
  const where = call
    ? `In call ${call.id} with ${peerName(state, call.peer) || 'an agent'} (${npub(call.peer)}), about "${call.topic}".`
    : 'Not in a call.'
  return [
    `🙋 Your agent ${agent.name} needs a decision from you.`,
    '',
    `Reason: ${reason}`,
    '',
    where,
    `Agent: ${agent.npub}`,
    '',
    'Just reply to this message: your answer goes to the agent.',
  ].join('\n')
}

export async function escalate(ctx: Context, reason: string): CommandResult {
  reason = reason.trim()
  if (!reason || reason.length > 2000) {
    throw usageError('bad-reason', 'an escalation needs a reason of 1 to 2000 characters', 'e.g. `node p2p.js escalate "approve spending 40 USD on the dataset?"`')
  }
  const owner = ctx.owner
  if (!owner) {
    throw stateError('no-owner', 'no owner is set to escalate to', "set the owner's npub first: `node p2p.js config set owner npub1…`")
  }
  return whileOnline(ctx, async (online) => {
    const now = unixNow()
    const call = callInProgress(online.state)
    const toOwner = rumorFor(ctx, owner, { type: 'dm', text: escalationText({ name: ctx.name, npub: ctx.identity.npub }, call, online.state, reason) }, now)
    const toPeer = call ? rumorFor(ctx, call.peer, { type: 'escalation', callId: call.id, reason }, now) : undefined
    const state = await ctx.store.update((s) => {
      s.escalations.push({ id: toOwner.id, callId: call?.id ?? null, reason, at: now })
      const live = call && s.calls[call.id]
      if (live && toPeer) addOwnEntry(live, { id: toPeer.id, from: ctx.identity.pubkey, at: now, text: `🙋 handed a decision to a human: ${reason}` })
      return s
    })
    const delivery = await deliverOrQueue(ctx, online.session, state, owner, call?.id ?? null, [toOwner])
    const peer = call && toPeer ? await deliverOrQueue(ctx, online.session, state, call.peer, call.id, [toPeer]) : undefined
    const doc = { callId: call?.id ?? null, owner: { npub: npub(owner), relaySource: delivery.inboxSource }, peerNotified: peer ? !peer.queued : null }
    return printDelivery(
      ctx,
      doc,
      delivery,
      'escalation',
      [
        `escalated to your owner ${npub(owner)}${call ? ` (call ${call.id}; the peer was ${peer?.queued ? 'not yet told: queued' : 'told'})` : ''}`,
        `owner's relays (${RELAY_SOURCES[delivery.inboxSource]}):`,
      ],
      ['the reply will show in `node p2p.js poll` as an owner-message'],
    )
  })
}

const RELAY_SOURCES = { nip17: 'their NIP-17 inbox list', nip65: 'their NIP-65 read relays', ours: 'none published: ours' }
