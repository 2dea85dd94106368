// The original skill's wire format without a network: our NIP-04 against nostr-tools' (both ways),
// every message type mapped there and back, what is refused, and how the call machine keeps a
// legacy call apart from NIP-17.

import { randomBytes } from 'node:crypto'
import * as toolsNip04 from 'nostr-tools/nip04'
import { finalizeEvent, generateSecretKey, getPublicKey, verifyEvent } from 'nostr-tools/pure'
import { describe, expect, it } from 'vitest'
import type { Incoming } from '../lib/calls/inputs.ts'
import { applyIncoming } from '../lib/calls/machine.ts'
import { sha256Hex } from '../lib/encoding.ts'
import {
  MAX_EVENT_BYTES,
  MAX_FILE_NAME_BYTES,
  MAX_LEGACY_FILE_BYTES,
  MAX_LEGACY_FILE_IN,
  MAX_NAME,
  MAX_NIP04_PLAINTEXT,
} from '../lib/limits.ts'
import { callIdOfRoom, legacyDm, legacyPayload, newLegacyCallId, openLegacyDm, parseLegacy, roomOfCall } from '../lib/nostr/legacy.ts'
import { decrypt, encrypt } from '../lib/nostr/nip04.ts'
import type { P2PMessage } from '../lib/nostr/p2p.ts'
import { foldSync, legacyPlan } from '../lib/session/fold.ts'
import type { PagedRead } from '../lib/session/paging.ts'
import { emptyState, type State } from '../lib/store/schema.ts'
import { GIFT_WRAP_LOOKBACK_S, LEGACY_OVERLAP_S, RING_TIMEOUT_S } from '../lib/timing.ts'

const alice = generateSecretKey()
const bob = generateSecretKey()
const [alicePk, bobPk] = [getPublicKey(alice), getPublicKey(bob)]
const CALL = 'f47ac10b58cc4372a5670e02b2c3d479'
const ROOM = 'f47ac10b-58cc-4372-a567-0e02b2c3d479'
const self = { agentId: 'alice-id', name: 'Alice' }

describe('NIP-04', () => {
  it('reads what nostr-tools writes, and nostr-tools reads ours, for any text', () => {
    for (const text of ['', 'hello', 'ünïcødé 🚀', 'x'.repeat(15), 'y'.repeat(16), 'z'.repeat(40_000)]) {
      expect(decrypt(toolsNip04.encrypt(alice, bobPk, text), bob, alicePk)).toBe(text)
      expect(toolsNip04.decrypt(bob, alicePk, encrypt(text, alice, bobPk))).toBe(text)
    }
  })

  it('refuses what is not a NIP-04 payload, or not for this key', () => {
    const good = encrypt('secret', alice, bobPk)
    const stranger = generateSecretKey()
    for (const bad of ['', 'abc', good.replace('?iv=', '?xx='), `${good}?iv=AAAA`, good.replace(/\?iv=.*/, '?iv=AAAA')]) {
      expect(() => decrypt(bad, bob, alicePk)).toThrow()
    }
    let opened: string | undefined
    try {
      opened = decrypt(good, stranger, alicePk) // usually bad padding; at worst garbage
    } catch {}
    expect(opened).not.toBe('secret')
    expect(() => encrypt('x', alice, `${bobPk}00`)).toThrow(/public key/)
  })
})

