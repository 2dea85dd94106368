// `send <message>`: a message in the active call.
import { requireActive } from '../calls/actions.ts'
import { addEntry } from '../calls/machine.ts'
import { type CommandResult, usageError } from '../errors.ts'
import { MAX_MESSAGE_BYTES } from '../limits.ts'
import type { Context } from '../session/context.ts'
import { rumorFor } from '../session/deliver.ts'
import { whileOnline } from '../session/online.ts'
import { deliverOrQueue } from '../session/outbox.ts'
import { unixNow } from '../timing.ts'
import { printDelivery } from '../ui/delivery.ts'

export async function send(ctx: Context, text: string): CommandResult {
  const bytes = Buffer.byteLength(text)
  if (!text.trim()) throw usageError('empty-message', 'the message is empty', 'e.g. `node p2p.js send "here is the summary"`')
  if (bytes > MAX_MESSAGE_BYTES) {
    throw usageError(
      'message-too-large',
      `the message is ${bytes} bytes; one message holds at most ${MAX_MESSAGE_BYTES}`,
      'send long text as a file: `node p2p.js sendfile notes.md "$(base64 -w0 notes.md)"`',
    )
  }
  return whileOnline(ctx, async (online) => {
    const now = unixNow()
    const { call, rumor, state } = await ctx.store.update((s) => {
      const call = requireActive(s, now)
      const ms = Date.now()
      const rumor = rumorFor(ctx, call.peer, { type: 'message', callId: call.id, text }, now, ms)
      addEntry(call, { id: rumor.id, from: ctx.identity.pubkey, at: now, ms, text })
      return { call, rumor, state: s }
    })
    const delivery = await deliverOrQueue(ctx, online.pool, state, call.peer, call.id, [rumor])
    return printDelivery(ctx.out, { callId: call.id }, delivery, 'message', [`sent in call ${call.id}`])
  })
}
