// DMs from keys that are not ours, published straight to a relay as another client would.
import { generateSecretKey, getPublicKey } from 'nostr-tools/pure'
import { wrapRumor } from '../../lib/nostr/nip59.ts'
import { buildRumor } from '../../lib/nostr/p2p.ts'
import { RelaySocket } from '../../lib/nostr/relay/socket.ts'

/** Publishes `count` NIP-17 DMs to `recipient` (hex), each from `senders` keys in turn. */
export async function sendDms(
  url: string,
  recipient: string,
  count: number,
  senders = [generateSecretKey()],
  text = (i: number) => `note ${i}`,
): Promise<void> {
  const socket = new RelaySocket(url, { log: () => {} })
  await socket.connect(2_000)
  const now = Math.floor(Date.now() / 1000)
  try {
    const statuses = await Promise.all(
      Array.from({ length: count }, (_, i) => {
        const sk = senders[i % senders.length]
        const rumor = buildRumor({ type: 'dm', text: text(i) }, getPublicKey(sk), recipient, now, 'stranger')
        return socket.publish(wrapRumor(rumor, sk, recipient), Date.now() + 30_000)
      }),
    )
    const refused = statuses.filter((s) => !s.ok)
    if (refused.length) throw new Error(`${refused.length} DMs refused: ${JSON.stringify(refused[0])}`)
  } finally {
    socket.close()
  }
}