describe('the original skill’s messages', () => {
  it('maps a roomId to a call id and back; only UUIDs are roomIds', () => {
    expect(callIdOfRoom(ROOM)).toBe(CALL)
    expect(callIdOfRoom(ROOM.toUpperCase())).toBe(CALL)
    expect(roomOfCall(CALL)).toBe(ROOM)
    // ours are RFC 4122 version 4 (version nibble 4, variant bits 10), as the original skill's
    for (let i = 0; i < 64; i++) {
      expect(roomOfCall(newLegacyCallId())).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    }
    expect(callIdOfRoom('f47ac10b-58cc-1372-0567-0e02b2c3d479')).toBe('f47ac10b58cc137205670e02b2c3d479') // theirs: taken as they are
    for (const bad of ['room-1', `${ROOM}x`, 42, null, '../../etc']) expect(callIdOfRoom(bad)).toBeNull()
    expect(() => roomOfCall('ca11ca11')).toThrow() // a NIP-17 call id has no roomId
  })

  it('every message goes there and back unchanged', () => {
    const data = Buffer.from('pair,rate\n')
    const chunk = {
      fileId: 'e'.repeat(64),
      name: 'rates.csv',
      size: data.length,
      sha256: sha256Hex(data),
      index: 0,
      total: 1,
      data: data.toString('base64'),
    }
    const messages: P2PMessage[] = [
      // the caller's name goes as its agentName (the sender's own), and comes back as the request's name
      { type: 'call-request', callId: CALL, topic: 'rates', name: 'Alice' },
      { type: 'call-accept', callId: CALL },
      { type: 'call-reject', callId: CALL, reason: 'busy' },
      { type: 'message', callId: CALL, text: 'hello' },
      { type: 'file-chunk', callId: CALL, chunk },
      { type: 'escalation', callId: CALL, reason: 'needs a human' },
      { type: 'call-end', callId: CALL },
    ]
    for (const msg of messages) {
      const payload = legacyPayload(msg, self)
      expect(payload?.roomId).toBe(ROOM)
      expect(payload?.origin).toBe('alice-id') // v0.3 names the sending agentId in every message
      expect(parseLegacy(JSON.stringify(payload), chunk.fileId)).toEqual(msg)
    }
    expect(legacyPayload(messages[0], self)).toEqual({
      type: 'call_request',
      roomId: ROOM,
      agentId: 'alice-id',
      agentName: 'Alice',
      topic: 'rates',
      origin: 'alice-id',
    })
    expect(legacyPayload({ type: 'dm', text: 'hi' }, self)).toBeNull()
    expect(legacyPayload({ type: 'file-chunk', callId: CALL, chunk: { ...chunk, total: 2 } }, self)).toBeNull()
  })

  it('drops malformed, oversized and unsafe messages, and takes v0.3’s extra fields', () => {
    const parse = (o: object) => parseLegacy(JSON.stringify(o), 'e'.repeat(64))
    expect(parse({ type: 'room_message', roomId: ROOM, content: 'hi', origin: 'agent' })).toEqual({
      type: 'message',
      callId: CALL,
      text: 'hi',
    })
    expect(parseLegacy('not json', 'e'.repeat(64))).toBeNull()
    expect(parse({ type: 'room_message', roomId: 'room-1', content: 'hi' })).toBeNull()
    expect(parse({ type: 'room_message', roomId: ROOM, content: 42 })).toBeNull()
    expect(parse({ type: 'room_message', roomId: ROOM, content: 'x'.repeat(16_001) })).toBeNull()
    expect(parse({ type: 'call_request', roomId: ROOM, topic: 't'.repeat(301) })).toBeNull()
    expect(parse({ type: 'room_file', roomId: ROOM, filename: '../x', content: 'aGk=' })).toBeNull()
    expect(parse({ type: 'room_file', roomId: ROOM, filename: 'x.txt', content: 'not base64!' })).toBeNull()
    // more than one 64 KiB event can carry
    const tooBig = randomBytes(MAX_LEGACY_FILE_IN + 1).toString('base64')
    expect(parse({ type: 'room_file', roomId: ROOM, filename: 'x.txt', content: tooBig })).toBeNull()
    expect(parse({ type: 'dance', roomId: ROOM })).toBeNull()
  })

  it('takes a file as large as one 64 KiB event carries, not only one of our chunks', () => {
    const data = randomBytes(MAX_LEGACY_FILE_IN)
    const msg = parseLegacy(
      JSON.stringify({ type: 'room_file', roomId: ROOM, filename: 'big.bin', content: data.toString('base64') }),
      'e'.repeat(64),
    )
    expect(msg).toMatchObject({
      type: 'file-chunk',
      callId: CALL,
      chunk: { name: 'big.bin', size: data.length, sha256: sha256Hex(data), total: 1 },
    })
    expect(MAX_LEGACY_FILE_IN).toBe(36_609)
  })

  it('the largest file we send fits one 64 KiB event with the longest names; the largest we take is one event full', () => {
    // '€' takes 3 UTF-8 bytes, the most a name's character is allowed for
    const fileName = `${'€'.repeat(Math.floor(MAX_FILE_NAME_BYTES / 3) - 1)}.b`
    const wideSelf = { agentId: '€'.repeat(MAX_NAME), name: '€'.repeat(MAX_NAME) }
    const at = 9_999_999_999
    const sizeOf = (bytes: number, who = wideSelf, file = fileName) => {
      const data = randomBytes(bytes)
      const chunk = {
        fileId: 'e'.repeat(64),
        name: file,
        size: bytes,
        sha256: sha256Hex(data),
        index: 0,
        total: 1,
        data: data.toString('base64'),
      }
      const payload = legacyPayload({ type: 'file-chunk', callId: CALL, chunk }, who) as Record<string, unknown>
      return JSON.stringify(legacyDm(payload, alice, bobPk, at, finalizeEvent)).length
    }
    expect(MAX_LEGACY_FILE_BYTES).toBe(36_054)
    expect(sizeOf(MAX_LEGACY_FILE_BYTES)).toBeLessThanOrEqual(MAX_EVENT_BYTES)
    // the slack is only the names' allowance: with one-letter names 300 bytes more would fit, and MAX_LEGACY_FILE_IN would not
    expect(sizeOf(MAX_LEGACY_FILE_IN, { agentId: 'a', name: 'a' }, 'f')).toBeGreaterThan(MAX_EVENT_BYTES)
    expect(sizeOf(MAX_LEGACY_FILE_BYTES + 300, { agentId: 'a', name: 'a' }, 'f')).toBeLessThanOrEqual(MAX_EVENT_BYTES)
    // MAX_NIP04_PLAINTEXT is exact: a byte more takes another AES block, and the event is over
    expect(MAX_NIP04_PLAINTEXT).toBe(48_815)
    expect(
      JSON.stringify(legacyDm({ pad: 'x'.repeat(MAX_NIP04_PLAINTEXT - 10) }, alice, bobPk, at, finalizeEvent)).length,
    ).toBeLessThanOrEqual(MAX_EVENT_BYTES)
    expect(JSON.stringify(legacyDm({ pad: 'x'.repeat(MAX_NIP04_PLAINTEXT - 9) }, alice, bobPk, at, finalizeEvent)).length).toBeGreaterThan(
      MAX_EVENT_BYTES,
    )
  })

  it('a DM is signed by its author, opened only by its recipient, and checked to be for us', () => {
    const event = legacyDm(
      legacyPayload({ type: 'message', callId: CALL, text: 'hi' }, self) as Record<string, unknown>,
      alice,
      bobPk,
      1_800_000_000,
      finalizeEvent,
    )
    expect(event.kind).toBe(4)
    expect(verifyEvent(event)).toBe(true)
    expect(event.tags).toEqual([['p', bobPk]])
    const { rumor, msg } = openLegacyDm(event, bob, bobPk)
    expect(msg).toEqual({ type: 'message', callId: CALL, text: 'hi' })
    expect(rumor).toMatchObject({ id: event.id, pubkey: alicePk, created_at: 1_800_000_000 })
    expect(() => openLegacyDm(event, alice, alicePk)).toThrow(/not a DM to us/)
  })
})

