// The call state machine and the wire format, without a network.

import { createHash } from 'node:crypto'
import * as nip19 from 'nostr-tools/nip19'
import { finalizeEvent, generateSecretKey, getPublicKey } from 'nostr-tools/pure'
import { describe, expect, it } from 'vitest'
import { acceptCall, endCall, escalatedCall, rejectCall, requireActive, startCall } from '../lib/calls/actions.ts'
import type { Incoming } from '../lib/calls/inputs.ts'
import { journal, unpolled } from '../lib/calls/journal.ts'
import { applyIncoming } from '../lib/calls/machine.ts'
import { expireCalls } from '../lib/calls/timeouts.ts'
import { addEntry } from '../lib/calls/transcript.ts'
import { CHUNK_BYTES, MAX_AGENTS, MAX_JOURNAL, MAX_MESSAGE_BYTES } from '../lib/limits.ts'
import { ITEM_BYTES } from '../lib/nostr/neg-items.ts'
import { openWraps } from '../lib/nostr/nip17.ts'
import { conversationKey, encrypt as nip44Encrypt } from '../lib/nostr/nip44.ts'
import { openWrap, wrapRumor } from '../lib/nostr/nip59.ts'
import { inboxFromLists } from '../lib/nostr/nip65.ts'
import { buildRumor, isSafeFileName, type P2PMessage, parseRumor, rumorMs } from '../lib/nostr/p2p.ts'
import { sanitize } from '../lib/sanitize.ts'
import { emptyState, type State } from '../lib/store/schema.ts'
import { bound } from '../lib/store/state.ts'
import { CALLER_CLOCK_SKEW_S, GIFT_WRAP_LOOKBACK_S, RING_TIMEOUT_S } from '../lib/timing.ts'
import { entriesOf } from './helpers/entries.ts'

const NOW = 1_800_000_000
const ME = 'a'.repeat(64)
const PEER = 'b'.repeat(64)
const OTHER = 'c'.repeat(64)
let serial = 0
const from = (who: string, msg: Incoming['msg'], at = NOW): Incoming => ({ id: `r${++serial}`, from: who, at, msg })

function ringing(): State {
  const state = emptyState()
  startCall(state, PEER, 'topic', 'ca11ca11', NOW)
  return state
}
function incoming(): State {
  const state = emptyState()
  applyIncoming(state, [from(PEER, { type: 'call-request', callId: 'ca11ca11', topic: 'hello' })], ME, NOW)
  return state
}

describe('who calls', () => {
  it('a request says who calls: its name wins over an older announcement, and stands in for none (issue 27, point 4)', () => {
    const state = emptyState()
    const named = (who: string, callId: string, name?: string) =>
      applyIncoming(state, [from(who, { type: 'call-request', callId, topic: 't', ...(name ? { name } : {}) })], ME, NOW, undefined, {
        maxCalls: 3,
      }).events[0]
    // never announced (or its announcement not read): the request's name
    expect(named(PEER, 'ca11ca01', 'fx-buyer')).toMatchObject({ type: 'call-request', name: 'fx-buyer' })
    // announced under its default name before it renamed itself: the request's name is the current one
    state.agents[OTHER] = { pubkey: OTHER, name: 'agent-x1y2', about: '', agentId: 'agent-x1y2', lastSeen: NOW - 60 }
    expect(named(OTHER, 'ca11ca02', 'gbp-buyer')).toMatchObject({ name: 'gbp-buyer' })
    // a request that names no one (an older version of ours): the announcement's name, as before
    const third = 'd'.repeat(64)
    state.agents[third] = { pubkey: third, name: 'announced', about: '', agentId: 'announced', lastSeen: NOW - 60 }
    expect(named(third, 'ca11ca03')).toMatchObject({ name: 'announced' })
  })
})

