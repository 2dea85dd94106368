// `end`: end the active call (or cancel the ringing one); both sides keep a transcript.
import type { Context } from '../context.ts'
import { connectAndSync, announceAndClose, requireRelay, saveTranscript, unixNow } from '../online.ts'
import { endCall } from '../calls.ts'
import { deliverOrQueue, rumorFor } from '../deliver.ts'
import { transcriptOf } from '../transcript.ts'
import { renderTranscript } from '../render.ts'
import { queuedNotice } from '../delivery-output.ts'
import { EXIT, type CommandResult } from '../errors.ts'

export async function end(ctx: Context): CommandResult {
  const online = await connectAndSync(ctx)
  try {
    requireRelay(online)
    const now = unixNow()
    const { call, path, state } = await ctx.store.update((s) => {
      const call = endCall(s, now)
      return { call, path: saveTranscript(ctx, s, call.id), state: s }
    })
    const delivery = await deliverOrQueue(ctx, online.session, state, call.peer, call.id, [rumorFor(ctx, call.peer, { type: 'call-end', callId: call.id }, now)])
    const transcript = transcriptOf(call, state, { pubkey: ctx.identity.pubkey, name: ctx.name, owner: ctx.owner })
    ctx.out.result({ call: transcript.call, transcript: { path, messages: transcript.messages }, relays: delivery.relays, queued: delivery.queued }, () => [
      `ended ${transcript.call.id}`,
      ...renderTranscript(transcript, path),
      ...(delivery.queued ? queuedNotice('end of the call') : []),
    ])
    return delivery.queued ? EXIT.network : EXIT.ok
  } finally {
    await announceAndClose(ctx, online)
  }
}