describe('a legacy call in the machine', () => {
  const NOW = 1_800_000_000
  const item = (msg: Incoming['msg'], legacy: boolean, from = alicePk): Incoming => ({
    id: randomBytes(8).toString('hex'),
    from,
    at: NOW,
    msg,
    ...(legacy ? { legacy: true as const } : {}),
  })

  it('is marked, hears only what comes the same way, and answers back that way', () => {
    const state = emptyState()
    applyIncoming(state, [item({ type: 'call-request', callId: CALL, topic: 't' }, true)], bobPk, NOW)
    expect(state.calls[CALL]).toMatchObject({ state: 'incoming', legacy: true })
    const mixed = applyIncoming(state, [item({ type: 'call-end', callId: CALL }, false)], bobPk, NOW)
    expect(mixed.ignored[0]).toMatch(/other protocol/)
    expect(state.calls[CALL].state).toBe('incoming')
    // a second legacy caller while busy (maxCalls 1, one active): declined the way it came, when
    // it is a key we know (a stranger gets no NIP-04 answer: issue 23, point 12)
    state.calls[CALL].state = 'active'
    const other = 'a1b2c3d4e5f60718293a4b5c6d7e8f90'
    const caller = getPublicKey(generateSecretKey())
    state.allowed = { [caller]: NOW }
    const busy = applyIncoming(state, [item({ type: 'call-request', callId: other, topic: 't' }, true, caller)], bobPk, NOW)
    expect(busy.replies).toEqual([
      expect.objectContaining({ legacy: true, msg: expect.objectContaining({ type: 'call-reject', callId: other }) }),
    ])
    const nip17 = applyIncoming(
      state,
      [item({ type: 'call-request', callId: 'ca11ca11', topic: 't' }, false, getPublicKey(generateSecretKey()))],
      bobPk,
      NOW,
    )
    expect(nip17.replies[0].legacy).toBeUndefined()
  })
})

