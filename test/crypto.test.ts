// Our NIP-44 (Node's crypto) against nostr-tools' (pure JavaScript), both ways, and the
// bulk signature check against nostr-tools' single one.
import { describe, it, expect } from 'vitest'
import fc from 'fast-check'
import { generateSecretKey, getPublicKey, finalizeEvent } from 'nostr-tools/pure'
import * as reference from 'nostr-tools/nip44'
import { conversationKey, encrypt, decrypt, paddedLength, prepareBulk, MAX_PLAINTEXT } from '../lib/crypto/nip44.ts'
import { verifyAll, signerFor } from '../lib/crypto/schnorr.ts'

const alice = generateSecretKey()
const bob = generateSecretKey()

describe('NIP-44 v2', () => {
  it('derives the same conversation key as nostr-tools, from both sides', () => {
    const key = conversationKey(alice, getPublicKey(bob))
    expect(Buffer.from(key).equals(Buffer.from(reference.v2.utils.getConversationKey(alice, getPublicKey(bob))))).toBe(true)
    expect(Buffer.from(conversationKey(bob, getPublicKey(alice))).equals(Buffer.from(key))).toBe(true)
  })

  it('derives the same keys with libsecp256k1 (WASM) for bulk work', async () => {
    const peers = Array.from({ length: 5 }, () => generateSecretKey())
    const before = peers.map((p) => Buffer.from(conversationKey(p, getPublicKey(alice))))
    await prepareBulk(1_000)
    const after = peers.map((p) => Buffer.from(conversationKey(bob, getPublicKey(p))))
    const expected = peers.map((p) => Buffer.from(reference.v2.utils.getConversationKey(bob, getPublicKey(p))))
    expect(after.map((k) => k.toString('hex'))).toEqual(expected.map((k) => k.toString('hex')))
    expect(before.map((k) => k.toString('hex'))).toEqual(peers.map((p) => Buffer.from(reference.v2.utils.getConversationKey(p, getPublicKey(alice))).toString('hex')))
  })

  it('pads as the spec says', () => {
    expect([1, 32, 33, 64, 65, 100, 256, 257, 1000, 65535].map(paddedLength)).toEqual([32, 32, 64, 64, 96, 128, 256, 320, 1024, 65536])
  })

  it('reads what nostr-tools writes and the other way round, for any text up to the limit', () => {
    const key = conversationKey(alice, getPublicKey(bob))
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 3000 }), (text) => {
        expect(decrypt(reference.v2.encrypt(text, key), key)).toBe(text)
        expect(reference.v2.decrypt(encrypt(text, key), key)).toBe(text)
      }),
      { numRuns: 200 },
    )
    const big = 'é'.repeat(MAX_PLAINTEXT / 2 - 1)
    expect(reference.v2.decrypt(encrypt(big, key), key)).toBe(big)
    expect(() => encrypt('x'.repeat(MAX_PLAINTEXT + 1), key)).toThrow(/1 to 65535/)
  })

  it('refuses tampered, truncated or foreign payloads', () => {
    const key = conversationKey(alice, getPublicKey(bob))
    const payload = encrypt('secret', key)
    const bytes = Buffer.from(payload, 'base64')
    bytes[40] ^= 1
    expect(() => decrypt(bytes.toString('base64'), key)).toThrow(/MAC/)
    expect(() => decrypt(payload.slice(0, 100), key)).toThrow()
    expect(() => decrypt('#' + payload.slice(1), key)).toThrow()
    expect(() => decrypt(payload, conversationKey(alice, getPublicKey(generateSecretKey())))).toThrow(/MAC/)
  })
})

describe('bulk signature checks', () => {
  it('agree with nostr-tools, for a few events and for many', async () => {
    for (const count of [3, 60]) {
      const events = Array.from({ length: count }, (_, i) => finalizeEvent({ kind: 1, created_at: i, tags: [], content: `n${i}` }, alice))
      const tampered = events.map((e, i) => (i % 3 === 0 ? { ...e, content: e.content + '!' } : i % 3 === 1 ? { ...e, sig: e.sig.replace(/.$/, (c) => (c === '0' ? '1' : '0')) } : e))
      const copies = tampered.map((e) => JSON.parse(JSON.stringify(e)))
      expect(await verifyAll(copies)).toEqual(tampered.map((_e, i) => i % 3 === 2))
    }
  })
})

describe('bulk signing', () => {
  it('signs with WASM, and nostr-tools accepts every signature', async () => {
    const { verifyEvent } = await import('nostr-tools/pure')
    const sign = await signerFor()
    const events = Array.from({ length: 30 }, (_, i) => sign({ kind: 1059, created_at: i, tags: [['p', getPublicKey(bob)]], content: `w${i}` }, alice))
    for (const e of events) {
      expect(e.pubkey).toBe(getPublicKey(alice))
      expect(verifyEvent(JSON.parse(JSON.stringify(e)))).toBe(true)
    }
  })
})
