// `answer accept` / `answer reject [reason]`: take or refuse the waiting incoming call.
import { acceptCall, rejectCall } from '../calls/actions.ts'
import type { Reply } from '../calls/inputs.ts'
import { peersOfCalls } from '../calls/queries.ts'
import { callView } from '../calls/views.ts'
import { type CommandResult, usageError } from '../errors.ts'
import { MAX_REASON } from '../limits.ts'
import type { Context } from '../session/context.ts'
import { rumorFor } from '../session/deliver.ts'
import { whileOnline } from '../session/online.ts'
import { enqueue, replyBestEffort, sendQueued } from '../session/outbox.ts'
import type { CallRecord } from '../store/schema.ts'
import { unixNow } from '../timing.ts'
import { printDelivery } from '../ui/delivery.ts'
import { describeCall } from '../ui/render.ts'

export async function answer(ctx: Context, decision: 'accept' | 'reject', reason: string, callId?: string): CommandResult {
  if (reason.length > MAX_REASON) throw usageError('bad-reason', `a reason is at most ${MAX_REASON} characters`, 'shorten it')
  return whileOnline(ctx, { writesTo: (s) => peersOfCalls(s, callId) }, async (online) => {
    const now = unixNow()
    const { call, others, entry, state } = await ctx.store.update((s) => {
      const { call, replies }: { call: CallRecord; replies: Reply[] } =
        decision === 'accept' ? acceptCall(s, callId, now, ctx.maxCalls) : { call: rejectCall(s, callId, reason, now), replies: [] }
      // accepting: the first reply is the accept, the others decline the calls left waiting
      const [answer, ...others] =
        decision === 'accept' ? replies : [{ peer: call.peer, msg: { type: 'call-reject' as const, callId: call.id, reason } }]
      const entry = enqueue(s, { peer: answer.peer, callId: call.id, rumor: rumorFor(ctx, answer.peer, answer.msg) })
      return { call, others, entry, state: s }
    })
    // the answer was queued before publishing; declining the others is best effort
    const [delivery] = await Promise.all([sendQueued(ctx, online.pool, state, entry), replyBestEffort(ctx, online.pool, state, others)])
    const view = callView(call, state)
    const headline = `${decision === 'accept' ? 'accepted' : 'declined'}: ${describeCall(view)}`
    const next = decision === 'accept' ? [`→ node p2p.js send ${ctx.maxCalls > 1 ? `--call ${call.id} ` : ''}"<message>"`] : []
    return printDelivery(ctx.out, { call: view }, delivery, 'answer', [headline], next)
  })
}
