// Property-based tests (fast-check): random and mutated input never throws out of the parser
// or the state machine, and never breaks the machine's invariants.

import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { acceptCall, endCall, rejectCall, requireActive, startCall } from '../lib/calls/actions.ts'
import type { Incoming } from '../lib/calls/inputs.ts'
import { applyIncoming } from '../lib/calls/machine.ts'
import { buildRumor, type P2PMessage, parseRumor, type Rumor } from '../lib/nostr/p2p.ts'
import { parsePresence } from '../lib/nostr/presence.ts'
import { sanitize } from '../lib/sanitize.ts'
import { parseState } from '../lib/store/parse.ts'
import { emptyState, type State } from '../lib/store/schema.ts'
import { bound } from '../lib/store/state.ts'
import { entriesOf } from './helpers/entries.ts'

const ME = 'a'.repeat(64)
const KEYS = ['b'.repeat(64), 'c'.repeat(64), 'd'.repeat(64)]
const CALL_IDS = ['ca11ca11aa', 'ca11ca11bb', 'ca11ca11cc']
const NOW = 1_800_000_000
const OWNER = 'd'.repeat(64)

const tag = fc.array(
  fc.oneof(fc.string(), fc.constantFrom('p', 'p2p', 'subject', 'reason', 'file', 'data', 'message', 'call-request', ...CALL_IDS)),
  { maxLength: 8 },
)
const anyRumor: fc.Arbitrary<Rumor> = fc.record({
  id: fc.string(),
  pubkey: fc.constantFrom(...KEYS),
  created_at: fc.integer(),
  kind: fc.constantFrom(14, 14, 14, 1, 13, 1059),
  tags: fc.array(tag, { maxLength: 6 }),
  content: fc.string(),
})

const message: fc.Arbitrary<P2PMessage> = fc.oneof(
  fc.record({ type: fc.constant('call-request' as const), callId: fc.constantFrom(...CALL_IDS), topic: fc.string({ maxLength: 50 }) }),
  fc.record({ type: fc.constant('call-accept' as const), callId: fc.constantFrom(...CALL_IDS) }),
  fc.record({ type: fc.constant('call-reject' as const), callId: fc.constantFrom(...CALL_IDS), reason: fc.string({ maxLength: 20 }) }),
  fc.record({ type: fc.constant('message' as const), callId: fc.constantFrom(...CALL_IDS), text: fc.string({ maxLength: 20 }) }),
  fc.record({ type: fc.constant('call-end' as const), callId: fc.constantFrom(...CALL_IDS) }),
  fc.record({ type: fc.constant('escalation' as const), callId: fc.constantFrom(...CALL_IDS), reason: fc.string({ maxLength: 20 }) }),
  fc.record({ type: fc.constant('dm' as const), text: fc.string({ maxLength: 20 }) }),
)
const incoming: fc.Arbitrary<Incoming> = fc.record({
  id: fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 4, maxLength: 8 }),
  from: fc.constantFrom(...KEYS),
  at: fc.integer({ min: NOW - 1_000, max: NOW + 1_000 }),
  ms: fc.nat(),
  msg: message as fc.Arbitrary<Incoming['msg']>,
})

/** What must hold whatever happened. */
function checkInvariants(state: State, maxCalls: number): void {
  const calls = Object.values(state.calls)
  // at most maxCalls calls we are in or placing (active or ringing)
  expect(calls.filter((c) => c.state === 'active' || c.state === 'ringing').length).toBeLessThanOrEqual(maxCalls)
  for (const c of calls) {
    expect(['ringing', 'incoming', 'active', 'rejected', 'ended', 'expired']).toContain(c.state)
    expect(
      c.direction === 'outgoing'
        ? ['ringing', 'active', 'rejected', 'ended', 'expired']
        : ['incoming', 'active', 'rejected', 'ended', 'expired'],
    ).toContain(c.state)
    const added = state.newEntries?.[c.id] ?? []
    expect(new Set(added.map((m) => m.id)).size).toBe(added.length) // each entry is added once
    expect(c.messageCount).toBe(added.length)
    const messages = entriesOf(state, c.id)
    for (const m of messages) expect([ME, c.peer, OWNER]).toContain(m.from) // the owner's answers join the live call
    // each sender's entries in the order sent
    for (const sender of new Set(messages.map((m) => m.from))) {
      const own = messages.filter((m) => m.from === sender)
      for (let i = 1; i < own.length; i++) expect(own[i].at).toBeGreaterThanOrEqual(own[i - 1].at)
    }
  }
}

