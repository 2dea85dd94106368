// Every duration the tool waits, keeps or looks back, named once, and the one clock.
import { testOverride } from './limits.ts'

/** Tests run the tool with its clock off by this many seconds (P2P_TEST_CLOCK_OFFSET_S, may be
 *  negative): a run whose clock is wrong must move nothing that later runs rely on. */
const TEST_CLOCK_OFFSET_S = Math.trunc(Number(process.env.P2P_TEST_CLOCK_OFFSET_S) || 0)

export const unixNow = (): number => Math.floor(Date.now() / 1000) + TEST_CLOCK_OFFSET_S

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)))

// ---- one invocation ---------------------------------------------------------------------
/** Keeps every command under ~5 s even when every relay is dead or silent. */
export const DEFAULT_TIMEOUT_MS = 4_000
export const MIN_TIMEOUT_MS = 100
export const MAX_TIMEOUT_MS = 600_000
/** `poll --wait` at most. */
export const MAX_WAIT_S = 3_600
/** After `poll --wait` wakes up, what arrives within this many seconds comes along (a file and
 *  the message right behind it); `--settle` changes it, up to MAX_SETTLE_S. */
export const DEFAULT_SETTLE_S = 2
export const MAX_SETTLE_S = 60
/** `poll --wait` without a live subscription (no relay keeps one) looks again this often. */
export const WAIT_RESYNC_MS = 5_000
/** A relay that has not finished its WebSocket handshake by then is given up on. */
export const CONNECT_TIMEOUT_MS = 2_000
/** A longer --timeout gives connecting this share of it, when that is more. */
export const CONNECT_SHARE = 1 / 4
/** Once one relay has answered in full, the others get this long (or three times what the
 *  first took, if more) before they are given up on for this operation. */
export const GRACE_MIN_MS = 500
/** Queries leave this share of the deadline (at most QUERY_RESERVE_MAX_MS) for what follows:
 *  a peer's relay lists, then publishing, each of which may wait out a grace period. */
export const QUERY_RESERVE_SHARE = 1 / 2
export const QUERY_RESERVE_MAX_MS = 2_000
/** A peer's relay list lookup gets this long. */
export const INBOX_LOOKUP_MS = 1_500
/** Announcing is best effort: a relay gets this long to answer. */
export const ANNOUNCE_MS = 1_000
/** Publishing time allowed per file chunk beyond the usual deadline. */
export const MS_PER_CHUNK = 60
/** Retrying the outbox runs beside the command and is over by then, whatever the relays do. */
export const OUTBOX_RETRY_MS = 1_500
/** Automatic replies (busy, too late) are best effort: this long at most (none starts later),
 *  never queued. */
export const AUTO_REPLY_MS = testOverride('P2P_TEST_AUTO_REPLY_MS', 1_000)
/** After a `rate-limited:` refusal, publishing pauses this long (doubling on each one in a run). */
export const RATE_LIMIT_PAUSE_MS = 500
export const RATE_LIMIT_PAUSE_MAX_MS = 4_000
/** An `--exec` hook is killed after this long (with all it started: its process group). */
export const HOOK_TIMEOUT_MS = testOverride('P2P_TEST_HOOK_TIMEOUT_MS', 60_000)
/** A poll's lease on the events it prints lapses after this long, even if its process lives on
 *  (longer than a poll can take: the longest wait, a deadline, and hooks). */
export const PRINT_LEASE_S = 2 * 3_600
/** A progress line redraws this often. */
export const PROGRESS_FRAME_MS = 100
/** Every socket is closed at the end; a handle still open after this long is cut. */
export const EXIT_FALLBACK_MS = 500
/** A relay gets this long to answer our WebSocket close frame before ws cuts the connection.
 *  No run waits for the answer on its way out (nostr/relay/close.ts); a process that lives on
 *  (`poll --wait`) frees the socket then. P2P_TEST_CLOSE_HANDSHAKE_MS: the test that no run
 *  waits for it. */
export const CLOSE_HANDSHAKE_MS = testOverride('P2P_TEST_CLOSE_HANDSHAKE_MS', 250)

// ---- the state lock ---------------------------------------------------------------------
/** A lock older than this was left by a killed process. */
export const LOCK_STALE_MS = 10_000
/** Waiting longer than this for the lock is an error. P2P_TEST_LOCK_WAIT_MS: a test of mutual
 *  exclusion under many contenders waits as long as it takes (no queue is fair on a busy machine). */
export const LOCK_WAIT_MS = testOverride('P2P_TEST_LOCK_WAIT_MS', 8_000)
/** The longest pause between two attempts to take the lock. */
export const LOCK_RETRY_MAX_MS = 50

// ---- the protocol -----------------------------------------------------------------------
/** A call request not answered within this many seconds expires, on both sides. */
export const RING_TIMEOUT_S = 300
/** A call request this much older than the ring timeout still rings: the caller's clock may be
 *  off. Older ones are answered as too old. */
export const CALLER_CLOCK_SKEW_S = 600
/** An active call with no message either way for this long ends (`config set idleTimeout`),
 *  so that a silent peer cannot hold a call slot for ever: long enough for a peer that waits
 *  on its owner or polls from cron. */
export const DEFAULT_IDLE_TIMEOUT_S = 3_600
export const MIN_IDLE_TIMEOUT_S = 60
export const MAX_IDLE_TIMEOUT_S = 7 * 24 * 3600
/** A caller refused by the `accept` policy is told so at most once in this long. */
export const POLICY_REPLY_EVERY_S = 24 * 3600
/** DMs are recognised by their rumor id for this long (a client may wrap one twice, or our
 *  wrap memory may have moved on). */
