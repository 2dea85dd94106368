// The accept policy in the call machine (issue 16, part 2), without a network.

import { describe, expect, it } from 'vitest'
import type { Incoming } from '../lib/calls/inputs.ts'
import { applyIncoming } from '../lib/calls/machine.ts'
import { POLICY_REJECT_REASON } from '../lib/calls/policy.ts'
import { MAX_POLICY_REPLIES } from '../lib/limits.ts'
import { emptyState } from '../lib/store/schema.ts'
import { POLICY_REPLY_EVERY_S } from '../lib/timing.ts'

const NOW = 1_800_000_000
const ME = 'a'.repeat(64)
const STRANGER = 'b'.repeat(64)
const OWNER = 'c'.repeat(64)
let serial = 0
const request = (who: string, at = NOW): Incoming => ({
  id: `r${++serial}`,
  from: who,
  at,
  msg: { type: 'call-request', callId: `ca11${serial}`, topic: 'hello' },
})
const dm = (who: string): Incoming => ({ id: `d${++serial}`, from: who, at: NOW, msg: { type: 'dm', text: 'hi' } })

describe('accept policy', () => {
  it('a stranger under known is refused without a call or event, told once a day', () => {
    const state = emptyState()
    const first = applyIncoming(state, [request(STRANGER), dm(STRANGER)], ME, NOW, undefined, { accept: 'known' })
    expect(first.events).toEqual([])
    expect(Object.keys(state.calls)).toEqual([])
    expect(first.replies).toEqual([{ peer: STRANGER, msg: expect.objectContaining({ type: 'call-reject', reason: POLICY_REJECT_REASON }) }])
    expect(first.ignored).toHaveLength(2)
    expect(applyIncoming(state, [request(STRANGER)], ME, NOW + 60, undefined, { accept: 'known' }).replies).toEqual([])
    const nextDay = NOW + POLICY_REPLY_EVERY_S + 1
    expect(applyIncoming(state, [request(STRANGER, nextDay)], ME, nextDay, undefined, { accept: 'known' }).replies).toHaveLength(1)
  })

  it('the owner always reaches us; anyone is unchanged; a blocked key is dropped even under anyone', () => {
    const state = emptyState()
    expect(applyIncoming(state, [request(OWNER)], ME, NOW, OWNER, { accept: 'allowlist' }).events.map((e) => e.type)).toEqual([
      'call-request',
    ])
    expect(applyIncoming(state, [request(STRANGER)], ME, NOW).events.map((e) => e.type)).toEqual(['call-request'])
    state.blocked = { [STRANGER]: NOW }
    const blocked = applyIncoming(state, [request(STRANGER), dm(STRANGER)], ME, NOW)
    expect(blocked.events).toEqual([])
    expect(blocked.replies).toEqual([])
    expect(blocked.ignored.every((why) => why.includes('blocked'))).toBe(true)
  })

  it('answers at most MAX_POLICY_REPLIES new keys a day', () => {
    const state = emptyState()
    const keys = Array.from({ length: MAX_POLICY_REPLIES + 5 }, (_, i) => i.toString(16).padStart(64, '0'))
    const applied = applyIncoming(
      state,
      keys.map((k) => request(k)),
      ME,
      NOW,
      undefined,
      { accept: 'allowlist' },
    )
    expect(applied.replies).toHaveLength(MAX_POLICY_REPLIES)
    expect(Object.keys(state.policyReplies ?? {})).toHaveLength(MAX_POLICY_REPLIES)
  })
})
