// `answer accept` / `answer reject [reason]`: take or refuse the waiting incoming call.
import { acceptCall, rejectCall } from '../calls/actions.ts'
import type { Reply } from '../calls/machine.ts'
import { callView } from '../calls/views.ts'
import { type CommandResult, usageError } from '../errors.ts'
import { MAX_REASON } from '../limits.ts'
import type { Context } from '../session/context.ts'
import { rumorFor } from '../session/deliver.ts'
import { whileOnline } from '../session/online.ts'
import { deliverOrQueue } from '../session/outbox.ts'
import { unixNow } from '../timing.ts'
import { printDelivery } from '../ui/delivery.ts'
import { describeCall } from '../ui/render.ts'

export async function answer(ctx: Context, decision: 'accept' | 'reject', reason: string, callId?: string): CommandResult {
  if (reason.length > MAX_REASON) throw usageError('bad-reason', `a reason is at most ${MAX_REASON} characters`, 'shorten it')
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
      deliveries.push(await deliverOrQueue(ctx, online.pool, state, reply.peer, reply.msg.callId, [rumorFor(ctx, reply.peer, reply.msg)]))
    }
    const view = callView(call, state)
    const headline = `${decision === 'accept' ? 'accepted' : 'declined'}: ${describeCall(view)}`
    const next = decision === 'accept' ? ['→ node p2p.js send "<message>"'] : []
    return printDelivery(ctx.out, { call: view }, deliveries[0], 'answer', [headline], next)
  })
}
