// What `escalate`, `notify` and `share` need of the owner: that one is set, and how its relays
// were found.
import { stateError } from '../errors.ts'
import type { Context } from '../session/context.ts'

/** Where a message to the owner went, as the printed line says it. */
export const OWNER_RELAY_SOURCES = { nip17: 'their NIP-17 inbox list', nip65: 'their NIP-65 read relays', ours: 'none published: ours' }

/** The owner's hex key; exit 3 with how to set one when none is. */
export function requiredOwner(ctx: Context, what: string): string {
  if (ctx.ownerPubkey) return ctx.ownerPubkey
  throw stateError('no-owner', `no owner is set to ${what}`, "set the owner's npub first: `node p2p.js config set owner npub1…`")
}
