// Which relays an invocation uses: --relay, else P2P_RELAYS, else `config set relays`, else
// the built-in list (CLI.md). URLs are validated and normalised once, here.
import { usageError } from './errors.ts'

export const DEFAULT_RELAYS = ['wss://relay.damus.io', 'wss://nos.lol', 'wss://relay.primal.net']

export type RelaySource = 'flag' | 'env' | 'config' | 'default'

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

export function resolveRelays(opts: {
  flag?: string[]
  env?: string
  config?: string[]
}): { urls: string[]; source: RelaySource } {
  if (opts.flag && opts.flag.length > 0) return { urls: parseRelayList(opts.flag), source: 'flag' }
  if (opts.env && opts.env.trim()) return { urls: parseRelayList(opts.env), source: 'env' }
  if (opts.config && opts.config.length > 0) return { urls: parseRelayList(opts.config), source: 'config' }
  return { urls: DEFAULT_RELAYS, source: 'default' }
}
