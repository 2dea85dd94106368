// An escalation in words: the DM the owner reads on their phone, and the line both
// transcripts show; a note to the owner, likewise.
import { npub } from '../nostr/keys.ts'
import type { CallRecord, State } from '../store/schema.ts'
import { peerName } from './views.ts'

/** The transcript line for a decision handed to a human (ours or the peer's). */
export const escalationEntry = (reason: string) => ({ text: `🙋 handed a decision to a human: ${reason}`, escalation: true as const })

/** What the owner reads on their phone. */
export function escalationText(agent: { name: string; npub: string }, call: CallRecord | undefined, state: State, reason: string): string {
  // nostr: URIs (NIP-21): phone clients show them as links to the profiles
  const where = call
    ? `In call ${call.id} with ${peerName(state, call.peer) || 'an agent'} (nostr:${npub(call.peer)}), about "${call.topic}".`
    : 'Not in a call.'
  return [
    `🙋 Your agent ${agent.name} needs a decision from you.`,
    '',
    `Reason: ${reason}`,
    '',
    where,
    `Agent: nostr:${agent.npub}`,
    '',
    'Just reply to this message: your answer goes to the agent.',
  ].join('\n')
}

/** What the owner reads of a note (`notify`): it asks nothing. */
export function noteText(agent: { name: string; npub: string }, note: string): string {
  return [`📣 A note from your agent ${agent.name} (no reply needed):`, '', note, '', `Agent: nostr:${agent.npub}`].join('\n')
}

/** The transcript line for an owner's message a peer showed us (owner-proof.ts). */
export function proofEntry(check: { verified: boolean; reason?: string; text: string }): string {
  const how = check.verified ? "verified: signed by the owner's key" : `NOT verified: ${check.reason}`
  return `🔏 showed a message of its owner (${how}): ${check.text}`
}
