// `notify <text>`: tell this agent's human owner something that asks no decision (a result, a
// deal closed), as an ordinary NIP-17 DM on their inbox relays. No peer is told.
import { noteText } from '../calls/escalation.ts'
import type { CommandResult } from '../errors.ts'
import { MAX_NOTE } from '../limits.ts'
import { npub } from '../nostr/keys.ts'
import type { Context } from '../session/context.ts'
import { rumorFor } from '../session/deliver.ts'
import { whileOnline } from '../session/online.ts'
import { enqueue, sendQueued } from '../session/outbox.ts'
import { unixNow } from '../timing.ts'
import { printDelivery } from '../ui/delivery.ts'
import { requiredText } from './input.ts'
import { OWNER_RELAY_SOURCES, requiredOwner } from './owner.ts'

export async function notify(ctx: Context, raw: string): CommandResult {
  const note = requiredText(raw, MAX_NOTE, 'bad-note', 'a note needs a text', 'node p2p.js notify "deal closed: 3 rate files at 12 USD"')
  const owner = requiredOwner(ctx, 'notify')
  return whileOnline(ctx, { writesTo: () => [owner] }, async (online) => {
    const rumor = rumorFor(ctx, owner, { type: 'dm', text: noteText({ name: ctx.name, npub: ctx.identity.npub }, note) }, unixNow())
    const { state, entry } = await ctx.store.update((s) => ({ state: s, entry: enqueue(s, { peer: owner, callId: null, rumor }) }))
    const delivery = await sendQueued(ctx, online.pool, state, entry)
    const doc = { callId: null, noteId: rumor.id, owner: { npub: npub(owner), relaySource: delivery.inboxSource } }
    return printDelivery(ctx.out, doc, delivery, 'note', [
      `told your owner ${npub(owner)} (note ${rumor.id})`,
      `owner's relays (${OWNER_RELAY_SOURCES[delivery.inboxSource]}):`,
    ])
  })
}
