// Owner proofs (issue 27, point 1): what a peer can tell from an owner's message an agent shows
// it. The owner's seal is made by nostr-tools (another implementation of NIP-59 than ours), as
// an owner's client would make it; every way a proof can be altered is unverified, with why.
import { createRumor, createSeal } from 'nostr-tools/nip59'
import { type Event, generateSecretKey, getEventHash, getPublicKey } from 'nostr-tools/pure'
import { describe, expect, it } from 'vitest'
import { openHere } from '../lib/nostr/nip17.ts'
import { wrapRumor } from '../lib/nostr/nip59.ts'
import { askedInCall, checkProof, type OwnerProof, proofOf } from '../lib/nostr/owner-proof.ts'
import { buildRumor, parseRumor, type Rumor } from '../lib/nostr/p2p.ts'

const [ownerKey, agentKey, peerKey, otherKey] = [generateSecretKey(), generateSecretKey(), generateSecretKey(), generateSecretKey()]
const [owner, agent, peer, other] = [ownerKey, agentKey, peerKey, otherKey].map(getPublicKey)
const now = Math.floor(Date.now() / 1000)

const CALL = 'c0ffee00'
/** The escalation the agent sent its owner in call CALL, as escalate builds it. */
const question: Rumor = askedInCall(
  buildRumor({ type: 'dm', text: '🙋 Your agent needs a decision.\n\nReason: 12 USD a file?' }, agent, owner, now, 'agent'),
  CALL,
)
/** The owner's answer, sealed by the owner's client to `to`. */
const answer = (text: string, tags: string[][] = [['e', question.id, '', 'reply']], to = agent): Event =>
  createSeal(createRumor({ kind: 14, content: text, tags: [['p', to], ...tags], created_at: now }, ownerKey), ownerKey, to)

const check = (proof: OwnerProof, sharer = agent, signed = true, callId = CALL) => checkProof(proof, sharer, signed, callId)

describe('an owner proof', () => {
  it("is verified: the owner's words, key and time, and the exact question they answered", () => {
    const proof = proofOf(answer('Approved: 12 USD a file.'), agentKey, question)
    expect(check(proof)).toEqual({
      verified: true,
      text: 'Approved: 12 USD a file.',
      owner,
      sentAt: now,
      escalationId: question.id,
      question: question.content,
    })
    // the message keys open this one message: the conversation key is not in the proof
    expect(proof.keys).toMatch(/^[0-9a-f]{152}$/)
    expect(JSON.stringify(proof)).not.toContain(Buffer.from(agentKey).toString('hex'))
  })

  it('without a question only when the message answers none', () => {
    const result = check(proofOf(answer('FYI: the budget is 50 USD.', []), agentKey))
    expect(result).toMatchObject({ verified: true, text: 'FYI: the budget is 50 USD.' })
    expect(result.question).toBeUndefined()
    // an answer shown without what it answers is not verified: the question may be of another
    // deal (a sharer dropping it to reuse an old yes)
    expect(check(proofOf(answer('yes'), agentKey))).toMatchObject({ verified: false, reason: expect.stringMatching(/not shown/) })
  })

  it('holds only in the call its question was asked in: an old yes is not a yes in another deal', () => {
    expect(check(proofOf(answer('yes'), agentKey, question), agent, true, 'beef0000')).toMatchObject({
      verified: false,
      reason: expect.stringMatching(/another call \(c0ffee00\)/),
    })
  })

  it('never throws on a question of any shape, and is not verified', () => {
    for (const odd of [{ ...question, content: { toString: 1 } }, { ...question, tags: 'p' }, { ...question, tags: [[1]] }, 'text', []]) {
      const result = check({ ...proofOf(answer('yes'), agentKey), question: odd as unknown as Rumor })
      expect(result.verified, JSON.stringify(odd)).toBe(false)
    }
  })

  it.each<[string, () => [OwnerProof, string?, boolean?], RegExp]>([
    ['a seal whose signature does not check', () => [proofOf(answer('yes'), agentKey, question), agent, false], /signature/],
    [
      'altered keys',
      () => {
        const proof = proofOf(answer('yes'), agentKey, question)
        return [{ ...proof, keys: `${proof.keys.slice(0, -2)}${proof.keys.endsWith('00') ? '01' : '00'}` }]
      },
      /do not open/,
    ],
    [
      'keys of another message',
      () => [{ ...proofOf(answer('yes'), agentKey, question), keys: proofOf(answer('no'), agentKey).keys }],
      /do not open/,
    ],
    [
      'a message to another agent, shown by this one',
      () => [proofOf(answer('yes', [], other), otherKey), agent],
      /addressed to someone else/,
    ],
    [
      'a message to the agent, shown by someone else',
      () => [proofOf(answer('yes'), agentKey, question), peer],
      /addressed to someone else/,
    ],
    [
      'an altered question',
      () => [proofOf(answer('yes'), agentKey, { ...question, content: `${question.content} and 20 USD` })],
      /not the one/,
    ],
    ['a question the message does not answer', () => [proofOf(answer('yes', []), agentKey, question)], /answers no question/],
    [
      'a question another agent asked',
      () => {
        const asked = buildRumor({ type: 'dm', text: 'may I?' }, other, owner, now, 'other')
        return [proofOf(answer('yes', [['e', asked.id]]), agentKey, asked)]
      },
      /not asked by the agent/,
    ],
    ['a seal that is not a seal', () => [{ ...proofOf(answer('yes'), agentKey), seal: { ...answer('yes'), kind: 1 } }], /not a seal/],
  ])('is not verified with %s, and says why', (_, make, why) => {
    const [proof, sharer, signed] = make()
    const result = check(proof, sharer, signed)
    expect(result.verified).toBe(false)
    expect(result.reason).toMatch(why)
  })

  it('is not verified when the sealed message was written by another key than the seal', () => {
    const forged = { kind: 14, pubkey: other, created_at: now, tags: [['p', agent]], content: 'yes' }
    const seal = createSeal({ ...forged, id: getEventHash(forged) }, ownerKey, agent)
    expect(check(proofOf(seal, agentKey))).toMatchObject({ verified: false, reason: expect.stringMatching(/another key/) })
  })

  it('travels in a call message whose seal signature the receiver checks (a forged signature is caught)', async () => {
    const seal = answer('Approved.')
    const send = async (shown: Event) => {
      const rumor = buildRumor({ type: 'owner-proof', callId: CALL, proof: proofOf(shown, agentKey, question) }, agent, peer, now, 'agent')
      const { opened } = await openHere([wrapRumor(rumor, agentKey, peer)], peer, peerKey, now)
      const msg = opened[0].msg
      if (msg.type !== 'owner-proof') throw new Error(`got ${msg.type}`)
      return checkProof(msg.proof, agent, msg.sealSigned === true, CALL)
    }
    expect(await send(seal)).toMatchObject({ verified: true, text: 'Approved.', question: question.content })
    const forged = { ...seal, sig: `${seal.sig.slice(0, -1)}${seal.sig.endsWith('0') ? '1' : '0'}` }
    expect(await send(forged)).toMatchObject({ verified: false, reason: expect.stringMatching(/signature/) })
    // a tag that is not JSON is no proof at all
    const broken = buildRumor({ type: 'owner-proof', callId: CALL, proof: proofOf(seal, agentKey) }, agent, peer, now, 'agent')
    broken.tags = broken.tags.map((t) => (t[0] === 'seal' ? ['seal', '{not json'] : t))
    expect(parseRumor(broken)).toBeNull()
  })
})
