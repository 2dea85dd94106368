// Strangers as adversaries of the state and of the call slots (issue 23, points 3, 6, 7 and 12),
// without a network: what a flood of keys leaves behind, whose name a name is, when an idle call
// ends, and which automatic answers go over NIP-04.

import { describe, expect, it } from 'vitest'
import { acceptCall, startCall } from '../lib/calls/actions.ts'
import { resolveAgent } from '../lib/calls/agents.ts'
import type { Incoming } from '../lib/calls/inputs.ts'
import { applyIncoming } from '../lib/calls/machine.ts'
import { MAX_AGENTS, MAX_FINISHED_CALLS, MAX_INBOXES, MAX_PEER_RELAYS, MAX_RELAY_URL_CHARS } from '../lib/limits.ts'
import { inboxFromLists } from '../lib/nostr/nip65.ts'
import { listFilters } from '../lib/session/fold.ts'
import { emptyState, type State } from '../lib/store/schema.ts'
import { bound } from '../lib/store/state.ts'
import { AGENT_TTL_S, INBOX_TTL_S, RING_TIMEOUT_S } from '../lib/timing.ts'

const NOW = 1_800_000_000
const ME = 'a'.repeat(64)
const PEER = 'b'.repeat(64)
const key = (i: number) => i.toString(16).padStart(64, '0')
let serial = 0
const from = (who: string, msg: Incoming['msg'], opts: { at?: number; legacy?: true } = {}): Incoming => ({
  id: `r${++serial}`,
  from: who,
  at: opts.at ?? NOW,
  msg,
  ...opts,
})
const request = (who: string, callId: string, legacy?: true) =>
  from(who, { type: 'call-request', callId, topic: `topic ${callId}` }, legacy ? { legacy } : {})
const callId = (i: number) => `c${i.toString(16).padStart(9, '0')}`

/** A call with PEER that we placed and that was answered, ended at `at`. */
function pastCall(state: State, id: string, at: number): void {
  startCall(state, PEER, 'the real one', id, at)
  applyIncoming(state, [from(PEER, { type: 'call-accept', callId: id }, { at })], ME, at)
  applyIncoming(state, [from(PEER, { type: 'call-end', callId: id }, { at })], ME, at)
}

/** An active call with `peer`, accepted by us at NOW. */
function inCall(state = emptyState(), peer = PEER): State {
  applyIncoming(state, [request(peer, 'ca11ca11')], ME, NOW)
  acceptCall(state, 'ca11ca11', NOW)
  return state
}

