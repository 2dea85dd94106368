// Relay URLs: validated and normalised once, here, wherever they come from (flags, config,
// peers' relay lists).
import { usageError } from '../errors.ts'
import { MAX_RELAY_URL_CHARS } from '../limits.ts'

export function normalizeRelayUrl(raw: string): string {
  let url: URL
  try {
    url = new URL(raw.trim())
  } catch {
    throw badRelay(raw)
  }
  if ((url.protocol !== 'wss:' && url.protocol !== 'ws:') || !url.hostname || url.username || url.password) {
    throw badRelay(raw)
  }
  url.hash = ''
  // new URL() already lowercases the host and drops default ports; a bare "/" path goes too.
  return url.toString().replace(/\/$/, '')
}

function badRelay(raw: string) {
  return usageError(
    'bad-relay-url',
    `"${raw}" is not a relay URL`,
    'relay URLs look like wss://relay.example.com (or ws://127.0.0.1:7777 for a local relay)',
  )
}

/** Splits a comma- or space-separated list and normalises each URL, keeping the first of duplicates. */
export function parseRelayList(raw: string | string[]): string[] {
  const parts = (Array.isArray(raw) ? raw : [raw]).flatMap((s) => s.split(/[\s,]+/)).filter(Boolean)
  return [...new Set(parts.map(normalizeRelayUrl))]
}

/** The valid URLs among untrusted ones (a peer's list), normalised, without duplicates; none
 *  longer than MAX_RELAY_URL_CHARS. */
export function validRelayUrls(urls: string[], max: number): string[] {
  const valid = urls.flatMap((u) => {
    if (u.length > MAX_RELAY_URL_CHARS) return []
    try {
      return [normalizeRelayUrl(u)]
    } catch {
      return []
    }
  })
  return [...new Set(valid)].slice(0, max)
}