describe('outgoing calls', () => {
  it('ringing → active on accept, then messages, then ended', () => {
    const state = ringing()
    const a = applyIncoming(state, [from(PEER, { type: 'call-accept', callId: 'ca11ca11' })], ME, NOW + 1)
    expect(a.events.map((e) => e.type)).toEqual(['call-accepted'])
    expect(state.calls.ca11ca11.state).toBe('active')
    const m = applyIncoming(state, [from(PEER, { type: 'message', callId: 'ca11ca11', text: 'hi' })], ME, NOW + 2)
    expect(m.events[0]).toMatchObject({ type: 'message', text: 'hi', callId: 'ca11ca11', from: nip19.npubEncode(PEER) })
    const e = applyIncoming(state, [from(PEER, { type: 'call-end', callId: 'ca11ca11' }, NOW + 3)], ME, NOW + 3)
    expect(e.events.map((x) => x.type)).toEqual(['call-ended'])
    expect(e.finished).toEqual(['ca11ca11'])
    expect(state.calls.ca11ca11).toMatchObject({ state: 'ended', endedAt: NOW + 3 })
  })

  it('ringing → rejected with the reason', () => {
    const state = ringing()
    const r = applyIncoming(state, [from(PEER, { type: 'call-reject', callId: 'ca11ca11', reason: 'busy with taxes' })], ME, NOW + 1)
    expect(r.events[0]).toMatchObject({ type: 'call-rejected', reason: 'busy with taxes' })
    expect(state.calls.ca11ca11).toMatchObject({ state: 'rejected', reason: 'busy with taxes' })
  })

  it('ringing → expired after the ring timeout, and a late accept is told the call is over', () => {
    const state = ringing()
    const x = applyIncoming(state, [], ME, NOW + RING_TIMEOUT_S + 1)
    expect(x.events[0]).toMatchObject({ type: 'call-rejected', expired: true })
    expect(state.calls.ca11ca11.state).toBe('expired')
    const late = applyIncoming(state, [from(PEER, { type: 'call-accept', callId: 'ca11ca11' }, NOW + 10)], ME, NOW + RING_TIMEOUT_S + 5)
    expect(late.events).toEqual([])
    expect(late.replies).toEqual([{ peer: PEER, msg: { type: 'call-end', callId: 'ca11ca11' } }])
    expect(state.calls.ca11ca11.state).toBe('expired')
  })

  it('a message that overtakes the accept still makes the call active', () => {
    const state = ringing()
    const a = applyIncoming(state, [from(PEER, { type: 'message', callId: 'ca11ca11', text: 'early' }, NOW + 2)], ME, NOW + 3)
    expect(a.events.map((e) => e.type)).toEqual(['call-accepted', 'message'])
    expect(state.calls.ca11ca11.state).toBe('active')
    // the accept arriving afterwards changes nothing
    expect(applyIncoming(state, [from(PEER, { type: 'call-accept', callId: 'ca11ca11' }, NOW + 1)], ME, NOW + 4).events).toEqual([])
  })

  it('applies a batch in protocol order even when it comes in any order', () => {
    const state = ringing()
    const batch = [
      from(PEER, { type: 'call-end', callId: 'ca11ca11' }, NOW + 5),
      from(PEER, { type: 'message', callId: 'ca11ca11', text: 'two' }, NOW + 5),
      from(PEER, { type: 'message', callId: 'ca11ca11', text: 'one' }, NOW + 4),
      from(PEER, { type: 'call-accept', callId: 'ca11ca11' }, NOW + 4),
    ]
    const a = applyIncoming(state, batch, ME, NOW + 6)
    expect(a.events.map((e) => e.text ?? e.type)).toEqual(['call-accepted', 'one', 'two', 'call-ended'])
    expect(entriesOf(state, 'ca11ca11').map((m) => m.text)).toEqual(['one', 'two'])
  })

  it('orders messages of the same second by the sender’s milliseconds', () => {
    const state = ringing()
    applyIncoming(state, [from(PEER, { type: 'call-accept', callId: 'ca11ca11' })], ME, NOW)
    const second = { ...from(PEER, { type: 'message', callId: 'ca11ca11', text: 'second' }, NOW + 1), ms: (NOW + 1) * 1000 + 900 }
    const first = { ...from(PEER, { type: 'message', callId: 'ca11ca11', text: 'first' }, NOW + 1), ms: (NOW + 1) * 1000 + 100 }
    expect(applyIncoming(state, [second, first], ME, NOW + 2).events.map((e) => e.text)).toEqual(['first', 'second'])
    const rumor = buildRumor({ type: 'message', callId: 'ca11ca11', text: 'x' }, PEER, ME, NOW, 'p', NOW * 1000 + 42)
    expect(rumorMs(rumor)).toBe(NOW * 1000 + 42)
  })

  it('one call at a time: a second call is refused while one rings', () => {
    const state = ringing()
    expect(() => startCall(state, OTHER, 't', 'ca11ca12', NOW)).toThrow(/already in call/)
  })
})

