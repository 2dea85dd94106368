// Owner proofs: an agent shows a peer one message its human owner sent it over NIP-17, in the
// seal the owner's client made (kind 13, signed by the owner's key), with that one message's
// NIP-44 keys. The peer checks the seal's signature, that the keys open the seal (its MAC), and
// what the message inside says: written by the seal's signer, addressed to the agent that shares
// it, and, when it answers an escalation (an `e` tag), that the question shown is that
// escalation (its id is the hash of its text). Message keys come from the conversation key by
// HKDF, which cannot be run backwards: nothing else of the owner's conversation opens with them.
import { type Event, getEventHash, type UnsignedEvent, validateEvent } from 'nostr-tools/pure'
import { isHex64 } from '../encoding.ts'
import { MAX_MESSAGE_BYTES } from '../limits.ts'
import { capBytes, parseDm } from './dm.ts'
import { SEAL_KIND, TAG, tagValue } from './kinds.ts'
import { conversationKey, decryptWithKeys, MESSAGE_KEYS_BYTES, payloadKeys } from './nip44.ts'

/** An unsigned event with its id (p2p.ts's Rumor, which depends on this module). */
type Rumor = UnsignedEvent & { id: string }

export interface OwnerProof {
  /** the seal as the owner's client signed it */
  seal: Event
  /** the message's NIP-44 keys, hex */
  keys: string
  /** the escalation the message answers, as the agent sent it (unsigned: its id is its hash) */
  question?: Rumor
}

/** What a peer can tell from a proof. `owner` is the seal's signer: that this key is the
 *  agent's owner is the agent's word. */
export interface ProofCheck {
  verified: boolean
  /** why not, when not verified */
  reason?: string
  text: string
  owner: string
  /** when the owner wrote it (the message's own date; a seal's is random) */
  sentAt: number | null
  /** the escalation it answers, when the question was shown and checks out */
  escalationId?: string
  question?: string
}

/** The proof of a message the owner sent us in `seal`; `question`: the escalation it answers. */
export function proofOf(seal: Event, secretKey: Uint8Array, question?: Rumor): OwnerProof {
  const keys = payloadKeys(seal.content, conversationKey(secretKey, seal.pubkey)).toString('hex')
  return { seal, keys, ...(question ? { question } : {}) }
}

const isSeal = (seal: Event) => validateEvent(seal) && seal.kind === SEAL_KIND && isHex64(seal.id) && typeof seal.sig === 'string'

const pTags = (rumor: { tags: unknown[] }) => rumor.tags.filter((t): t is string[] => Array.isArray(t) && t[0] === 'p').map((t) => t[1])

/** Checks a proof shared by `sharer` in call `callId`; `sealSigned`: whether the seal's id and
 *  signature are valid (checked in bulk with the wraps, nip17.ts). Never throws: what does not
 *  check out is unverified, with the reason. */
export function checkProof(proof: OwnerProof, sharer: string, sealSigned: boolean, callId: string): ProofCheck {
  try {
    return checkParts(proof, sharer, sealSigned, callId)
  } catch (err) {
    // a shape no check above foresaw: unverified all the same, never a crash of the run
    return { verified: false, reason: `it could not be checked (${(err as Error).message})`, text: '', owner: '', sentAt: null }
  }
}

function checkParts(proof: OwnerProof, sharer: string, sealSigned: boolean, callId: string): ProofCheck {
  const owner = isHex64(proof.seal?.pubkey) ? proof.seal.pubkey : ''
  const failed = (reason: string, partial: Partial<ProofCheck> = {}): ProofCheck => ({
    verified: false,
    reason,
    text: '',
    owner,
    sentAt: null,
    ...partial,
  })
  if (!isSeal(proof.seal)) return failed('what was shown is not a seal (kind 13)')
  if (!sealSigned) return failed("the seal's signature is not its signer's, or the seal was altered")
  if (typeof proof.keys !== 'string' || !/^[0-9a-f]+$/.test(proof.keys) || proof.keys.length !== 2 * MESSAGE_KEYS_BYTES)
    return failed('the message keys are malformed')
  let rumor: Rumor
  try {
    rumor = JSON.parse(decryptWithKeys(proof.seal.content, Buffer.from(proof.keys, 'hex')))
  } catch (err) {
    return failed(`the keys do not open the seal (${(err as Error).message})`)
  }
  const dm = rumor && typeof rumor === 'object' && Array.isArray(rumor.tags) ? parseDm(rumor) : null
  if (!dm || !Number.isSafeInteger(rumor.created_at)) return failed('the sealed message is not a direct message')
  const seen = { text: dm.text, sentAt: rumor.created_at }
  if (rumor.pubkey !== owner) return failed('the message inside was written by another key than the one that sealed it', seen)
  if (!pTags(rumor).includes(sharer)) return failed('the message is addressed to someone else, not to the agent that shows it', seen)
  const question = proof.question
  // an answer to something of ours must show it: else an old "yes" from another deal would pass
  if (!question && dm.replyTo) return failed('it answers a message of the agent that is not shown (it may be about another call)', seen)
  if (!question) return { verified: true, owner, ...seen }
  // its shape first, whatever a peer put there: hashing it then cannot throw
  if (!validateEvent(question)) return failed('the question shown is malformed', seen)
  const asked = { ...seen, question: capBytes(question.content, MAX_MESSAGE_BYTES) }
  if (!dm.replyTo) return failed("the owner's message answers no question, but one is shown with it", asked)
  if (getEventHash(question) !== dm.replyTo) return failed('the question shown is not the one the owner answered', asked)
  if (question.pubkey !== sharer || !pTags(question).includes(owner))
    return failed('the question shown was not asked by the agent that shows it, of this owner', asked)
  // an answer from another call (another deal, another peer) is not an answer in this one
  const askedIn = tagValue(question, TAG.call)
  if (askedIn !== undefined && askedIn !== callId) return failed(`the question was asked in another call (${askedIn})`, asked)
  return { verified: true, owner, ...asked, escalationId: dm.replyTo }
}

/** An escalation to the owner, marked with the call it was asked in (a `call` tag, which
 *  people's clients ignore): a proof of the answer then holds in that call only. */
export function askedInCall(question: Rumor, callId: string | undefined): Rumor {
  if (callId === undefined) return question
  const marked = { ...question, tags: [...question.tags, [TAG.call, callId]] }
  return { ...marked, id: getEventHash(marked) }
}
