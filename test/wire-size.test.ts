// The size a gift wrap will have on the wire, computed without building it, is exactly the
// size of the wrap built: plain, escaped, multi-byte and control-character text.
import { generateSecretKey, getPublicKey } from 'nostr-tools/pure'
import { describe, expect, it } from 'vitest'
import { wrappedSize, wrapRumor } from '../lib/nostr/nip59.ts'
import { buildRumor } from '../lib/nostr/p2p.ts'

describe('the size of a gift wrap on the wire', () => {
  const sk = generateSecretKey()
  const to = getPublicKey(generateSecretKey())
  it.each([
    ['short', 'hi'],
    ['plain', 'x'.repeat(16_000)],
    ['quotes', '"'.repeat(14_000)],
    ['multi-byte', '€😀'.repeat(2_000)],
    ['controls', '\x01'.repeat(4_000)],
  ])('%s text', (_name, text) => {
    const rumor = buildRumor({ type: 'message', callId: '0123456789', text }, getPublicKey(sk), to, 1_795_674_285, 'agent')
    expect(wrappedSize(rumor)).toBe(Buffer.byteLength(JSON.stringify(wrapRumor(rumor, sk, to))))
  })

  it('is Infinity when NIP-44 cannot carry it', () => {
    const rumor = buildRumor({ type: 'message', callId: '0123456789', text: '\x01'.repeat(12_000) }, to, to, 1_795_674_285, 'agent')
    expect(wrappedSize(rumor)).toBe(Number.POSITIVE_INFINITY)
  })
})
