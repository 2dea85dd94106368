// `end`: end the active call (or cancel the ringing one); both sides keep a transcript.
import type { Context } from '../context.ts'
import { whileOnline, saveTranscript, unixNow } from '../online.ts'
import { endCall } from '../calls.ts'
import { deliverOrQueue, rumorFor } from '../deliver.ts'
import { transcriptFor } from '../transcript.ts'
import { renderTranscript } from '../render.ts'
import { printDelivery } from '../delivery-output.ts'
import type { CommandResult } from '../errors.ts'

export async function end(ctx: Context): CommandResult {
  return whileOnline(ctx, async (online) => {
    const now = unixNow()
    const { call, path, state } = await ctx.store.update((s) => {
      const call = endCall(s, now)
      return { call, path: saveTranscript(ctx, s, call.id), state: s }
    })
    const delivery = await deliverOrQueue(ctx, online.session, state, call.peer, call.id, [rumorFor(ctx, call.peer, { type: 'call-end', callId: call.id }, now)])
    const transcript = transcriptFor(ctx, call, state)
    const doc = { call: transcript.call, transcript: { path, messages: transcript.messages } }
    return printDelivery(ctx, doc, delivery, 'end of the call', [`ended ${transcript.call.id}`, ...renderTranscript(transcript, path)])
  })
}
