// NIP-17 receiving: opens the gift wraps a sync brought, in bulk. Everything that fails a
// check is dropped and counted, never passed on.
import type { Event } from 'nostr-tools/pure'
import { prepareBulk } from './nip44.ts'
import { openWrap } from './nip59.ts'
import { type P2PMessage, parseRumor, type Rumor } from './p2p.ts'
import { verifyAll } from './schnorr.ts'

export interface Opened {
  wrapId: string
  wrapCreatedAt: number
  rumor: Rumor
  msg: P2PMessage
  /** a NIP-04 DM of the original skill (legacy.ts), not a gift wrap */
  legacy?: true
}

/** Opens wraps addressed to us; drops what does not open, has a bad seal signature, is not
 *  for us, or is not understood. */
export async function openWraps(
  wraps: Event[],
  me: string,
  secretKey: Uint8Array,
  log: (line: string) => void,
): Promise<{ opened: Opened[]; dropped: number }> {
  const candidates: Array<Opened & { seal: Event }> = []
  let dropped = 0
  const drop = (wrapId: string, why: string) => {
    dropped++
    log(`dropped gift wrap ${wrapId.slice(0, 12)}: ${why}`)
  }
  await prepareBulk(wraps.length)
  for (const wrap of wraps) {
    try {
      const { seal, rumor } = openWrap(wrap, secretKey)
      const recipients = rumor.tags.filter((t) => t[0] === 'p').map((t) => t[1])
      // a rumor names its recipient; our own copies (NIP-17) name the peer
      if (rumor.pubkey !== me && !recipients.includes(me)) throw new Error('rumor is not addressed to us')
      const msg = parseRumor(rumor)
      if (!msg) throw new Error(`rumor kind ${rumor.kind} not understood`)
      candidates.push({ wrapId: wrap.id, wrapCreatedAt: wrap.created_at, rumor, msg, seal })
    } catch (err) {
      drop(wrap.id, (err as Error).message)
    }
  }
  const valid = await verifyAll(candidates.map((c) => c.seal))
  const opened: Opened[] = []
  candidates.forEach(({ seal, ...c }, i) => {
    if (valid[i]) opened.push(c)
    else drop(c.wrapId, `the seal's signature is invalid (${seal.id.slice(0, 12)})`)
  })
  return { opened, dropped }
}
