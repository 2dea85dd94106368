// `call <agent> <topic>`: ask another agent for a conversation.
import { startCall } from '../calls/actions.ts'
import { resolveAgent } from '../calls/agents.ts'
import { callView } from '../calls/views.ts'
import { randomHex } from '../encoding.ts'
import type { CommandResult } from '../errors.ts'
import { CALL_ID_BYTES, MAX_TOPIC } from '../limits.ts'
import type { Context } from '../session/context.ts'
import { rumorFor } from '../session/deliver.ts'
import { whileOnline } from '../session/online.ts'
import { enqueue, sendQueued } from '../session/outbox.ts'
import { RING_TIMEOUT_S, unixNow } from '../timing.ts'
import { printDelivery } from '../ui/delivery.ts'
import { describeCall } from '../ui/render.ts'
import { requiredText } from './input.ts'

export async function call(ctx: Context, agent: string, topic: string): CommandResult {
  topic = requiredText(topic, MAX_TOPIC, 'bad-topic', 'a call needs a topic', 'node p2p.js call research-bot "summarise the Q3 report"')
  return whileOnline(ctx, async (online) => {
    const now = unixNow()
    const peer = resolveAgent(online.state, agent, ctx.identity.pubkey, now, ctx.onlineWindow)
    const callId = randomHex(CALL_ID_BYTES)
    const request = rumorFor(ctx, peer, { type: 'call-request', callId, topic })
    const { record, entry, state } = await ctx.store.update((s) => {
      const record = startCall(s, peer, topic, callId, now, ctx.maxCalls)
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