describe('incoming calls', () => {
  it('incoming → active on accept, with a reply for the caller', () => {
    const state = incoming()
    expect(state.calls.ca11ca11).toMatchObject({ state: 'incoming', direction: 'incoming', topic: 'hello' })
    const { call, replies } = acceptCall(state, undefined, NOW + 1)
    expect(call.state).toBe('active')
    expect(replies).toEqual([{ peer: PEER, msg: { type: 'call-accept', callId: 'ca11ca11' } }])
    expect(requireActive(state, NOW + 2).id).toBe('ca11ca11')
  })

  it('incoming → rejected', () => {
    const state = incoming()
    expect(rejectCall(state, 'ca11ca11', 'no', NOW + 1)).toMatchObject({ state: 'rejected', reason: 'no' })
    expect(() => acceptCall(state, undefined, NOW + 2)).toThrow(/no incoming call/)
  })

  it('incoming → expired when not answered in time; the caller cancelling ends it', () => {
    const state = incoming()
    expireCalls(state, NOW + RING_TIMEOUT_S + 1)
    expect(state.calls.ca11ca11.state).toBe('expired')
    const other = incoming()
    expect(applyIncoming(other, [from(PEER, { type: 'call-end', callId: 'ca11ca11' }, NOW + 1)], ME, NOW + 2).events[0].type).toBe(
      'call-ended',
    )
    expect(other.calls.ca11ca11.state).toBe('ended')
  })

  it('a busy agent declines new requests automatically; accepting one declines the others', () => {
    const state = incoming()
    acceptCall(state, undefined, NOW + 1)
    const busy = applyIncoming(state, [from(OTHER, { type: 'call-request', callId: 'beefbeef', topic: 'x' })], ME, NOW + 2)
    expect(busy.events).toEqual([])
    expect(busy.replies[0]).toMatchObject({ peer: OTHER, msg: { type: 'call-reject', callId: 'beefbeef' } })
    // a decline leaves no call record (issue 23, point 3)
    expect(state.calls.beefbeef).toBeUndefined()

    const two = emptyState()
    applyIncoming(
      two,
      [
        from(PEER, { type: 'call-request', callId: 'aaaa0001', topic: 'x' }),
        from(OTHER, { type: 'call-request', callId: 'aaaa0002', topic: 'y' }),
      ],
      ME,
      NOW,
    )
    expect(() => acceptCall(two, undefined, NOW + 1)).toThrow(/2 calls are waiting/)
    const { replies } = acceptCall(two, 'aaaa0002', NOW + 1)
    expect(replies.map((r) => r.msg.type)).toEqual(['call-accept', 'call-reject'])
    expect(two.calls.aaaa0001.state).toBe('rejected')
  })

  it('ignores stale replays, reused ids, strangers, unknown and finished calls', () => {
    const state = incoming()
    const ignored = applyIncoming(
      state,
      [
        from(PEER, { type: 'call-request', callId: 'old00001', topic: 'replay' }, NOW - RING_TIMEOUT_S - CALLER_CLOCK_SKEW_S - 10),
        from(OTHER, { type: 'call-request', callId: 'ca11ca11', topic: 'reused id' }),
        from(OTHER, { type: 'call-end', callId: 'ca11ca11' }),
        from(OTHER, { type: 'message', callId: 'ca11ca11', text: 'not my call' }),
        from(PEER, { type: 'message', callId: 'ffffffff', text: 'unknown call' }),
        from(PEER, { type: 'message', callId: 'ca11ca11', text: 'before accepting' }),
      ],
      ME,
      NOW,
    )
    expect(ignored.events).toEqual([])
    expect(Object.keys(state.calls)).toEqual(['ca11ca11'])
    expect(state.calls.ca11ca11).toMatchObject({ state: 'incoming', topic: 'hello', messageCount: 0 })
  })
})

