// `call <agent> <topic>`: ask another agent for a conversation.
import { startCall } from '../calls/actions.ts'
import { resolveAgent, speaksOnlyNip04 } from '../calls/agents.ts'
import { callView } from '../calls/views.ts'
import { randomHex } from '../encoding.ts'
import { type CommandResult, stateError } from '../errors.ts'
import { CALL_ID_BYTES, MAX_TOPIC } from '../limits.ts'
import { parsePubkey } from '../nostr/keys.ts'
import { newLegacyCallId } from '../nostr/legacy.ts'
import type { Context } from '../session/context.ts'
import { rumorFor } from '../session/deliver.ts'
import { withFound } from '../session/discovery.ts'
import { whileOnline } from '../session/online.ts'
import { enqueue, sendQueued } from '../session/outbox.ts'
import type { State } from '../store/schema.ts'
import { RING_TIMEOUT_S, unixNow } from '../timing.ts'
import { printDelivery } from '../ui/delivery.ts'
import { describeCall } from '../ui/render.ts'
import { requiredText } from './input.ts'

export async function call(ctx: Context, agent: string, topic: string): CommandResult {
  topic = requiredText(topic, MAX_TOPIC, 'bad-topic', 'a call needs a topic', 'node p2p.js call research-bot "summarise the Q3 report"')
  const resolve = (state: State) => resolveAgent(state, agent, ctx.identity.pubkey, unixNow(), ctx.onlineWindow)
  // known before the sync (a key, or a name seen before): its relay lists come in the sync's flight
  const target = (state: State) => {
    try {
      return [resolve(state)]
    } catch {
      return []
    }
  }
  // a name is asked of relays beside the sync, however many others are online
  const discovery = parsePubkey(agent) ? {} : { lookup: { name: agent } }
  return whileOnline(ctx, { writesTo: target, discovery }, async (online) => {
    const now = unixNow()
    const seen = withFound(online.state, online.found)
    const peer = resolve(seen)
    // an agent of the original skill reads only NIP-04: spoken only when the user turned it on
    const legacy = speaksOnlyNip04(seen.agents[peer])
    if (legacy && !ctx.legacy) {
      throw stateError(
        'peer-speaks-nip04',
        `${agent} is an agent of the original p2p skill: it reads only NIP-04 DMs, which legacy (off) keeps us from sending`,
      )
    }
    const callId = legacy ? newLegacyCallId() : randomHex(CALL_ID_BYTES)
    const request = rumorFor(ctx, peer, { type: 'call-request', callId, topic, name: ctx.name })
    const { record, entry, state } = await ctx.store.update((s) => {
      const record = startCall(s, peer, topic, callId, now, ctx.maxCalls, legacy)
      return { record, entry: enqueue(s, { peer, callId, rumor: request }), state: s }
    })
    const delivery = await sendQueued(ctx, online.pool, state, entry)
    const view = callView(record, state)
    return printDelivery(
      ctx.out,
      { call: view },
      delivery,
      'call request',
      [`calling: ${describeCall(view)}`],
      [`ringing: the peer has up to ${RING_TIMEOUT_S / 60} min to answer (this command does not wait) → node p2p.js poll --wait 60`],
    )
  })
}