describe('the rumor parser', () => {
  it('never throws, and returns only well-formed messages', () => {
    fc.assert(
      fc.property(anyRumor, (rumor) => {
        const msg = parseRumor(rumor)
        if (msg === null) return
        expect(['call-request', 'call-accept', 'call-reject', 'message', 'file-chunk', 'call-end', 'escalation', 'dm']).toContain(msg.type)
        if ('callId' in msg) expect(msg.callId).toMatch(/^[0-9a-f]{8,64}$/)
      }),
      { numRuns: 2_000 },
    )
  })

  it('round-trips every message it builds, and survives any one tag being mutated', () => {
    fc.assert(
      fc.property(message, fc.nat(), fc.string(), (msg, which, junk) => {
        const rumor = buildRumor(msg, KEYS[0], ME, NOW, 'x')
        expect(parseRumor(rumor)).toEqual(msg)
        const mutated = { ...rumor, tags: rumor.tags.map((t, i) => (i === which % rumor.tags.length ? [t[0], junk, ...t.slice(2)] : t)) }
        expect(() => parseRumor(mutated)).not.toThrow()
      }),
      { numRuns: 1_000 },
    )
  })

  it('presence and state parsing never throw on junk', () => {
    fc.assert(
      fc.property(fc.string(), fc.array(tag), (content, tags) => {
        expect(() =>
          parsePresence({
            id: 'x',
            pubkey: KEYS[0],
            created_at: NOW,
            kind: 30078,
            tags: [['t', 'openclaw-p2p'], ...tags],
            content,
            sig: '',
          }),
        ).not.toThrow()
        try {
          parseState(content)
        } catch (err) {
          expect(err).toBeInstanceOf(Error)
        }
      }),
      { numRuns: 1_000 },
    )
    expect(sanitize('\u001b[0m')).toBe('')
  })
})

describe('the call state machine', () => {
  it('keeps its invariants under any sequence of incoming events and our own commands', () => {
    const command = fc.oneof(
      fc.record({ kind: fc.constant('in' as const), items: fc.array(incoming, { maxLength: 6 }), dt: fc.integer({ min: 0, max: 400 }) }),
      fc.record({
        kind: fc.constantFrom('call' as const, 'accept' as const, 'reject' as const, 'end' as const, 'send' as const),
        peer: fc.constantFrom(...KEYS),
        id: fc.constantFrom(...CALL_IDS),
        // which call --call names (an index into the calls, or none)
        pick: fc.option(fc.nat(5), { nil: undefined }),
        dt: fc.integer({ min: 0, max: 400 }),
      }),
    )
    fc.assert(
      fc.property(fc.array(command, { maxLength: 25 }), fc.integer({ min: 1, max: 3 }), (commands, maxCalls) => {
        const state = emptyState()
        let now = NOW
        for (const c of commands) {
          now += c.dt
          const named = c.kind !== 'in' && c.pick !== undefined ? Object.keys(state.calls)[c.pick] : undefined
          try {
            if (c.kind === 'in')
              applyIncoming(
                state,
                c.items.map((i) => ({ ...i, at: i.at - NOW + now })),
                ME,
                now,
                OWNER,
                { maxCalls },
              )
            else if (c.kind === 'call')
              startCall(state, c.peer, 'topic', `${c.id}${now}`.slice(0, 12).replace(/[^0-9a-f]/g, 'a'), now, maxCalls)
            else if (c.kind === 'accept') acceptCall(state, named, now, maxCalls)
            else if (c.kind === 'reject') rejectCall(state, named, 'no', now)
            else if (c.kind === 'send') expect(requireActive(state, now, named).state).toBe('active')
            else endCall(state, ME, now, named)
          } catch (err) {
            // our commands may refuse (exit 3); they must do so with a P2PError, nothing else
            expect((err as { code?: string }).code, String(err)).toMatch(/^[a-z-]+$/)
          }
          bound(state, now)
          checkInvariants(state, maxCalls)
        }
      }),
      { numRuns: 500 },
    )
  })
})