describe('several calls at once (maxCalls)', () => {
  const THIRD = 'e'.repeat(64)
  const FOURTH = 'f'.repeat(64)
  const request = (who: string, callId: string) => from(who, { type: 'call-request', callId, topic: `topic ${callId}` })
  /** Three callers, all taken, with maxCalls 3. */
  function three(): State {
    const state = emptyState()
    const rung = applyIncoming(
      state,
      [request(PEER, 'aaaa0001'), request(OTHER, 'aaaa0002'), request(THIRD, 'aaaa0003')],
      ME,
      NOW,
      undefined,
      { maxCalls: 3 },
    )
    expect(rung.replies).toEqual([])
    expect(rung.events.map((e) => e.type)).toEqual(['call-request', 'call-request', 'call-request'])
    for (const id of ['aaaa0001', 'aaaa0002', 'aaaa0003']) expect(acceptCall(state, id, NOW + 1, 3).replies).toHaveLength(1)
    return state
  }

  it('rings and takes up to maxCalls; beyond, a request is declined as busy, and a waiting one once the last room is taken', () => {
    const state = three()
    expect(Object.values(state.calls).filter((c) => c.state === 'active')).toHaveLength(3)
    const fourth = applyIncoming(state, [request(FOURTH, 'aaaa0004')], ME, NOW + 2, undefined, { maxCalls: 3 })
    expect(fourth.events).toEqual([])
    expect(fourth.replies).toEqual([
      { peer: FOURTH, msg: expect.objectContaining({ type: 'call-reject', reason: expect.stringMatching(/busy/) }) },
    ])
    expect(() => startCall(state, FOURTH, 'x', 'bbbb0001', NOW + 2, 3)).toThrow(/already in 3 calls/)

    // two rooms, three callers: the second accept fills the last room and declines the one left waiting
    const two = emptyState()
    applyIncoming(two, [request(PEER, 'aaaa0001'), request(OTHER, 'aaaa0002'), request(THIRD, 'aaaa0003')], ME, NOW, undefined, {
      maxCalls: 2,
    })
    expect(acceptCall(two, 'aaaa0001', NOW + 1, 2).replies.map((r) => r.msg.type)).toEqual(['call-accept'])
    expect(acceptCall(two, 'aaaa0003', NOW + 1, 2).replies.map((r) => r.msg.type)).toEqual(['call-accept', 'call-reject'])
    expect(two.calls.aaaa0002.state).toBe('rejected')
  })

  it('send, escalate and end refuse to guess among several active calls, and take the one named', () => {
    const state = three()
    for (const pick of [() => requireActive(state, NOW + 2), () => escalatedCall(state), () => endCall(state, ME, NOW + 2)])
      expect(pick).toThrow(
        expect.objectContaining({ code: 'several-calls-active', message: expect.stringMatching(/aaaa0001, aaaa0002, aaaa0003/) }),
      )
    expect(requireActive(state, NOW + 2, 'aaaa0002').peer).toBe(OTHER)
    expect(escalatedCall(state, 'aaaa0003')?.peer).toBe(THIRD)
    expect(() => requireActive(state, NOW + 2, 'ffff0000')).toThrow(expect.objectContaining({ code: 'no-such-active-call' }))
    expect(endCall(state, ME, NOW + 2, 'aaaa0001').state).toBe('ended')
    expect(() => endCall(state, ME, NOW + 2, 'aaaa0001')).toThrow(expect.objectContaining({ code: 'no-such-active-call' }))
    endCall(state, ME, NOW + 3, 'aaaa0003')
    // one left: nothing to name
    expect(requireActive(state, NOW + 3).id).toBe('aaaa0002')
    expect(endCall(state, ME, NOW + 3).id).toBe('aaaa0002')
  })

  it("the owner's answer joins the transcript of the call that escalated, not another active one", () => {
    const OWNER = 'd'.repeat(64)
    const state = three()
    state.escalations.push({ id: 'e2', callId: 'aaaa0002', reason: 'discount?', at: NOW })
    state.escalations.push({ id: 'e3', callId: 'aaaa0003', reason: 'refund?', at: NOW })
    const linked = applyIncoming(state, [from(OWNER, { type: 'dm', text: 'yes, 10%', replyTo: 'e2' })], ME, NOW + 2, OWNER, { maxCalls: 3 })
    expect(linked.events[0]).toMatchObject({ type: 'owner-message', callId: 'aaaa0002', escalationId: 'e2' })
    // unlinked: the latest escalation's call
    const unlinked = applyIncoming(state, [from(OWNER, { type: 'dm', text: 'no refund' })], ME, NOW + 3, OWNER, { maxCalls: 3 })
    expect(unlinked.events[0]).toMatchObject({ type: 'owner-message', callId: 'aaaa0003', escalationId: 'e3' })
    expect(entriesOf(state, 'aaaa0001')).toEqual([])
    expect(entriesOf(state, 'aaaa0002').map((m) => m.text)).toEqual(['yes, 10%'])
    expect(entriesOf(state, 'aaaa0003').map((m) => m.text)).toEqual(['no refund'])
    // a reply to something else of ours (a note) answers no escalation, not the latest
    const noted = applyIncoming(state, [from(OWNER, { type: 'dm', text: 'nice deal', replyTo: 'f'.repeat(64) })], ME, NOW + 4, OWNER, {
      maxCalls: 3,
    })
    expect(noted.events[0]).toMatchObject({ type: 'owner-message', text: 'nice deal' })
    expect(noted.events[0].escalationId).toBeUndefined()
  })
})

describe('clocks and relays out of step', () => {
  it('a call-end that overtook its request (another relay) keeps the callee from taking the call', () => {
    const state = emptyState()
    applyIncoming(state, [from(PEER, { type: 'call-end', callId: 'ca11ca11' })], ME, NOW)
    const late = applyIncoming(state, [from(PEER, { type: 'call-request', callId: 'ca11ca11', topic: 'hello' })], ME, NOW + 2)
    expect(late.events).toEqual([])
    expect(state.calls.ca11ca11).toBeUndefined()
    // nobody is left stranded busy: the next caller rings
    const next = applyIncoming(state, [from(OTHER, { type: 'call-request', callId: 'ca11ca12', topic: 'next' })], ME, NOW + 3)
    expect(next.events.map((e) => e.type)).toEqual(['call-request'])
    expect(next.replies).toEqual([])
  })

  it('a request dated in the future still expires, on our clock', () => {
    const state = emptyState()
    const tenYears = 10 * 365 * 24 * 3600
    applyIncoming(state, [from(PEER, { type: 'call-request', callId: 'ca11ca11', topic: 'from the future' }, NOW + tenYears)], ME, NOW)
    expect(state.calls.ca11ca11.state).toBe('incoming')
    expireCalls(state, NOW + RING_TIMEOUT_S + 1)
    expect(state.calls.ca11ca11.state).toBe('expired')
  })

  it('a caller whose clock is minutes behind still rings; one too old is told so', () => {
    const state = emptyState()
    const behind = applyIncoming(
      state,
      [from(PEER, { type: 'call-request', callId: 'ca11ca11', topic: 'slow clock' }, NOW - 6 * 60)],
      ME,
      NOW,
    )
    expect(behind.events.map((e) => e.type)).toEqual(['call-request'])
    expect(state.calls.ca11ca11.state).toBe('incoming')
    const old = applyIncoming(
      state,
      [from(OTHER, { type: 'call-request', callId: 'ca11ca12', topic: 'yesterday' }, NOW - 24 * 3600)],
      ME,
      NOW,
    )
    expect(old.events).toEqual([])
    expect(old.replies).toEqual([
      {
        peer: OTHER,
        msg: expect.objectContaining({ type: 'call-reject', callId: 'ca11ca12', reason: expect.stringMatching(/too old.*clock/) }),
      },
    ])
  })
})

