// What the state keeps of each relay: when it last answered and was read in full, how it is
// read (NIP-77 or page by page, and where an unfinished read stopped), and since when it has
// been silent. Part of the state file (schema.ts).

export interface RelayHealth {
  lastOk?: number
  /** when a sync last read everything it asked this relay for (EOSE) */
  lastSynced?: number
  lastError?: string
  /** when the relay last failed to take our announcement: skipped until presence is due again */
  announceFailedAt?: number
  /** since when the relay has answered no REQ of a sync (no connection, no EOSE) */
  silentSince?: number
  /** until then it is waited for only while the other relays are (silence.ts) */
  retryAt?: number
  /** the back-off that set `retryAt`, doubled after each full chance it misses */
  retryAfterS?: number
  /** NIP-77: whether it reconciled our gift wraps when last asked, and when that was (one that
   *  did not is read page by page, and asked again after a while) */
  negentropy?: boolean
  negentropyCheckedAt?: number
  /** it did not answer NEG-OPEN at all (maybe only slow): asked again sooner than one that refused */
  negentropySilent?: boolean
  /** a page-by-page read of its gift wraps that a run left unfinished: it stands for everything
   *  published before `top`, and has read everything dated after `until`; the next run goes on
   *  from `until` (inclusive); `served`: the newest wrap's date the read was served so far */
  wrapPaging?: { top: number; until: number; served?: number }
  /** it asked for NIP-42 AUTH when last connected: the signer is made ready beside connecting */
  asksAuth?: boolean
  /** its cap on one answer (pages.ts): the most events it has served for one filter, and the
   *  `max_limit` its NIP-11 document gave when last read (at `infoCheckedAt`) */
  largestPage?: number
  maxLimit?: number
  infoCheckedAt?: number
  /** NIP-04 DMs (config legacy on): this relay's cursor and unfinished read, as for gift wraps */
  legacy?: { cursor?: number; paging?: RelayHealth['wrapPaging'] }
}

/** A relay's health record, created on first use. */
export function healthOf(state: { relayHealth: Record<string, RelayHealth> }, url: string): RelayHealth {
  state.relayHealth[url] ??= {}
  return state.relayHealth[url]
}
