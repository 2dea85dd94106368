// `end [--call <id>]`: end the active call (or cancel the ringing one; the one named); both sides keep a transcript.
import { endCall } from '../calls/actions.ts'
import { markCallShown } from '../calls/journal.ts'
import { peersOfCalls } from '../calls/queries.ts'
import type { CommandResult } from '../errors.ts'
import type { Context } from '../session/context.ts'
import { rumorFor } from '../session/deliver.ts'
import { whileOnline } from '../session/online.ts'
import { enqueue, sendQueued } from '../session/outbox.ts'
import { saveTranscript, transcriptFor } from '../session/transcripts.ts'
import { unixNow } from '../timing.ts'
import { printDelivery } from '../ui/delivery.ts'
import { renderTranscript } from '../ui/render.ts'

export async function end(ctx: Context, callId?: string): CommandResult {
  return whileOnline(ctx, { writesTo: (s) => peersOfCalls(s, callId) }, async (online) => {
    const now = unixNow()
    const { call, path, entry, state } = await ctx.store.update((s) => {
      const call = endCall(s, ctx.identity.pubkey, now, callId)
      markCallShown(s, call.id)
      const bye = rumorFor(ctx, call.peer, { type: 'call-end', callId: call.id }, now)
      const entry = enqueue(s, { peer: call.peer, callId: call.id, rumor: bye })
      return { call, path: saveTranscript(ctx, s, call.id), entry, state: s }
    })
    const delivery = await sendQueued(ctx, online.pool, state, entry)
    const transcript = transcriptFor(ctx, call, state)
    const doc = { call: transcript.call, transcript: { path, messages: transcript.messages } }
    return printDelivery(ctx.out, doc, delivery, 'end of the call', [`ended ${transcript.call.id}`, ...renderTranscript(transcript, path)])
  })
}
