// Our NIP-44 (Node's crypto) against nostr-tools' (pure JavaScript), both ways, and against the
// official vectors on both key-agreement paths; the bulk signature check against nostr-tools' single one.

import { createCipheriv, createHash, createHmac } from 'node:crypto'
import { readFileSync } from 'node:fs'
import fc from 'fast-check'
import * as reference from 'nostr-tools/nip44'
import { finalizeEvent, generateSecretKey, getPublicKey } from 'nostr-tools/pure'
import { beforeAll, describe, expect, it, vi } from 'vitest'
import { conversationKey, decrypt, encrypt, MAX_PLAINTEXT, paddedLength, prepareBulk } from '../lib/nostr/nip44.ts'
import { signerFor, verifyAll } from '../lib/nostr/schnorr.ts'

// Counts libsecp256k1 key agreements, so each vector pass can prove which path derived its keys.
const wasmCalls = vi.hoisted(() => ({ count: 0 }))
vi.mock('tiny-secp256k1', async (importOriginal) => {
  const ecc = await importOriginal<typeof import('tiny-secp256k1')>()
  return {
    ...ecc,
    pointMultiply: (...args: Parameters<typeof ecc.pointMultiply>) => {
      wasmCalls.count++
      return ecc.pointMultiply(...args)
    },
  }
})

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
    expect(before.map((k) => k.toString('hex'))).toEqual(
      peers.map((p) => Buffer.from(reference.v2.utils.getConversationKey(p, getPublicKey(alice))).toString('hex')),
    )
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
    expect(() => decrypt(`#${payload.slice(1)}`, key)).toThrow()
    expect(() => decrypt(payload, conversationKey(alice, getPublicKey(generateSecretKey())))).toThrow(/MAC/)
  })
})

// The official vectors (paulmillr/nip44), pinned by the checksum NIP-44 publishes for them.
const VECTORS_SHA256 = '269ed0f69e4c192512cc779e78c555090cebc7c785b609e338a62afc3ce25040'
const vectorsFile = readFileSync(new URL('../fixtures/nip44.vectors.json', import.meta.url))
const { v2: vectors } = JSON.parse(vectorsFile.toString('utf8'))
const sha256 = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex')
const bytes = (hex: string) => Buffer.from(hex, 'hex')
const hex = (data: Uint8Array) => Buffer.from(data).toString('hex')

/** NIP-44 v2 framing of any padded plaintext, so tests can build payloads our encrypt never writes. */
function seal(convKey: Uint8Array, nonce: Uint8Array, padded: Uint8Array): string {
  const hmac = (key: Uint8Array, ...parts: Uint8Array[]) => parts.reduce((h, p) => h.update(p), createHmac('sha256', key)).digest()
  const t1 = hmac(convKey, nonce, Buffer.from([1]))
  const t2 = hmac(convKey, t1, nonce, Buffer.from([2]))
  const t3 = hmac(convKey, t2, nonce, Buffer.from([3]))
  const okm = Buffer.concat([t1, t2, t3])
  const cipher = createCipheriv('chacha20', okm.subarray(0, 32), Buffer.concat([Buffer.alloc(4), okm.subarray(32, 44)]))
  const ciphertext = Buffer.concat([cipher.update(padded), cipher.final()])
  return Buffer.concat([Buffer.from([2]), nonce, ciphertext, hmac(okm.subarray(44, 76), nonce, ciphertext)]).toString('base64')
}

/** Length prefix (u16, or zero u16 then u32), plaintext, zeros. */
function pad(text: Buffer, extended: boolean): Buffer {
  const start = extended ? 6 : 2
  const padded = Buffer.alloc(start + paddedLength(text.length))
  if (extended) padded.writeUInt32BE(text.length, 2)
  else padded.writeUInt16BE(text.length, 0)
  text.copy(padded, start)
  return padded
}