describe('reading NIP-04 DMs', () => {
  const NOW = 1_800_000_000
  const reads = (legacy: PagedRead[]) => ({
    events: [],
    results: { presence: [], lists: [], wraps: [], legacy },
  })
  const report = (url: string, connected: boolean) => ({ url, connected, dropped: 0 })
  const since = (state: State, url = 'a') => legacyPlan(state, bobPk, url, NOW).pages.since

  it('looks back one ring timeout at first, then from its cursor, never past the gift-wrap window', () => {
    const state = emptyState()
    expect(legacyPlan(state, bobPk, 'a', NOW).pages).toMatchObject({ kinds: [4], '#p': [bobPk], since: NOW - RING_TIMEOUT_S })
    state.cursor.legacy = NOW - 600 // the single cursor of versions before: where a relay without its own starts
    expect(since(state)).toBe(NOW - 600 - LEGACY_OVERLAP_S)
    state.relayHealth.a = { legacy: { cursor: NOW - 60 } }
    expect(since(state)).toBe(NOW - 60 - LEGACY_OVERLAP_S)
    state.relayHealth.a = { legacy: { cursor: NOW - 30 * 86_400 } } // legacy was off for a month
    expect(since(state)).toBe(NOW - GIFT_WRAP_LOOKBACK_S)
  })

  it('moves each relay’s cursor once it read that relay in full; a read cut short goes on from where it stopped', () => {
    const state = emptyState()
    const fold = (legacy: PagedRead[], connected = ['a', 'b']) =>
      foldSync(
        state,
        reads(legacy),
        ['a', 'b'].map((url) => report(url, connected.includes(url))),
        alicePk,
        NOW,
        300,
      )
    fold([
      { url: 'a', complete: true, top: NOW - 5 },
      { url: 'b', complete: false, top: NOW - 5, pagedTo: NOW - 100 },
    ])
    expect(state.relayHealth.a.legacy).toEqual({ cursor: NOW - 5 })
    // b stopped short (a flood of newer DMs): its cursor stays, and the next run reads on from there
    expect(state.relayHealth.b.legacy).toEqual({ paging: { top: NOW - 5, until: NOW - 100 } })
    // over the window it began with
    expect(legacyPlan(state, bobPk, 'b', NOW)).toMatchObject({ pages: { since: NOW - 5 - RING_TIMEOUT_S, until: NOW - 100 }, top: NOW - 5 })
    fold([{ url: 'b', complete: true, top: NOW - 5 }])
    expect(state.relayHealth.b.legacy).toEqual({ cursor: NOW - 5 })
    expect(legacyPlan(state, bobPk, 'b', NOW)).toMatchObject({ pages: { since: NOW - 5 - LEGACY_OVERLAP_S }, top: NOW })
    expect(state.cursor.legacy).toBeUndefined() // no longer moved
  })
})