describe('what poll has yet to print', () => {
  it('a flood of DMs never pushes out a call request no poll has printed', () => {
    const state = emptyState()
    journal(state, applyIncoming(state, [from(PEER, { type: 'call-request', callId: 'ca11ca11', topic: 'hello' })], ME, NOW).events)
    for (let i = 0; i < MAX_JOURNAL; i++)
      journal(state, applyIncoming(state, [from(OTHER, { type: 'dm', text: `spam ${i}` })], ME, NOW).events)
    bound(state, NOW)
    const types = unpolled(state).map((j) => j.event.type)
    expect(types).toContain('call-request')
    expect(state.journal.length).toBeLessThanOrEqual(MAX_JOURNAL)
  })

  it('a DM wrapped twice (or seen again after its wrap was forgotten) is shown once', () => {
    const state = emptyState()
    const dm: Incoming = { id: 'rumor-1', wrapId: 'wrap-1', from: OTHER, at: NOW, msg: { type: 'dm', text: 'once' } }
    const first = applyIncoming(state, [dm], ME, NOW)
    const again = applyIncoming(state, [{ ...dm, wrapId: 'wrap-2' }], ME, NOW + 5)
    expect(first.events.map((e) => e.type)).toEqual(['direct-message'])
    expect(again.events).toEqual([])
    const owner = 'd'.repeat(64)
    const reply: Incoming = { id: 'rumor-2', wrapId: 'wrap-3', from: owner, at: NOW, msg: { type: 'dm', text: 'yes' } }
    expect(applyIncoming(state, [reply], ME, NOW, owner).events).toHaveLength(1)
    expect(applyIncoming(state, [{ ...reply, wrapId: 'wrap-4' }], ME, NOW, owner).events).toEqual([])
  })
})

describe('bounded state', () => {
  it('a DM longer than a message is cut, not kept whole', () => {
    const msg = parseRumor(buildRumor({ type: 'dm', text: 'x'.repeat(30_000) }, PEER, ME, NOW, 'stranger'))
    expect(msg?.type).toBe('dm')
    const text = msg?.type === 'dm' ? msg.text : ''
    expect(Buffer.byteLength(text)).toBeLessThan(MAX_MESSAGE_BYTES + 100)
    expect(text).toMatch(/cut: longer than/)
  })

  it('forgets wrap ids out of every window, in batches an hour apart', () => {
    const state = emptyState()
    state.giftWrapCursors['wss://a'] = NOW
    const windowStart = NOW - GIFT_WRAP_LOOKBACK_S
    const ids = Array.from({ length: 1000 }, (_, i) => createHash('sha256').update(`w${i}`).digest('hex'))
    for (const [i, id] of ids.entries()) state.seen.add(id, windowStart - 5_000 + i * 10)
    bound(state, NOW)
    expect(state.seen.size).toBe(500)
    expect(state.seen.has(ids[499])).toBe(false)
    expect(state.seen.has(ids[500])).toBe(true)
    bound(state, NOW) // nothing new: nothing lost
    expect(state.seen.size).toBe(500)
    state.seen.add('late', windowStart - 3_601) // an old wrap served late by some relay
    bound(state, NOW)
    expect(state.seen.has('late')).toBe(false)
    state.giftWrapCursors['wss://a'] = NOW + 100 // the window moves on a little: kept, for now
    bound(state, NOW + 100)
    expect(state.seen.size).toBe(500)
    state.giftWrapCursors['wss://a'] = NOW + 4_000 // the oldest is an hour past: ids before it go
    bound(state, NOW + 4_000)
    expect(state.seen.size).toBe(100)
    expect(state.seen.between(0, windowStart + 3_999).length).toBe(0)
    expect(state.seen.between(windowStart + 4_000, windowStart + 4_000).length).toBe(ITEM_BYTES)
  })

  it('remembers at most MAX_AGENTS agents, the most recently seen', () => {
    const state = emptyState()
    for (let i = 0; i < MAX_AGENTS + 500; i++) {
      const pubkey = i.toString(16).padStart(64, '0')
      state.agents[pubkey] = { pubkey, name: `a${i}`, about: '', agentId: `a${i}`, lastSeen: NOW - 100_000 + i }
    }
    bound(state, NOW)
    const kept = Object.values(state.agents)
    expect(kept).toHaveLength(MAX_AGENTS)
    expect(Math.min(...kept.map((a) => a.lastSeen))).toBe(NOW - 100_000 + 500)
  })

  it('keeps the messages of a call in order and each once, inserted in any order', () => {
    const state = ringing()
    const call = state.calls.ca11ca11
    const order = Array.from({ length: 2_000 }, (_, i) => i).sort((a, b) => ((a * 7919) % 2_000) - ((b * 7919) % 2_000))
    for (const i of order) addEntry(state, call, { id: `m${i}`, from: PEER, at: NOW + Math.floor(i / 3), ms: i, text: `${i}` }, NOW)
    for (const i of order.slice(0, 100))
      expect(addEntry(state, call, { id: `m${i}`, from: PEER, at: NOW + Math.floor(i / 3), ms: i, text: `${i}` }, NOW)).toBe(false)
    expect(entriesOf(state, 'ca11ca11').map((m) => m.text)).toEqual(Array.from({ length: 2_000 }, (_, i) => `${i}`))
    expect(call.messageCount).toBe(2_000)
  })
})

