// What a relay's refusal means for what we send (NIP-01 machine-readable prefixes). Pure.
// strfry puts "ERROR: " (or "error: ") before the prefix, so that comes off first.

/** permanent: sending the same event there again is pointless (invalid, blocked, pow,
 *  restricted); rate-limited: later; auth-required: after AUTH; transient: anything else
 *  (timeouts, connection errors, unexplained refusals), worth another try. */
export type RefusalClass = 'permanent' | 'rate-limited' | 'auth-required' | 'transient'

const CLASSES: Record<string, RefusalClass> = {
  invalid: 'permanent',
  blocked: 'permanent',
  pow: 'permanent',
  restricted: 'permanent',
  'rate-limited': 'rate-limited',
  'auth-required': 'auth-required',
}

export function classifyRefusal(reason: string): RefusalClass {
  const bare = reason.trim().replace(/^error:\s*/i, '')
  const prefix = /^([a-z-]+):/i.exec(bare)?.[1].toLowerCase()
  return (prefix && CLASSES[prefix]) || 'transient'
}
