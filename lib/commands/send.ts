// `send <message> [--call <id>]`: a message in the active call (the one named, when several are).
import { requireActive } from '../calls/actions.ts'
import { peersOfCalls } from '../calls/queries.ts'
import { addEntry } from '../calls/transcript.ts'
import { type CommandResult, usageError } from '../errors.ts'
import { CALL_ID_BYTES, MAX_EVENT_BYTES, MAX_MESSAGE_BYTES } from '../limits.ts'
import { wrappedSize } from '../nostr/nip59.ts'
import type { Context } from '../session/context.ts'
import { rumorFor } from '../session/deliver.ts'
import { whileOnline } from '../session/online.ts'
import { enqueue, sendQueued } from '../session/outbox.ts'
import { unixNow } from '../timing.ts'
import { printDelivery } from '../ui/delivery.ts'

export async function send(ctx: Context, text: string, callId?: string): CommandResult {
  const bytes = Buffer.byteLength(text)
  if (!text.trim()) throw usageError('empty-message', 'the message is empty', 'e.g. `node p2p.js send "here is the summary"`')
  // what counts is the gift wrap on the wire: JSON escaping can grow text six-fold
  const onWire = bytes > MAX_MESSAGE_BYTES ? 0 : wrappedSize(rumorFor(ctx, ctx.identity.pubkey, sizeProbe(text)))
  if (bytes > MAX_MESSAGE_BYTES || onWire > MAX_EVENT_BYTES) {
    throw usageError(
      'message-too-large',
      bytes > MAX_MESSAGE_BYTES
        ? `the message is ${bytes} bytes; one message holds at most ${MAX_MESSAGE_BYTES}`
        : `the message is ${bytes} bytes, but escaped and encrypted it takes ${Number.isFinite(onWire) ? onWire : 'over 65,535'} bytes, more than the ${MAX_EVENT_BYTES} one event may have`,
      'send long text as a file: `node p2p.js sendfile notes.md "$(base64 -w0 notes.md)"`',
    )
  }
  return whileOnline(ctx, { writesTo: (s) => peersOfCalls(s, callId) }, async (online) => {
    const now = unixNow()
    const { call, entry, state } = await ctx.store.update((s) => {
      const call = requireActive(s, now, callId)
      const ms = Date.now()
      const rumor = rumorFor(ctx, call.peer, { type: 'message', callId: call.id, text }, now, ms)
      addEntry(s, call, { id: rumor.id, from: ctx.identity.pubkey, at: now, ms, text }, now)
      return { call, entry: enqueue(s, { peer: call.peer, callId: call.id, rumor }), state: s }
    })
    const delivery = await sendQueued(ctx, online.pool, state, entry)
    return printDelivery(ctx.out, { callId: call.id }, delivery, 'message', [`sent in call ${call.id}`])
  })
}

/** The message as it will travel, with a call id of the real length (sizes do not depend on it). */
const sizeProbe = (text: string) => ({ type: 'message' as const, callId: '0'.repeat(2 * CALL_ID_BYTES), text })
