// Relay URLs: validated and normalised once, here, wherever they come from (flags, config,
// peers' relay lists), and which of a peer's we may connect to.
import { BlockList, isIP } from 'node:net'
import { usageError } from '../errors.ts'
import { MAX_RELAY_URL_CHARS, MAX_STRANGER_RELAYS } from '../limits.ts'

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

/** Where a relay's host is: this machine, a private network (LAN, link-local, reserved, or a
 *  name only a local resolver knows), or the internet. Judged by the URL alone: a public name
 *  whose DNS answer is a private address passes as public. */
export type RelayZone = 'loopback' | 'private' | 'public'

const LOOPBACK = new BlockList()
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4')
LOOPBACK.addAddress('::1', 'ipv6')
const NOT_PUBLIC = new BlockList()
// RFC 6890's special-purpose blocks: unspecified, private, shared (CGNAT), link-local, the
// documentation and benchmark nets, multicast and reserved; IPv6 unique-local, link-local, multicast, documentation
for (const [net, bits] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 3],
] as const)
  NOT_PUBLIC.addSubnet(net, bits, 'ipv4')
for (const [net, bits] of [
  ['::', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
  ['2001:db8::', 32],
] as const)
  NOT_PUBLIC.addSubnet(net, bits, 'ipv6')
/** Names that only a local resolver answers (RFC 6761, 6762, 8375, and common LAN suffixes). */
const LOCAL_SUFFIXES = ['.local', '.lan', '.internal', '.intranet', '.home.arpa', '.localdomain', '.corp', '.home']

export function relayZone(url: string): RelayZone {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '').replace(/\.$/, '')
  const family = isIP(host)
  if (family) {
    const type = family === 4 ? 'ipv4' : 'ipv6'
    return LOOPBACK.check(host, type) ? 'loopback' : NOT_PUBLIC.check(host, type) ? 'private' : 'public'
  }
  if (host === 'localhost' || host.endsWith('.localhost')) return 'loopback'
  return !host.includes('.') || LOCAL_SUFFIXES.some((s) => host.endsWith(s)) ? 'private' : 'public'
}

/** Of a peer's relays, those we may connect to. A loopback or private one only when our own
 *  relays are in that zone too (a local test network) or it is one of ours: otherwise a peer's
 *  list would make us knock on ports of our own machine or network. To a key we never called
 *  (`stranger`: an automatic reply), beyond that only `wss://`, and at most MAX_STRANGER_RELAYS. */
export function peerRelaysToUse(urls: string[], ours: string[], stranger: boolean): string[] {
  const zones = new Set(ours.map(relayZone))
  const usable = urls.filter((url) => {
    if (ours.includes(url)) return true
    const zone = relayZone(url)
    return zone === 'public' ? !stranger || url.startsWith('wss:') : zones.has(zone)
  })
  return stranger ? usable.slice(0, MAX_STRANGER_RELAYS) : usable
}