export const DM_ID_TTL_S = 2 * (2 * 24 * 3600 + 3600)
/** Ids already taken are forgotten in batches, once the oldest is this far past its time: a
 *  quiet run does not rewrite their file for the few that aged out since the last one. */
export const FORGET_SLACK_S = 3600
/** An end that came before its request is remembered this long. */
export const EARLY_END_TTL_S = 2 * 24 * 3600
/** NIP-59: seals and wraps are dated up to this long in the past, at random. */
export const TIMESTAMP_SPREAD_S = 2 * 24 * 3600
/** A sync reads gift wraps this far behind its cursor (the NIP-59 spread plus an hour). */
export const GIFT_WRAP_LOOKBACK_S = TIMESTAMP_SPREAD_S + 3600
/** Events dated further ahead than this are refused: clocks differ a little, but a flood of
 *  future-dated announcements would otherwise outrank every real one. */
export const MAX_CLOCK_SKEW_S = 120
/** Re-announce when the newest announcement a relay holds is this old. */
export const PRESENCE_REFRESH_S = 120
/** NIP-40: relays may drop an announcement this long after it was made. */
export const PRESENCE_EXPIRY_S = 600
/** Presence is re-read this far behind the cursor, for events that reached a relay late. */
export const PRESENCE_OVERLAP_S = 120
/** NIP-04 DMs (config legacy on) are re-read this far behind their cursor, for the same late
 *  arrivals; the first read looks back one ring timeout (a request may still be ringing). */
export const LEGACY_OVERLAP_S = PRESENCE_OVERLAP_S
export const LEGACY_FIRST_LOOKBACK_S = RING_TIMEOUT_S
/** The default window of `list`: announced within it means online. */
export const DEFAULT_ONLINE_WINDOW_S = 300
/** How often cron runs `poll` at most (the crontab line in docs/usage.md): the announcement's renewal
 *  waits for an agent's next run. */
export const FASTEST_POLL_S = 60
/** An online agent's announcement is up to PRESENCE_REFRESH_S old, plus the wait for its next
 *  run: a shorter window would drop agents that are online from `list`. */
export const MIN_ONLINE_WINDOW_S = PRESENCE_REFRESH_S + FASTEST_POLL_S
export const MAX_ONLINE_WINDOW_S = 86_400
/** A peer's relay list is looked up again after this long. */
export const INBOX_TTL_S = 3_600
/** NIP-77: a relay that has not answered a NEG-OPEN within this long does not speak it (it is
 *  read page by page instead, and asked again after NEG_RECHECK_S). P2P_TEST_NEG_PROBE_MS sets
 *  this and the next: a test that needs a relay's NIP-77 recognised gives it long, so that on a
 *  busy machine it does not race the probe. */
export const NEG_PROBE_MS = testOverride('P2P_TEST_NEG_PROBE_MS', 1_000)
/** The probe for a relay that reconciled when last asked: its silence is more likely slowness (a
 *  large window, a busy relay) than a relay that stopped speaking NIP-77, and reading page by
 *  page instead costs far more than waiting a little longer. */
export const NEG_PROBE_KNOWN_MS = testOverride('P2P_TEST_NEG_PROBE_MS', 3_000)
export const NEG_RECHECK_S = 24 * 3600
/** One that did not answer at all may only have been slow (a large window, a busy relay): it is
 *  asked again after an hour, not a day. */
export const NEG_RECHECK_SILENT_S = 3600
/** NIP-11: a relay's `max_limit` is read again after this long (it changes with its config). */
export const RELAY_INFO_RECHECK_S = 7 * 24 * 3600
/** A relay not read in full for this long is waited for until the deadline, even when the
 *  others answered first. */
export const RESYNC_AFTER_S = 600
/** A relay that answered none of a sync's REQs (never connected, or no EOSE) is waited for
 *  only while the others are, until it is given a full chance again this long later (doubling
 *  after each full chance it misses, up to the max); it is still tried, in the background, on
 *  every run meanwhile. */
export const SILENT_RETRY_S = 60
export const SILENT_RETRY_MAX_S = 3_600

// ---- what is kept -----------------------------------------------------------------------
/** Agents not heard from for this long are forgotten. */
export const AGENT_TTL_S = 7 * 24 * 3600
/** A queued item refused as rate-limited waits this long before the next run retries it
 *  (doubling with each attempt, up to the max). */
export const OUTBOX_BACKOFF_S = 60
export const OUTBOX_BACKOFF_MAX_S = 3_600
/** A queued item not delivered within this long is given up. */
export const OUTBOX_TTL_S = 2 * 24 * 3600
/** Chunks of a file not completed within this long are thrown away. */
export const PARTIAL_FILE_TTL_S = 3 * 24 * 3600
/** A claim to assemble a received file older than this is stale whatever its pid says (a pid
 *  may be reused; assembling the largest file takes seconds); so is a temp file of a file being
 *  saved (left by a run killed while writing it). */
export const PARTIAL_CLAIM_STALE_MS = 5 * 60_000

/** Our lists go to the indexer relays again after this long (and when they change); after a
 *  failure, after INDEXER_RETRY_S. */
export const INDEXER_REFRESH_S = 24 * 3600
export const INDEXER_RETRY_S = 3600
