// `answer accept` / `answer reject [reason]`: take or refuse the waiting incoming call.
import type { Context } from '../context.ts'
import { whileOnline, unixNow } from '../online.ts'
import { acceptCall, rejectCall, type Reply } from '../calls.ts'
import { deliverOrQueue, rumorFor } from '../deliver.ts'
import { callView } from '../views.ts'
import { describeCall } from '../render.ts'
import { printDelivery } from '../delivery-output.ts'
import { usageError, type CommandResult } from '../errors.ts'

export async function answer(ctx: Context, decision: string, reason: string, callId?: string): CommandResult {
  if (decision !== 'accept' && decision !== 'reject') {
    throw usageError('bad-answer', `"${decision}" is not an answer`, 'answer with `node p2p.js answer accept` or `node p2p.js answer reject "<reason>"`')
  }
  if (reason.length > 500) throw usageError('bad-reason', 'a reason is at most 500 characters', 'shorten it')
  return whileOnline(ctx, async (online) => {
    const now = unixNow()
    const { call, replies, state } = await ctx.store.update((s) => {
      if (decision === 'accept') return { ...acceptCall(s, callId, now), state: s }
      const call = rejectCall(s, callId, reason, now)
      const replies: Reply[] = [{ peer: call.peer, msg: { type: 'call-reject', callId: call.id, reason } }]
      return { call, replies, state: s }
    })
    // the first reply is the answer itself; any others decline calls left waiting
    const deliveries = []
    for (const reply of replies) {
      deliveries.push(await deliverOrQueue(ctx, online.session, state, reply.peer, reply.msg.callId, [rumorFor(ctx, reply.peer, reply.msg)]))
    }
    const view = callView(call, state)
    const headline = `${decision === 'accept' ? 'accepted' : 'declined'}: ${describeCall(view)}`
    return printDelivery(ctx, { call: view }, deliveries[0], 'answer', [headline], decision === 'accept' ? ['→ node p2p.js send "<message>"'] : [])
  })
}