describe('strangers cannot grow the state (point 3)', () => {
  it('busy declines leave no call record: history and the presence filter keep real peers', () => {
    const state = emptyState()
    pastCall(state, 'feedf00d01', NOW - 60)
    inCall(state, 'c'.repeat(64))
    const flood = Array.from({ length: 1_200 }, (_, i) => request(key(i + 1), callId(i)))
    const busy = applyIncoming(state, flood, ME, NOW + 1)
    expect(busy.replies).toHaveLength(1_200)
    expect(Object.keys(state.calls).sort()).toEqual(['ca11ca11', 'feedf00d01'])
    // the same request served again (another wrap of the rumor) is not answered twice
    expect(applyIncoming(state, [flood[0]], ME, NOW + 2).replies).toEqual([])
  })

  it('callers that were never answered neither evict real history nor push known peers out of the presence filter', () => {
    const state = emptyState()
    pastCall(state, 'feedf00d01', NOW - 3_600)
    // more strangers than history holds ring, one after the other, and expire unanswered
    const later = (i: number) => NOW + i * (RING_TIMEOUT_S + 1)
    for (let i = 0; i < MAX_FINISHED_CALLS + 10; i++) applyIncoming(state, [request(key(i + 1), callId(i))], ME, later(i))
    const end = later(MAX_FINISHED_CALLS + 10)
    applyIncoming(state, [], ME, end)
    bound(state, end)
    expect(state.calls.feedf00d01).toMatchObject({ state: 'ended', topic: 'the real one' })
    expect(Object.keys(state.calls).length).toBeLessThan(MAX_FINISHED_CALLS)
    const peers = listFilters(state, ME, end, 300)[2]
    expect(peers?.authors).toEqual([PEER])
  })

  it('inbox relay lists are kept for an hour, for so many keys, and a URL of any length is refused', () => {
    const state = emptyState()
    state.inboxes[key(1)] = { relays: ['wss://old.example'], source: 'nip17', at: NOW - INBOX_TTL_S - 1 }
    for (let i = 2; i < 1_000; i++) state.inboxes[key(i)] = { relays: [`wss://r${i}.example`], source: 'nip17', at: NOW - (i % 60) }
    bound(state, NOW)
    expect(state.inboxes[key(1)]).toBeUndefined()
    expect(Object.keys(state.inboxes)).toHaveLength(MAX_INBOXES)

    const long = `wss://relay.example/${'a'.repeat(5_000)}`
    const list = {
      id: '0'.repeat(64),
      pubkey: PEER,
      created_at: NOW,
      kind: 10050,
      tags: [...Array.from({ length: MAX_PEER_RELAYS }, (_, i) => ['relay', `${long}${i}`]), ['relay', 'wss://fine.example']],
      content: '',
      sig: '0'.repeat(128),
    }
    expect(inboxFromLists([list], PEER)).toEqual({ relays: ['wss://fine.example'], source: 'nip17' })
    expect(MAX_RELAY_URL_CHARS).toBeLessThan(1_000)
  })

  it('a call that is waiting counts, and so many wait at most', () => {
    const state = emptyState()
    const rung = applyIncoming(
      state,
      Array.from({ length: 500 }, (_, i) => request(key(i + 1), callId(i))),
      ME,
      NOW,
    )
    expect(Object.keys(state.calls).length).toBeLessThan(500)
    expect(rung.events.length).toBe(Object.keys(state.calls).length)
    expect(rung.replies.length).toBe(500 - Object.keys(state.calls).length)
  })
})

describe('a known key keeps its name (point 6)', () => {
  const announce = (state: State, pubkey: string, lastSeen: number) => {
    state.agents[pubkey] = { pubkey, agentId: 'research-bot', name: 'research-bot', about: '', lastSeen, eventId: `e${pubkey.slice(0, 8)}` }
  }

  it('offline, it still owns the name: a stranger online with it is not called or allowed', () => {
    const state = emptyState()
    pastCall(state, 'feedf00d01', NOW - 3_600)
    announce(state, PEER, NOW - 3_600)
    const STRANGER = key(7)
    announce(state, STRANGER, NOW - 10)
    expect(resolveAgent(state, 'research-bot', ME, NOW, 300)).toBe(PEER)
    expect(resolveAgent(state, 'Research-Bot', ME, NOW, 300)).toBe(PEER)
  })

  it('its announcement is kept past the agents TTL and a flood of others', () => {
    const state = emptyState()
    pastCall(state, 'feedf00d01', NOW - 3_600)
    announce(state, PEER, NOW - AGENT_TTL_S - 10)
    for (let i = 1; i <= MAX_AGENTS + 10; i++)
      state.agents[key(i)] = { pubkey: key(i), agentId: `s${i}`, name: `s${i}`, about: '', lastSeen: NOW, eventId: `x${i}` }
    bound(state, NOW)
    expect(state.agents[PEER]?.name).toBe('research-bot')
  })
})

