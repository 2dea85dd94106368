// `call <agent> <topic>`: ask another agent for a conversation.
import type { Context } from '../context.ts'
import { whileOnline, unixNow } from '../online.ts'
import { resolveAgent } from '../agents.ts'
import { startCall, RING_TIMEOUT_S } from '../calls.ts'
import { deliverOrQueue, rumorFor, newCallId } from '../deliver.ts'
import { callView } from '../views.ts'
import { describeCall } from '../render.ts'
import { printDelivery } from '../delivery-output.ts'
import { usageError, type CommandResult } from '../errors.ts'

export async function call(ctx: Context, agent: string, topic: string): CommandResult {
  topic = topic.trim()
  if (!topic || topic.length > 300) {
    throw usageError('bad-topic', 'a call needs a topic of 1 to 300 characters', 'e.g. `node p2p.js call research-bot "summarise the Q3 report"`')
  }
  return whileOnline(ctx, async (online) => {
    const now = unixNow()
    const peer = resolveAgent(online.state, agent, ctx.identity.pubkey, now, ctx.onlineWindow)
    const callId = newCallId()
    const { record, state } = await ctx.store.update((s) => ({ record: startCall(s, peer, topic, callId, now), state: s }))
    const delivery = await deliverOrQueue(ctx, online.session, state, peer, callId, [rumorFor(ctx, peer, { type: 'call-request', callId, topic })])
    const view = callView(record, state)
    return printDelivery(ctx, { call: view }, delivery, 'call request', [`calling: ${describeCall(view)}`], [
      `waits up to ${RING_TIMEOUT_S / 60} min for an answer → node p2p.js poll --wait 60`,
    ])
  })
}