describe('escalations and the owner', () => {
  const OWNER = 'd'.repeat(64)
  it('a disappearing owner message is journalled with its expiry, kept out of the transcript, and goes at its time', () => {
    const state = incoming()
    acceptCall(state, undefined, NOW)
    const a = applyIncoming(state, [from(OWNER, { type: 'dm', text: 'secret', expiresAt: NOW + 60 })], ME, NOW + 1, OWNER)
    expect(a.events).toEqual([expect.objectContaining({ type: 'owner-message', text: 'secret', expiresAt: NOW + 60, kind: 14 })])
    journal(state, a.events)
    expect(entriesOf(state, 'ca11ca11')).toEqual([])
    bound(state, NOW + 30)
    expect(state.journal.map((j) => j.event.text)).toContain('secret')
    bound(state, NOW + 61)
    expect(state.journal.map((j) => j.event.text)).not.toContain('secret')
    // reactions and file messages count from the owner only
    const stranger = applyIncoming(state, [from(OTHER, { type: 'dm', kind: 7, text: '👍' })], ME, NOW + 2, OWNER)
    expect(stranger.events).toEqual([])
  })
  it('a peer escalating in the live call is an event and a transcript line', () => {
    const state = incoming()
    acceptCall(state, undefined, NOW)
    const a = applyIncoming(state, [from(PEER, { type: 'escalation', callId: 'ca11ca11', reason: 'needs a human' })], ME, NOW + 1, OWNER)
    expect(a.events).toEqual([expect.objectContaining({ type: 'escalation', callId: 'ca11ca11', reason: 'needs a human' })])
    expect(entriesOf(state, 'ca11ca11')[0].text).toMatch(/needs a human/)
    // not from a stranger, not for a call that is not live
    expect(applyIncoming(state, [from(OTHER, { type: 'escalation', callId: 'ca11ca11', reason: 'x' })], ME, NOW + 2, OWNER).events).toEqual(
      [],
    )
  })

  it("the owner's plain DMs answer the latest escalation and join the live call's transcript", () => {
    const state = incoming()
    acceptCall(state, undefined, NOW)
    state.escalations.push({ id: 'e1', callId: 'ca11ca11', reason: 'ok?', at: NOW })
    const a = applyIncoming(state, [from(OWNER, { type: 'dm', text: 'yes, go ahead' })], ME, NOW + 1, OWNER)
    expect(a.events).toEqual([
      expect.objectContaining({
        type: 'owner-message',
        callId: 'ca11ca11',
        text: 'yes, go ahead',
        escalationId: 'e1',
        from: nip19.npubEncode(OWNER),
      }),
    ])
    expect(entriesOf(state, 'ca11ca11').map((m) => m.text)).toEqual(['yes, go ahead'])
    // the same words from someone else are just a direct message
    expect(applyIncoming(state, [from(OTHER, { type: 'dm', text: 'yes' })], ME, NOW + 2, OWNER).events[0].type).toBe('direct-message')
    // with no owner configured, the owner's key is a stranger too
    expect(applyIncoming(emptyState(), [from(OWNER, { type: 'dm', text: 'hi' })], ME, NOW).events[0].type).toBe('direct-message')
  })
})

describe('ending and transcripts', () => {
  it('end works on the active or ringing call only, and records our own messages once', () => {
    const state = ringing()
    expect(endCall(state, ME, NOW + 1).state).toBe('ended')
    expect(() => endCall(state, ME, NOW + 2)).toThrow(/no active call/)
    const s2 = incoming()
    acceptCall(s2, undefined, NOW)
    // our own copy of a message (NIP-17 self copy) fills the transcript once
    const own = from(ME, { type: 'message', callId: 'ca11ca11', text: 'mine' })
    applyIncoming(s2, [own, own], ME, NOW)
    expect(entriesOf(s2, 'ca11ca11').map((m) => m.text)).toEqual(['mine'])
  })

  it('a message sent before the end but received after it still joins the transcript', () => {
    const state = incoming()
    acceptCall(state, undefined, NOW)
    applyIncoming(state, [from(PEER, { type: 'call-end', callId: 'ca11ca11' }, NOW + 10)], ME, NOW + 10)
    const late = applyIncoming(state, [from(PEER, { type: 'message', callId: 'ca11ca11', text: 'last words' }, NOW + 9)], ME, NOW + 20)
    expect(late.finished).toEqual(['ca11ca11'])
    expect(entriesOf(state, 'ca11ca11').map((m) => m.text)).toEqual(['last words'])
    expect(
      applyIncoming(state, [from(PEER, { type: 'message', callId: 'ca11ca11', text: 'too late' }, NOW + 30)], ME, NOW + 30).events,
    ).toEqual([])
  })
})

