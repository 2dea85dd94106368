// How a relay's refusal (OK false, CLOSED) is classified: by its NIP-01 prefix, after any
// "ERROR: " or "error: " that strfry puts in front.
import { describe, expect, it } from 'vitest'
import { classifyRefusal } from '../lib/nostr/relay/refusal.ts'

describe('refusal classes', () => {
  it.each([
    ['invalid: event too large: 70342', 'permanent'],
    ['blocked: you are banned', 'permanent'],
    ['pow: difficulty 20 needed', 'permanent'],
    ['restricted: not allowed to write', 'permanent'],
    ['ERROR: restricted: paid relay', 'permanent'],
    ['error: invalid: created_at too late', 'permanent'],
    ['rate-limited: slow down', 'rate-limited'],
    ['ERROR: auth-required: requested filter requires authentication', 'auth-required'],
    ['auth-required: publish needs AUTH', 'auth-required'],
    ['error: relay needs serviceUrl to be configured before AUTH can work', 'transient'],
    ['no OK before the deadline', 'transient'],
    ['unreachable: ECONNREFUSED', 'transient'],
    ['', 'transient'],
  ])('%s → %s', (reason, expected) => {
    expect(classifyRefusal(reason)).toBe(expected)
  })
})
