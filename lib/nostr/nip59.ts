// NIP-59 sealing and gift wrapping, on our NIP-44 (lib/nostr/nip44.ts): a rumor is sealed
// (kind 13, signed by the sender) and the seal wrapped (kind 1059, signed by a throw-away key),
// both encrypted, both dated at random within the last two days.
import { type Event, type EventTemplate, finalizeEvent, generateSecretKey, getEventHash } from 'nostr-tools/pure'
import { TIMESTAMP_SPREAD_S } from '../timing.ts'
import { GIFT_WRAP_KIND, SEAL_KIND } from './kinds.ts'
import { conversationKey, decrypt, encrypt, payloadLength } from './nip44.ts'
import type { Rumor } from './p2p.ts'

export type Sign = (template: EventTemplate, secretKey: Uint8Array) => Event

const randomPast = () => Math.floor(Date.now() / 1000 - Math.random() * TIMESTAMP_SPREAD_S)

/** Seals and gift-wraps a rumor for `recipient` (signing with nostr-tools unless a faster
 *  signer is given). */
export function wrapRumor(rumor: Rumor, senderSecretKey: Uint8Array, recipient: string, sign: Sign = finalizeEvent): Event {
  const sealed = encrypt(JSON.stringify(rumor), conversationKey(senderSecretKey, recipient))
  const seal = sign({ kind: SEAL_KIND, created_at: randomPast(), tags: [], content: sealed }, senderSecretKey)
  const wrapKey = generateSecretKey()
  const wrapped = encrypt(JSON.stringify(seal), conversationKey(wrapKey, recipient))
  return sign({ kind: GIFT_WRAP_KIND, created_at: randomPast(), tags: [['p', recipient]], content: wrapped }, wrapKey)
}

/** The size in bytes of the gift wrap `rumor` makes, as JSON on the wire; Infinity when NIP-44
 *  cannot carry it. Computed, not built (no signing): ids, keys, signatures and dates have
 *  fixed lengths, and a NIP-44 payload's length depends only on its plaintext's. */
export function wrappedSize(rumor: Rumor): number {
  const hex = (n: number) => '0'.repeat(n)
  const date = randomPast()
  const around = (kind: number, tags: string[][], plaintext: string) => {
    const length = payloadLength(Buffer.byteLength(plaintext))
    if (length === undefined) return undefined
    return JSON.stringify({ kind, created_at: date, tags, content: 'A'.repeat(length), pubkey: hex(64), id: hex(64), sig: hex(128) })
  }
  const seal = around(SEAL_KIND, [], JSON.stringify(rumor))
  const wrap = seal === undefined ? undefined : around(GIFT_WRAP_KIND, [['p', rumor.pubkey]], seal)
  return wrap === undefined ? Number.POSITIVE_INFINITY : Buffer.byteLength(wrap)
}

/** Opens a gift wrap addressed to us, down to its seal and rumor. Checks that the seal is a
 *  seal and that its signer wrote the rumor, and recomputes the rumor id; the seal's signature
 *  is left to the caller, to check in bulk. Throws on anything that does not open. */
export function openWrap(wrap: Event, recipientSecretKey: Uint8Array): { seal: Event; rumor: Rumor } {
  const seal = JSON.parse(decrypt(wrap.content, conversationKey(recipientSecretKey, wrap.pubkey)))
  if (!seal || seal.kind !== SEAL_KIND || typeof seal.pubkey !== 'string' || typeof seal.content !== 'string') {
    throw new Error('not a seal')
  }
  const rumor = JSON.parse(decrypt(seal.content, conversationKey(recipientSecretKey, seal.pubkey)))
  if (!rumor || typeof rumor !== 'object' || !Array.isArray(rumor.tags) || typeof rumor.created_at !== 'number') {
    throw new Error('malformed rumor')
  }
  if (rumor.pubkey !== seal.pubkey) throw new Error('the seal was signed by someone other than the rumor author')
  return { seal, rumor: { ...rumor, id: getEventHash(rumor) } }
}
