// A call's transcript: its entries kept in order (addEntry), and the transcript as the contract
// shows it: the call, who took part, every message. Written to disk as Markdown and JSON by the
// session (session/transcripts.ts).
import { npub } from '../nostr/keys.ts'
import type { CallRecord, State, TranscriptEntry } from '../store/schema.ts'
import { type CallView, callView, type MessageView, messageView, peerName } from './views.ts'

export interface Transcript {
  call: CallView
  participants: Array<{ npub: string; name: string }>
  messages: MessageView[]
}

export function transcriptOf(call: CallRecord, state: State, me: { pubkey: string; name: string; owner?: string }): Transcript {
  const ownerSpoke = me.owner !== undefined && call.messages.some((m) => m.from === me.owner)
  return {
    call: callView(call, state),
    participants: [
      { npub: npub(me.pubkey), name: me.name },
      { npub: npub(call.peer), name: peerName(state, call.peer) },
      ...(ownerSpoke && me.owner ? [{ npub: npub(me.owner), name: `${me.name}'s owner` }] : []),
    ],
    messages: call.messages.map(messageView),
  }
}

/** Adds an entry once (by id), in time order; false when it was there already. */
export function addEntry(call: CallRecord, entry: TranscriptEntry): boolean {
  const messages = call.messages
  const after = (m: TranscriptEntry) => m.at > entry.at || (m.at === entry.at && (m.ms ?? 0) > (entry.ms ?? 0))
  // binary search for the first entry after this one: O(log n) per message, not a sort
  let lo = 0
  let hi = messages.length
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (after(messages[mid])) hi = mid
    else lo = mid + 1
  }
  // one rumor always has the same time: a copy of it can only sit among the entries of that time
  for (let i = lo - 1; i >= 0 && messages[i].at === entry.at && (messages[i].ms ?? 0) === (entry.ms ?? 0); i--) {
    if (messages[i].id === entry.id) return false
  }
  messages.splice(lo, 0, entry)
  return true
}
