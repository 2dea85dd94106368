// `answer accept` / `answer reject [reason]`: take or refuse the waiting incoming call.
import type { Context } from '../context.ts'
import { connectAndSync, announceAndClose, requireRelay, unixNow } from '../online.ts'
import { acceptCall, rejectCall, type Reply } from '../calls.ts'
import { deliverOrQueue, rumorFor } from '../deliver.ts'
import { callView } from '../views.ts'
import { describeCall } from '../render.ts'
import { queuedNotice, relayLines } from '../delivery-output.ts'
import { usageError, EXIT, type CommandResult } from '../errors.ts'

export async function answer(ctx: Context, decision: string, reason: string, callId?: string): CommandResult {
  if (decision !== 'accept' && decision !== 'reject') {
    throw usageError('bad-answer', `"${decision}" is not an answer`, 'answer with `node p2p.js answer accept` or `node p2p.js answer reject "<reason>"`')
  }
  if (reason.length > 500) throw usageError('bad-reason', 'a reason is at most 500 characters', 'shorten it')
  const online = await connectAndSync(ctx)
  try {
    requireRelay(online)
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
      deliveries.push(await deliverOrQueue(ctx, online.session, state, reply.peer, call.id, [rumorFor(ctx, reply.peer, reply.msg)]))
    }
    const delivery = deliveries[0]
    const view = callView(call, state)
    ctx.out.result({ call: view, relays: delivery.relays, queued: delivery.queued }, () => [
      `${decision === 'accept' ? 'accepted' : 'declined'}: ${describeCall(view)}`,
      ...relayLines(delivery),
      ...(delivery.queued ? queuedNotice('answer') : decision === 'accept' ? ['→ node p2p.js send "<message>"'] : []),
    ])
    return delivery.queued ? EXIT.network : EXIT.ok
  } finally {
    await announceAndClose(ctx, online)
  }
}