describe('call slots are not held for ever (point 7)', () => {
  it('an active call with no message either way for the idle timeout ends, with a reason, and the peer is told', () => {
    const state = inCall()
    const talk = applyIncoming(
      state,
      [from(PEER, { type: 'message', callId: 'ca11ca11', text: 'hi' }, { at: NOW + 600 })],
      ME,
      NOW + 600,
      undefined,
      {
        idleS: 3_600,
      },
    )
    expect(talk.events.map((e) => e.type)).toEqual(['message'])
    // an hour after the last message, not an hour after the accept
    expect(applyIncoming(state, [], ME, NOW + 3_700, undefined, { idleS: 3_600 }).events).toEqual([])
    expect(state.calls.ca11ca11.state).toBe('active')
    const idle = applyIncoming(state, [], ME, NOW + 600 + 3_600, undefined, { idleS: 3_600 })
    expect(state.calls.ca11ca11).toMatchObject({ state: 'ended', endedBy: ME, reason: expect.stringMatching(/idle/) })
    expect(idle.events).toEqual([
      expect.objectContaining({ type: 'call-ended', callId: 'ca11ca11', reason: expect.stringMatching(/60 minutes/) }),
    ])
    expect(idle.replies).toEqual([{ peer: PEER, msg: { type: 'call-end', callId: 'ca11ca11' } }])
    expect(idle.finished).toEqual(['ca11ca11'])
  })

  it('a key holds at most one call with us: its other requests are declined, whatever maxCalls says', () => {
    const state = emptyState()
    const three = applyIncoming(
      state,
      [request(PEER, 'aaaa0001'), request(PEER, 'aaaa0002'), request(PEER, 'aaaa0003')],
      ME,
      NOW,
      undefined,
      {
        maxCalls: 3,
      },
    )
    expect(three.events.map((e) => e.callId)).toEqual(['aaaa0001'])
    expect(three.replies.map((r) => r.msg)).toEqual([
      expect.objectContaining({ type: 'call-reject', callId: 'aaaa0002', reason: expect.stringMatching(/aaaa0001/) }),
      expect.objectContaining({ type: 'call-reject', callId: 'aaaa0003' }),
    ])
    expect(Object.keys(state.calls)).toEqual(['aaaa0001'])
    // nor can we call a key we are in a call with
    acceptCall(state, 'aaaa0001', NOW, 3)
    expect(() => startCall(state, PEER, 'again', 'bbbb0001', NOW, 3)).toThrow(/aaaa0001/)
  })

  it('a call request says whether the caller is known', () => {
    const state = emptyState()
    pastCall(state, 'feedf00d01', NOW - 60)
    const both = applyIncoming(state, [request(PEER, 'aaaa0001'), request(key(9), 'aaaa0002')], ME, NOW, undefined, { maxCalls: 3 })
    expect(both.events.map((e) => [e.callId, e.known])).toEqual([
      ['aaaa0001', true],
      ['aaaa0002', false],
    ])
  })
})

describe('no automatic NIP-04 answer to a key we never talked to (point 12)', () => {
  it('refused, busy or too old: a stranger over NIP-04 is not answered; a known key is, the way it came', () => {
    const state = emptyState()
    pastCall(state, 'feedf00d01', NOW - 60)
    const strangers = Array.from({ length: 5 }, (_, i) => key(i + 1))
    const refused = applyIncoming(
      state,
      strangers.flatMap((s, i) => [request(s, callId(2 * i), true), request(s, callId(2 * i + 1), true)]),
      ME,
      NOW,
      undefined,
      { accept: 'known' },
    )
    expect(refused.replies).toEqual([])
    const old = applyIncoming(
      state,
      [from(key(9), { type: 'call-request', callId: 'dddd0001', topic: 't' }, { at: NOW - 86_400, legacy: true })],
      ME,
      NOW,
    )
    expect(old.replies).toEqual([])
    // busy: the stranger is not answered, a known key (allowed) is
    const busy = inCall()
    const FRIEND = 'c'.repeat(64)
    busy.allowed = { [FRIEND]: NOW }
    const answered = applyIncoming(busy, [request(key(3), 'eeee0001', true), request(FRIEND, 'eeee0002', true)], ME, NOW + 1)
    expect(answered.replies).toEqual([expect.objectContaining({ peer: FRIEND, legacy: true })])
    // the calls left waiting when the last room is taken: declined over NIP-04 only to known keys
    const waiting = emptyState()
    applyIncoming(waiting, [request(key(4), 'ffff0001', true), request(key(5), 'ffff0002')], ME, NOW)
    const { replies } = acceptCall(waiting, 'ffff0002', NOW + 1)
    expect(replies.map((r) => r.msg.type)).toEqual(['call-accept'])
  })
})
