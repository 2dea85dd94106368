// Small formatting for plain output: relative times, aligned columns, relay errors.

import { shownLine } from '../sanitize.ts'
import { unixNow } from '../timing.ts'

/** "12 s ago", "3 min ago", "2 h ago", "4 d ago" */
export function ago(unixSeconds: number, now = unixNow()): string {
  const s = Math.max(0, now - unixSeconds)
  if (s < 5) return 'just now'
  if (s < 60) return `${s} s ago`
  if (s < 3600) return `${Math.floor(s / 60)} min ago`
  if (s < 86_400) return `${Math.floor(s / 3600)} h ago`
  return `${Math.floor(s / 86_400)} d ago`
}

/** 1234567 as "1,234,567", as toLocaleString('en-US') writes it, without starting ICU's number
 *  formatting (~1.5 ms of every run's start-up: the command table says a size this way) */
export const thousands = (n: number): string => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',')

/** "in 40 s", "in 3 min", "in 2 h" (or "now") */
export function fromNow(unixSeconds: number, now = unixNow()): string {
  const s = Math.max(0, unixSeconds - now)
  if (s < 1) return 'now'
  if (s < 60) return `in ${s} s`
  if (s < 3600) return `in ${Math.ceil(s / 60)} min`
  return `in ${Math.ceil(s / 3600)} h`
}

/** Pads every column but the last so that rows line up. */
export function table(rows: string[][], indent = ''): string[] {
  const widths = rows.reduce<number[]>((w, row) => row.map((cell, i) => Math.max(w[i] ?? 0, cell.length)), [])
  return rows.map(
    (row) =>
      indent +
      row
        .map((cell, i) => (i < row.length - 1 ? cell.padEnd(widths[i]) : cell))
        .join('  ')
        .trimEnd(),
  )
}

/** TLS: the relay's certificate is not one this machine trusts (Node's codes for it). */
const UNTRUSTED = [
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
]

const REASONS: Record<string, string> = {
  ENOTFOUND: 'host not found (no network, or a typo?)',
  ECONNREFUSED: 'connection refused (nothing listens there)',
  ECONNRESET: 'connection reset',
  EAI_AGAIN: 'DNS lookup failed (no network?)',
  ENETUNREACH: 'network unreachable',
  ...Object.fromEntries(
    UNTRUSTED.map((code) => [code, 'TLS certificate not trusted (a private CA? point NODE_EXTRA_CA_CERTS at its certificate)']),
  ),
  CERT_HAS_EXPIRED: 'TLS certificate expired',
  ERR_TLS_CERT_ALTNAME_INVALID: "TLS certificate names another host than the relay's URL",
}

/** A relay's error as a person reads it (a relay's own words sanitized onto one line); the raw
 *  code stays in `status --json`. */
export const relayError = (error?: string): string => (error ? (REASONS[error] ?? shownLine(error)) : '')
