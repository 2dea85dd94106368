// DMs from keys that are not ours, published straight to a relay as another client would.
import { type Event, finalizeEvent, generateSecretKey, getPublicKey } from 'nostr-tools/pure'
import { conversationKey, encrypt } from '../../lib/nostr/nip44.ts'
import { type Sign, wrapRumor } from '../../lib/nostr/nip59.ts'
import { buildRumor, type Rumor } from '../../lib/nostr/p2p.ts'
import { RelaySocket } from '../../lib/nostr/relay/socket.ts'
import { signerFor } from '../../lib/nostr/schnorr.ts'

/** Gift wraps of `rumors`, signed with the CLI's WASM signer (a third of nostr-tools' time) and
 *  made a few at a time: the test process also serves the relays, and a loop blocked for
 *  seconds would make the CLI runs of tests running beside this one miss their connect timeout. */
export async function wrapAll(rumors: Rumor[], senders: Uint8Array[], recipient: string): Promise<Event[]> {
  const sign = await signerFor()
  const wraps: Event[] = []
  for (let i = 0; i < rumors.length; i++) {
    wraps.push(wrapRumor(rumors[i], senders[i % senders.length], recipient, sign))
    if (i % 10 === 9) await new Promise((resolve) => setImmediate(resolve))
  }
  return wraps
}

/** Publishes `count` NIP-17 DMs to `recipient` (hex), each from `senders` keys in turn. */
export async function sendDms(
  url: string,
  recipient: string,
  count: number,
  senders = [generateSecretKey()],
  text = (i: number) => `note ${i}`,
): Promise<void> {
  const now = Math.floor(Date.now() / 1000)
  const pubkeys = senders.map((sk) => getPublicKey(sk))
  const rumors = Array.from({ length: count }, (_, i) =>
    buildRumor({ type: 'dm', text: text(i) }, pubkeys[i % senders.length], recipient, now, 'stranger'),
  )
  const wraps = await wrapAll(rumors, senders, recipient)
  const socket = new RelaySocket(url, { log: () => {} })
  await socket.connect(2_000)
  try {
    const statuses = await Promise.all(wraps.map((w) => socket.publish(w, Date.now() + 30_000)))
    const refused = statuses.filter((s) => !s.ok)
    if (refused.length) throw new Error(`${refused.length} DMs refused: ${JSON.stringify(refused[0])}`)
  } finally {
    socket.close()
  }
}

/** A NIP-17 DM wrap from `sk` to `recipient` whose seal and wrap are dated `createdAt`
 *  (NIP-59 dates them at random up to two days back: a test picks the date), with a NIP-40
 *  `expiration` on the seal or the wrap when given (a disappearing message, NIP-17); signed
 *  with nostr-tools unless a faster signer is given (`signerFor`, for hundreds). */
export function datedDm(
  sk: Uint8Array,
  recipient: string,
  text: string,
  createdAt: number,
  expiration: { seal?: number; wrap?: number } = {},
  sign: Sign = finalizeEvent,
): Event {
  const rumor = buildRumor({ type: 'dm', text }, getPublicKey(sk), recipient, createdAt, 'stranger')
  const expires = (at?: number) => (at === undefined ? [] : [['expiration', String(at)]])
  const seal = sign(
    {
      kind: 13,
      created_at: createdAt,
      tags: expires(expiration.seal),
      content: encrypt(JSON.stringify(rumor), conversationKey(sk, recipient)),
    },
    sk,
  )
  const wrapKey = generateSecretKey()
  const content = encrypt(JSON.stringify(seal), conversationKey(wrapKey, recipient))
  return sign({ kind: 1059, created_at: createdAt, tags: [['p', recipient], ...expires(expiration.wrap)], content }, wrapKey)
}

/** Publishes events to a relay over one connection; throws when any is refused. */
export async function publishAll(url: string, events: Event[]): Promise<void> {
  const socket = new RelaySocket(url, { log: () => {} })
  await socket.connect(2_000)
  try {
    const statuses = await Promise.all(events.map((e) => socket.publish(e, Date.now() + 30_000)))
    const refused = statuses.filter((s) => !s.ok)
    if (refused.length) throw new Error(`${refused.length} events refused: ${JSON.stringify(refused[0])}`)
  } finally {
    socket.close()
  }
}
