// `share <ownerMessageId> [--call <id>]`: show the peer in the call a message of this agent's
// owner, with what lets the peer check that the owner's key signed it, to this agent, then
// (lib/nostr/owner-proof.ts): the owner's seal and that one message's keys, and the escalation
// it answers. Nothing else of the owner's conversation is disclosed.
import { requireActive } from '../calls/actions.ts'
import { proofEntry } from '../calls/escalation.ts'
import { peersOfCalls } from '../calls/queries.ts'
import { addEntry } from '../calls/transcript.ts'
import { type CommandResult, stateError, usageError } from '../errors.ts'
import { MAX_EVENT_BYTES, MAX_SHAREABLE } from '../limits.ts'
import { npub } from '../nostr/keys.ts'
import { wrappedSize } from '../nostr/nip59.ts'
import { checkProof, type OwnerProof, proofOf } from '../nostr/owner-proof.ts'
import type { Context } from '../session/context.ts'
import { rumorFor } from '../session/deliver.ts'
import { whileOnline } from '../session/online.ts'
import { enqueue, sendQueued } from '../session/outbox.ts'
import type { CallRecord, State } from '../store/schema.ts'
import { unixNow } from '../timing.ts'
import { printDelivery } from '../ui/delivery.ts'
import { requiredOwner } from './owner.ts'

export async function share(ctx: Context, rawId: string, callId?: string): CommandResult {
  const id = rawId.trim().toLowerCase()
  if (!/^[0-9a-f]{8,64}$/.test(id))
    throw usageError(
      'bad-message-id',
      `"${rawId}" is not a message id`,
      'take the `id` of an owner-message event from `node p2p.js poll --json`',
    )
  const owner = requiredOwner(ctx, 'show messages of')
  return whileOnline(ctx, { writesTo: (s) => peersOfCalls(s, callId) }, async (online) => {
    const now = unixNow()
    const { call, entry, state, proof } = await ctx.store.update((s) => {
      const call = requireActive(s, now, callId)
      if (call.legacy)
        throw stateError('not-shareable', `call ${call.id} is with an agent of the original skill, which cannot check a proof`)
      const { proof, check } = proofFor(s, ctx.identity.secretKey, ctx.identity.pubkey, id, call, owner)
      const ms = Date.now()
      const rumor = rumorFor(ctx, call.peer, { type: 'owner-proof', callId: call.id, proof }, now, ms)
      if (wrappedSize(rumor) > MAX_EVENT_BYTES)
        throw usageError('message-too-large', `that message of your owner is too long to show in one event (${MAX_EVENT_BYTES} bytes)`)
      addEntry(s, call, { id: rumor.id, from: ctx.identity.pubkey, at: now, ms, text: proofEntry(check) }, now)
      return { call, entry: enqueue(s, { peer: call.peer, callId: call.id, rumor }), state: s, proof: check }
    })
    const delivery = await sendQueued(ctx, online.pool, state, entry)
    const doc = {
      callId: call.id,
      ownerMessageId: id,
      owner: npub(proof.owner),
      ...(proof.escalationId ? { escalationId: proof.escalationId } : {}),
    }
    const answers = proof.escalationId ? `, with the escalation it answers (${proof.escalationId.slice(0, 8)})` : ''
    return printDelivery(ctx.out, doc, delivery, "owner's message", [
      `showed your owner's message to the peer in call ${call.id}${answers}`,
    ])
  })
}

/** The proof of the owner's message `id` (or the one whose id starts so), with the escalation
 *  it answers when we still have it; checked as the peer in `call` will check it. An answer to
 *  an escalation of another call is not shown: its question names that call's peer and topic. */
function proofFor(state: State, secretKey: Uint8Array, me: string, id: string, call: CallRecord, owner: string) {
  const matches = (state.ownerMessages ?? []).filter((m) => m.id.startsWith(id))
  if (matches.length !== 1)
    throw stateError(
      matches.length ? 'ambiguous-message-id' : 'no-such-owner-message',
      matches.length ? `${matches.length} messages of your owner have ids starting ${id}` : `no message of your owner has the id ${id}`,
      `give the whole \`id\` of an owner-message event (\`node p2p.js poll --json\`); the newest ${MAX_SHAREABLE} can be shown`,
    )
  // a message of an earlier owner would pass for the word of the one set now
  if (matches[0].seal.pubkey !== owner)
    throw stateError('not-shareable', `that message is from ${npub(matches[0].seal.pubkey)}, not from your owner now (${npub(owner)})`)
  const escalation = state.escalations.find((e) => e.id === matches[0].replyTo)
  // one asked outside any call names no peer or topic, and holds in any call
  if (escalation?.callId && escalation.callId !== call.id)
    throw stateError(
      'not-shareable',
      `that message answers an escalation of call ${escalation.callId}, not of call ${call.id}: its question would show that to this peer`,
    )
  let proof: OwnerProof
  try {
    proof = proofOf(matches[0].seal, secretKey, escalation?.rumor)
  } catch (err) {
    // a state edited by hand, or damaged: the kept seal does not open
    throw stateError('not-shareable', `that message cannot be shown: its seal does not open (${(err as Error).message})`)
  }
  const check = checkProof(proof, me, true, call.id)
  if (!check.verified) throw stateError('not-shareable', `that message cannot be shown: ${check.reason}`)
  return { proof, check }
}
