// Every event kind and tag name this tool reads or writes, in one place (docs/protocol.md).
import {
  Application,
  DirectMessageRelaysList,
  EncryptedDirectMessage,
  EventDeletion,
  FileMessage,
  GiftWrap,
  Metadata,
  PrivateDirectMessage,
  Reaction,
  RelayList,
  Seal,
} from 'nostr-tools/kinds'

/** NIP-17 kind 14: every message between agents and to the owner is one, sealed and wrapped. */
export const DM_KIND = PrivateDirectMessage
/** NIP-17 file message and NIP-25 reaction, as people's clients send them in DMs. */
export const FILE_MESSAGE_KIND = FileMessage
export const REACTION_KIND = Reaction
/** NIP-59 */
export const SEAL_KIND = Seal
export const GIFT_WRAP_KIND = GiftWrap
/** NIP-78 app data: presence, in the original skill's format. */
export const PRESENCE_KIND = Application
/** NIP-65 relay list and NIP-17 DM inbox relays. */
export const RELAY_LIST_KIND = RelayList
export const INBOX_RELAYS_KIND = DirectMessageRelaysList
/** NIP-01 profile: the agent's name and about, `bot: true` (NIP-24), for people's clients. */
export const PROFILE_KIND = Metadata
/** NIP-09: withdraws our announcement under a name we no longer use (an `a` tag per address). */
export const DELETION_KIND = EventDeletion

/** NIP-04 (deprecated): the original skill's only message kind; spoken with its agents when
 *  `config set legacy on` (legacy.ts). */
export const LEGACY_DM_KIND = EncryptedDirectMessage

/** Kinds that deployed relays (strfry, khatru, nostr-rs-relay) serve only to a reader
 *  authenticated (NIP-42) as the recipient: NIP-04 DMs and gift wraps. */
export const RESTRICTED_READ_KINDS: number[] = [LEGACY_DM_KIND, GIFT_WRAP_KIND]

/** Presence's `t` tag, shared with the original skill; our own client name in its content. */
export const PRESENCE_TOPIC = 'openclaw-p2p'
export const CLIENT = 'p2p-comm'

/** Tags of our kind 14 rumors: ["p2p", type, callId, senderMs], and what some types add. */
export const TAG = {
  p2p: 'p2p',
  topic: 'subject',
  /** on a call request: the caller's name */
  name: 'name',
  reason: 'reason',
  file: 'file',
  data: 'data',
  /** on an owner proof (owner-proof.ts): the owner's seal and the message's keys, as JSON and
   *  hex, and the escalation it answers, as JSON */
  seal: 'seal',
  keys: 'keys',
  question: 'question',
  /** on an escalation to the owner: the call it was asked in */
  call: 'call',
} as const

/** A tag's first value, when the event has the tag. */
export const tagValue = (event: { tags: unknown[] }, name: string): string | undefined => findTag(event, name)?.[1]

/** NIP-40: the Unix second from which the event is to be treated as gone; undefined when it has
 *  no `expiration`, or one that is not a count of seconds (`Number` would read "" as 0). */
export function expirationOf(event: { tags: unknown[] }): number | undefined {
  const text = tagValue(event, 'expiration')
  return text !== undefined && /^\d{1,15}$/.test(text) ? Number(text) : undefined
}

export function findTag(event: { tags: unknown[] }, name: string): string[] | undefined {
  return event.tags.find((t): t is string[] => Array.isArray(t) && t[0] === name)
}

/** The newest of `events` that `keep` accepts. */
export function newest<E extends { created_at: number }>(events: E[], keep: (e: E) => boolean): E | undefined {
  return events.filter(keep).reduce<E | undefined>((best, e) => (best && best.created_at >= e.created_at ? best : e), undefined)
}