describe('wire format', () => {
  const alice = generateSecretKey()
  const bob = generateSecretKey()
  const A = getPublicKey(alice)
  const B = getPublicKey(bob)
  const chunkData = Buffer.alloc(CHUNK_BYTES, 0xab).toString('base64')
  const messages: P2PMessage[] = [
    { type: 'call-request', callId: 'ca11ca11', topic: 'the topic' },
    { type: 'call-accept', callId: 'ca11ca11' },
    { type: 'call-reject', callId: 'ca11ca11', reason: 'no time' },
    { type: 'message', callId: 'ca11ca11', text: 'hello\nthere' },
    {
      type: 'file-chunk',
      callId: 'ca11ca11',
      chunk: { fileId: 'f11ef11e', name: 'a.bin', size: CHUNK_BYTES * 2, sha256: 'e'.repeat(64), index: 1, total: 2, data: chunkData },
    },
    { type: 'call-end', callId: 'ca11ca11' },
    { type: 'escalation', callId: 'ca11ca11', reason: 'a human must decide' },
    { type: 'dm', text: 'just a note' },
    { type: 'call-request', callId: 'ca11ca12', topic: 'rates', name: 'fx-buyer' },
  ]

  it.each(messages)('round-trips $type through a gift wrap', (msg) => {
    const rumor = buildRumor(msg, A, B, NOW, 'alice')
    expect(rumor.kind).toBe(14)
    expect(rumor.tags[0]).toEqual(['p', B])
    const wrap = wrapRumor(rumor, alice, B)
    expect(wrap.kind).toBe(1059)
    expect(wrap.pubkey).not.toBe(A)
    const { rumor: opened, seal } = openWrap(wrap, bob)
    expect(seal.pubkey).toBe(A)
    expect(opened.id).toBe(rumor.id)
    expect(parseRumor(opened)).toEqual(msg)
  })

  it('keeps the largest chunk and the largest message inside a 64 KiB event and NIP-44 limits', () => {
    const big = [messages[4], { type: 'message', callId: 'ca11ca11', text: 'é'.repeat(MAX_MESSAGE_BYTES / 2) } as P2PMessage]
    for (const msg of big) {
      const wrap = wrapRumor(buildRumor(msg, A, B, NOW, 'alice'), alice, B)
      expect(JSON.stringify(wrap).length).toBeLessThan(64 * 1024)
    }
  })

  it('reads human text as a plain DM and refuses malformed protocol tags', () => {
    const rumor = (tags: string[][], content = 'x') => ({
      ...buildRumor({ type: 'dm', text: content }, A, B, NOW, 'a'),
      tags: [['p', B], ...tags],
    })
    expect(parseRumor(rumor([]))).toEqual({ type: 'dm', text: 'x' })
    expect(parseRumor(rumor([['p2p', 'message', 'NOT-HEX']]))).toBeNull()
    expect(parseRumor(rumor([['p2p', 'call-request', 'ca11ca11']]))).toBeNull() // no subject
    expect(parseRumor(rumor([['p2p', 'teleport', 'ca11ca11']]))).toBeNull()
    const file = (f: string[]) =>
      rumor([
        ['p2p', 'file-chunk', 'ca11ca11'],
        ['file', ...f],
        ['data', 'AAAA'],
      ])
    expect(parseRumor(file(['f11ef11e', '../etc/passwd', '3', 'e'.repeat(64), '0', '1']))).toBeNull()
    expect(parseRumor(file(['f11ef11e', 'ok.txt', '3', 'e'.repeat(64), '1', '1']))).toBeNull() // index out of range
    expect(parseRumor(file(['f11ef11e', 'ok.txt', '3', 'e'.repeat(64), '0', '5']))).toBeNull() // total disagrees with size
    expect(parseRumor(file(['f11ef11e', 'ok.txt', '3', 'e'.repeat(64), '0', '1']))).toMatchObject({ type: 'file-chunk' })
    expect(parseRumor({ ...buildRumor({ type: 'dm', text: 'x' }, A, B, NOW, 'a'), kind: 1 })).toBeNull()
  })

  it('drops a wrap whose seal signer is not the rumor author, and one not addressed to us', async () => {
    const mallory = generateSecretKey()
    // a rumor claiming to be Alice's, sealed by Mallory
    const forged = wrapRumor(buildRumor({ type: 'message', callId: 'ca11ca11', text: 'I am Alice' }, A, B, NOW, 'alice'), mallory, B)
    const log: string[] = []
    expect(await openWraps([forged], B, bob, NOW, (l) => log.push(l))).toMatchObject({ opened: [], dropped: 1 })
    // addressed (p tag of the rumor) to someone else, though wrapped to us
    const misdirected = wrapRumor(
      buildRumor({ type: 'dm', text: 'for carol' }, A, getPublicKey(generateSecretKey()), NOW, 'alice'),
      alice,
      B,
    )
    expect((await openWraps([misdirected], B, bob, NOW, (l) => log.push(l))).dropped).toBe(1)
    // not a gift wrap at all
    expect(
      (
        await openWraps(
          [finalizeEvent({ kind: 1059, tags: [['p', B]], content: 'garbage', created_at: NOW }, mallory)],
          B,
          bob,
          NOW,
          () => {},
        )
      ).dropped,
    ).toBe(1)
    expect(log.join('\n')).toMatch(/dropped gift wrap/)
    // a seal whose signature was tampered with
    const rumor = buildRumor({ type: 'dm', text: 'hi' }, A, B, NOW, 'alice')
    const seal = finalizeEvent(
      { kind: 13, created_at: NOW, tags: [], content: nip44Encrypt(JSON.stringify(rumor), conversationKey(alice, B)) },
      alice,
    )
    const badSeal = { ...seal, sig: seal.sig.replace(/^./, (c) => (c === '0' ? '1' : '0')) }
    const wrapKey = generateSecretKey()
    const wrap = finalizeEvent(
      { kind: 1059, created_at: NOW, tags: [['p', B]], content: nip44Encrypt(JSON.stringify(badSeal), conversationKey(wrapKey, B)) },
      wrapKey,
    )
    expect(await openWraps([wrap], B, bob, NOW, (l) => log.push(l))).toMatchObject({ opened: [], dropped: 1 })
    expect(log.at(-1)).toMatch(/seal's signature is invalid/)
  })

  it('accepts only safe file names', () => {
    for (const ok of ['report.pdf', 'a b.txt', 'ünïcode.md']) expect(isSafeFileName(ok)).toBe(true)
    for (const bad of ['', '.', '..', '../x', 'a/b', 'a\\b', '.hidden', 'nul\u0000', 'x'.repeat(201)])
      expect(isSafeFileName(bad)).toBe(false)
  })
})

describe('peer inbox relays', () => {
  it('prefers kind 10050, then NIP-65 read relays', () => {
    const sk = generateSecretKey()
    const pk = getPublicKey(sk)
    const inbox = finalizeEvent(
      {
        kind: 10050,
        tags: [
          ['relay', 'wss://inbox.example'],
          ['relay', 'not a url'],
        ],
        content: '',
        created_at: NOW,
      },
      sk,
    )
    const list = finalizeEvent(
      {
        kind: 10002,
        tags: [
          ['r', 'wss://both.example'],
          ['r', 'wss://write.example', 'write'],
          ['r', 'wss://read.example', 'read'],
        ],
        content: '',
        created_at: NOW,
      },
      sk,
    )
    expect(inboxFromLists([list, inbox], pk)).toEqual({ relays: ['wss://inbox.example'], source: 'nip17' })
    expect(inboxFromLists([list], pk)).toEqual({ relays: ['wss://both.example', 'wss://read.example'], source: 'nip65' })
    expect(inboxFromLists([], pk)).toBeNull()
  })

  it('takes the newest 10050 from any relay, over any 10002, however new (NIP-17: only the 10050)', () => {
    const sk = generateSecretKey()
    const pk = getPublicKey(sk)
    const list = (kind: number, tag: string, url: string, at: number) =>
      finalizeEvent({ kind, tags: [[tag, url]], content: '', created_at: at }, sk)
    const older = list(10050, 'relay', 'wss://old-inbox.example', NOW - 60)
    const newer = list(10050, 'relay', 'wss://inbox.example', NOW)
    const reads = list(10002, 'r', 'wss://read.example', NOW + 60)
    // in whatever order our relays and the indexers answered
    for (const events of [
      [older, newer, reads],
      [reads, newer, older],
    ])
      expect(inboxFromLists(events, pk)).toEqual({ relays: ['wss://inbox.example'], source: 'nip17' })
    expect(inboxFromLists([reads], pk)).toEqual({ relays: ['wss://read.example'], source: 'nip65' })
    // someone else's list, however new, is never taken for the peer's
    const stranger = finalizeEvent(
      { kind: 10050, tags: [['relay', 'wss://x.example']], content: '', created_at: NOW + 99 },
      generateSecretKey(),
    )
    expect(inboxFromLists([stranger, older], pk)).toEqual({ relays: ['wss://old-inbox.example'], source: 'nip17' })
  })
})

describe('output safety', () => {
  it('strips terminal control sequences from peer text', () => {
    expect(sanitize('a\u001b[31mred\u001b[0m\rb\u0007c\u009bd\ttab\nline')).toBe('aredbcd\ttab\nline')
    expect(sanitize('\u001b]0;evil title\u0007ok')).toBe('ok')
  })
})