describe('NIP-44 v2 payload decoding', () => {
  it('uses the official vectors file, byte for byte', () => {
    expect(sha256(vectorsFile)).toBe(VECTORS_SHA256)
  })

  it('refuses payloads that are not strict base64', () => {
    // one vector whose payload ends in '=' and one in '==', both with '+' or '/' in them
    for (const v of [vectors.valid.encrypt_decrypt[2], vectors.valid.encrypt_decrypt[9]]) {
      const key = bytes(v.conversation_key)
      const payload: string = v.payload
      expect(decrypt(payload, key)).toBe(v.plaintext)
      const [, last, padding] = payload.match(/(.)(=+)$/)!
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
      const variants = {
        'a line break': `${payload.slice(0, 64)}\n${payload.slice(64)}`,
        'a space': `${payload.slice(0, 64)} ${payload.slice(64)}`,
        'a character outside the alphabet': `${payload.slice(0, 64)}*${payload.slice(64)}`,
        'the URL-safe alphabet': payload.replace(/\+/g, '-').replace(/\//g, '_'),
        'no padding': payload.replace(/=+$/, ''),
        'non-zero padding bits': payload.slice(0, -padding.length - 1) + alphabet[alphabet.indexOf(last) + 1] + padding,
      }
      for (const [name, variant] of Object.entries(variants)) {
        expect(variant, name).not.toBe(payload)
        expect(() => decrypt(variant, key), name).toThrow()
      }
    }
  })

  it('refuses an extended length prefix for a length below 65,536', () => {
    const { conversation_key, nonce } = vectors.valid.encrypt_decrypt[0]
    const key = bytes(conversation_key)
    for (const length of [1, 300, 65_535]) {
      const text = Buffer.alloc(length, 'a')
      // the same framing with the classic prefix is exactly what encrypt writes, and reads back
      const classic = seal(key, bytes(nonce), pad(text, false))
      expect(classic).toBe(encrypt(text.toString(), key, bytes(nonce)))
      expect(decrypt(classic, key)).toBe(text.toString())
      expect(() => decrypt(seal(key, bytes(nonce), pad(text, true)), key), `length ${length}`).toThrow(/padding/)
    }
  })

  it('reads the extended length prefix, matching the checksums NIP-44 publishes', () => {
    // nostr-protocol/nips 44.md, "Extended length prefix test vectors": plaintext 'a' repeated
    const key = bytes('c41c775356fd92eadc63ff5a0dc1da211b268cbea22316767095b2871ea1412d')
    const nonce = bytes('0000000000000000000000000000000000000000000000000000000000000001')
    const table = [
      [
        65_535,
        '6e1bebca6a8229364a162a72ef064826c4cd7457bf54f190ef782bd9deff3e42',
        '6d8c2810d1e870fbaa1f0a0937126cca837a15f9260e27060c331d70a3c0bc84',
      ],
      [
        65_536,
        'bf718b6f653bebc184e1479f1935b8da974d701b893afcf49e701f3e2f9f9c5a',
        'b7b4edb36ba92e267d322d56d9aebc22e7fa96ff52e3c12adc07f07a43cbc616',
      ],
      [
        65_537,
        '008ffc88d3c96a9f307524eb361e47c5222a887fc45fa0c1fb8d429c5c23b430',
        'eeb7c7c5373894ea2c1547cfd3ccb15d5a0b2d619da852e5c79df792dcc9e435',
      ],
    ] as const
    for (const [length, plaintextSha, payloadSha] of table) {
      const text = 'a'.repeat(length)
      expect(sha256(text)).toBe(plaintextSha)
      // our encrypt keeps the classic cap, so the longer two are framed here
      const payload = length <= MAX_PLAINTEXT ? encrypt(text, key, nonce) : seal(key, nonce, pad(Buffer.from(text), true))
      expect(sha256(payload), `length ${length}`).toBe(payloadSha)
      expect(decrypt(payload, key)).toBe(text)
    }
  })
})

type Nip44 = typeof import('../lib/nostr/nip44.ts')

/** Every v2 vector against a fresh module instance (its own key cache and key-agreement path). */
function officialVectors(path: string, wasm: boolean, load: () => Promise<Nip44>) {
  describe(`NIP-44 v2 official vectors, key agreement by ${path}`, () => {
    let nip44: Nip44
    const derived = new Set<string>()
    beforeAll(async () => {
      vi.resetModules()
      nip44 = await load()
    })

    // a key pair new to this instance must miss the cache and reach this pass's path
    const agree = (secretHex: string, publicHex: string): string => {
      const before = wasmCalls.count
      const key = hex(nip44.conversationKey(bytes(secretHex), publicHex))
      const fresh = !derived.has(`${secretHex}:${publicHex}`)
      derived.add(`${secretHex}:${publicHex}`)
      expect(wasmCalls.count - before, `${path} for ${secretHex}:${publicHex}`).toBe(fresh && wasm ? 1 : 0)
      return key
    }

    it('runs on a module instance of its own', () => {
      expect(nip44.conversationKey).not.toBe(conversationKey)
    })

    it('valid.get_conversation_key', () => {
      for (const v of vectors.valid.get_conversation_key) expect(agree(v.sec1, v.pub2)).toBe(v.conversation_key)
    })

    it('valid.calc_padded_len', () => {
      for (const [length, padded] of vectors.valid.calc_padded_len) expect(nip44.paddedLength(length), `${length}`).toBe(padded)
    })

    it('valid.encrypt_decrypt', () => {
      for (const v of vectors.valid.encrypt_decrypt) {
        expect(agree(v.sec1, getPublicKey(bytes(v.sec2)))).toBe(v.conversation_key)
        expect(nip44.encrypt(v.plaintext, bytes(v.conversation_key), bytes(v.nonce))).toBe(v.payload)
        const key = agree(v.sec2, getPublicKey(bytes(v.sec1)))
        expect(key).toBe(v.conversation_key)
        expect(nip44.decrypt(v.payload, bytes(key))).toBe(v.plaintext)
      }
      expect(derived.size).toBeGreaterThan(vectors.valid.encrypt_decrypt.length)
    })

    it('valid.encrypt_decrypt_long_msg', () => {
      const list = vectors.valid.encrypt_decrypt_long_msg
      expect(list.length).toBeGreaterThan(0)
      for (const v of list) {
        const text = v.pattern.repeat(v.repeat)
        expect(sha256(text)).toBe(v.plaintext_sha256)
        const payload = nip44.encrypt(text, bytes(v.conversation_key), bytes(v.nonce))
        expect(sha256(payload)).toBe(v.payload_sha256)
        expect(nip44.decrypt(payload, bytes(v.conversation_key))).toBe(text)
      }
    })

    it('invalid.encrypt_msg_lengths', () => {
      const key = bytes(vectors.valid.encrypt_decrypt[0].conversation_key)
      for (const length of vectors.invalid.encrypt_msg_lengths) expect(() => nip44.encrypt('a'.repeat(length), key), `${length}`).toThrow()
    })

    it('invalid.get_conversation_key', () => {
      for (const v of vectors.invalid.get_conversation_key) expect(() => nip44.conversationKey(bytes(v.sec1), v.pub2), v.note).toThrow()
    })

    it('refuses a zero or out-of-range secret key with a valid public key', () => {
      // the vectors pair every bad secret key with a public key that is off the curve anyway
      const n = 'fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141'
      const peer = getPublicKey(generateSecretKey())
      for (const secret of ['00'.repeat(32), n, `${n.slice(0, -1)}2`, 'ff'.repeat(32)]) {
        expect(() => nip44.conversationKey(bytes(secret), peer), secret).toThrow(/secret key|private key|tweak/i)
      }
    })

    it('invalid.decrypt', () => {
      for (const v of vectors.invalid.decrypt) expect(() => nip44.decrypt(v.payload, bytes(v.conversation_key)), v.note).toThrow()
    })
  })
}

officialVectors('OpenSSL', false, () => import('../lib/nostr/nip44.ts'))
officialVectors('libsecp256k1 (WASM)', true, async () => {
  const nip44 = await import('../lib/nostr/nip44.ts')
  await nip44.prepareBulk(1_000)
  return nip44
})

describe('bulk signature checks', () => {
  it('agree with nostr-tools, for a few events and for many', async () => {
    for (const count of [3, 60]) {
      const events = Array.from({ length: count }, (_, i) => finalizeEvent({ kind: 1, created_at: i, tags: [], content: `n${i}` }, alice))
      const tampered = events.map((e, i) =>
        i % 3 === 0
          ? { ...e, content: `${e.content}!` }
          : i % 3 === 1
            ? { ...e, sig: e.sig.replace(/.$/, (c) => (c === '0' ? '1' : '0')) }
            : e,
      )
      const copies = tampered.map((e) => JSON.parse(JSON.stringify(e)))
      expect(await verifyAll(copies)).toEqual(tampered.map((_e, i) => i % 3 === 2))
    }
  })
})

describe('bulk signature checks, given what a peer may put in a seal', () => {
  it('refuse fields longer than the WASM holds, or of other types, and leave later signing intact', async () => {
    const { verifyEvent } = await import('nostr-tools/pure')
    const good = finalizeEvent({ kind: 13, created_at: 1, tags: [], content: 'x' }, alice)
    const odd = [
      { ...good, sig: 'ab'.repeat(1_000) },
      { ...good, pubkey: `${good.pubkey}${'00'.repeat(500)}` },
      { ...good, id: good.id.slice(2) },
      { ...good, tags: [[{ toString: 1 }]] },
      { ...good, content: { toString: 1 } },
      { ...good, kind: '13' },
    ] as unknown as (typeof good)[]
    expect(await verifyAll([...odd, good])).toEqual([...odd.map(() => false), true])
    const sign = await signerFor()
    const after = sign({ kind: 1, created_at: 2, tags: [], content: 'still sound' }, alice)
    expect(verifyEvent(JSON.parse(JSON.stringify(after)))).toBe(true)
  })
})

describe('bulk signing', () => {
  it('signs with WASM, and nostr-tools accepts every signature', async () => {
    const { verifyEvent } = await import('nostr-tools/pure')
    const sign = await signerFor()
    const events = Array.from({ length: 30 }, (_, i) =>
      sign({ kind: 1059, created_at: i, tags: [['p', getPublicKey(bob)]], content: `w${i}` }, alice),
    )
    for (const e of events) {
      expect(e.pubkey).toBe(getPublicKey(alice))
      expect(verifyEvent(JSON.parse(JSON.stringify(e)))).toBe(true)
    }
  })
})
