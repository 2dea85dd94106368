// A call's transcript as the contract shows it: the call, who took part, every message. Written
// to disk as Markdown and JSON by the session (session/transcripts.ts).
import { npub } from '../nostr/keys.ts'
import type { CallRecord, State } from '../store/schema.ts'
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
