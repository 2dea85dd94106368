// Signing for this agent. The first signature of a run checks, once, that the identity's
// recorded public key is its secret key's (quiet runs trust the file and never pay for that).
import type { Sign } from '../nostr/nip59.ts'
import { publicKeyOf, signerFor } from '../nostr/schnorr.ts'
import { checkKeyPair } from '../store/identity.ts'
import type { Context } from './context.ts'

/** The WASM signer (any key: ours, or a gift wrap's throw-away one), once the identity is checked. */
export async function signer(ctx: Context): Promise<Sign> {
  await checkKeyPair(ctx.identity, ctx.paths.identity, publicKeyOf)
  return signerFor()
}
