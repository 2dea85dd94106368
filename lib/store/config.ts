// The user's settings (`config get/set`): a small JSON file of its own, so that a state file
// moved aside as corrupt never takes the agent's name, owner or relays with it. Also where the
// relay list in effect comes from (CLI.md: --relay, else P2P_RELAYS, else config, else default).

import { renameSync } from 'node:fs'
import { LowSync } from 'lowdb'
import { JSONFileSync } from 'lowdb/node'
import { stateError } from '../errors.ts'
import { MAX_CALLS } from '../limits.ts'
import { parsePubkey } from '../nostr/keys.ts'
import { parseRelayList } from '../nostr/relay-url.ts'
import { MAX_IDLE_TIMEOUT_S, MAX_ONLINE_WINDOW_S, MIN_IDLE_TIMEOUT_S, MIN_ONLINE_WINDOW_S } from '../timing.ts'
import type { HomePaths } from './home.ts'
import { withLock } from './lock.ts'

export interface Config {
  name?: string
  about?: string
  /** the owner's npub */
  owner?: string
  relays?: string[]
  /** seconds an announcement counts as "online" in `list` */
  onlineWindow?: number
  /** relays that receive our relay lists and profile, and are asked for others' (NIP-65
   *  "indexers"); [] for none, unset for the defaults */
  indexers?: string[]
  /** what this agent does, announced in its presence (`list --find` matches them) */
  capabilities?: string[]
  /** who may call this agent and send it DMs (lib/calls/policy.ts); unset: anyone */
  accept?: 'anyone' | 'known' | 'allowlist'
  /** calls that may be active at once (1 when unset); beyond, requests are declined as busy */
  maxCalls?: number
  /** seconds an active call may go with no message either way before it ends (calls/timeouts.ts) */
  idleTimeout?: number
  /** 'on': calls with agents of the original skill over NIP-04 (nostr/legacy.ts); unset: off */
  legacy?: 'on' | 'off'
}

export const CONFIG_KEYS = [
  'name',
  'about',
  'owner',
  'relays',
  'onlineWindow',
  'indexers',
  'capabilities',
  'accept',
  'maxCalls',
  'idleTimeout',
  'legacy',
] as const
export type ConfigKey = (typeof CONFIG_KEYS)[number]

export const DEFAULT_RELAYS = ['wss://relay.damus.io', 'wss://nos.lol', 'wss://relay.primal.net']
/** Relays that collect relay lists and profiles for clients to look people up (NIP-65), chosen
 *  from what other clients ask (docs/protocol.md, "Where a DM goes"): two that serve profiles and 10002 well
 *  (Amethyst's indexer list, NDK, Coracle), then Amethyst's DM-inbox lookup set, picked for kind
 *  10050, which purplepag.es carries poorly. Our own lists and profile go to all of them. The
 *  tests run without them (P2P_TEST_NO_INDEXERS=1): their machines cannot reach them, and how
 *  long the names take to fail to resolve there is the machine's load, not the tool's (tests of
 *  indexers set their own with `config set indexers`). */
export const DEFAULT_INDEXERS =
  process.env.P2P_TEST_NO_INDEXERS === '1'
    ? []
    : [
        'wss://purplepag.es',
        'wss://user.kindpag.es',
        'wss://relay.nos.social',
        'wss://relay.damus.io',
        'wss://nos.lol',
        'wss://relay.nostr.band',
        'wss://purplerelay.com',
      ]
export type RelaySource = 'flag' | 'env' | 'config' | 'default'

/** What each setting must be; a value of another type is left out, with a warning. */
const VALID: Record<ConfigKey, (v: unknown) => boolean> = {
  name: (v) => typeof v === 'string',
  about: (v) => typeof v === 'string',
  owner: (v) => typeof v === 'string' && parsePubkey(v) !== null,
  relays: (v) => Array.isArray(v) && v.every((u) => typeof u === 'string'),
  onlineWindow: (v) => isOnlineWindow(v),
  indexers: (v) => Array.isArray(v) && v.every((u) => typeof u === 'string'),
  capabilities: (v) => Array.isArray(v) && v.every((c) => typeof c === 'string'),
  accept: (v) => v === 'anyone' || v === 'known' || v === 'allowlist',
  maxCalls: (v) => Number.isInteger(v) && (v as number) >= 1 && (v as number) <= MAX_CALLS,
  idleTimeout: (v) => Number.isInteger(v) && (v as number) >= MIN_IDLE_TIMEOUT_S && (v as number) <= MAX_IDLE_TIMEOUT_S,
  legacy: (v) => v === 'on' || v === 'off',
}

/** A window in which an online agent's announcement is always found (also checked on reading:
 *  a shorter one an older version took is ignored, with a warning). */
export const isOnlineWindow = (v: unknown): v is number =>
  Number.isInteger(v) && (v as number) >= MIN_ONLINE_WINDOW_S && (v as number) <= MAX_ONLINE_WINDOW_S

/** Reads the settings. A file that is not JSON is an error (or, with `repair`, moved aside so
 *  that `config set` can start afresh); a setting of the wrong type is left out with a warning. */
export function loadConfig(paths: HomePaths, warn: (line: string) => void = () => {}, repair = false): Config {
  let data: unknown
  try {
    const db = new LowSync<unknown>(new JSONFileSync<unknown>(paths.config), {})
    db.read()
    data = db.data
    if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new Error('not an object')
  } catch (err) {
    if (!repair) throw stateError('config-unreadable', `the config file ${paths.config} cannot be read (${(err as Error).message})`)
    const aside = `${paths.config}.bad-${Date.now()}`
    renameSync(paths.config, aside)
    warn(`warning: the config file was unreadable; moved it to ${aside}`)
    return {}
  }
  const config: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(data)) {
    if (!isConfigKey(key)) continue
    if (VALID[key](value)) config[key] = value
    else warn(`warning: config ${key} is not valid (${JSON.stringify(value)}); ignored until it is set again`)
  }
  return config as Config
}

/** Sets (or, with undefined, removes) one setting under the lock. */
export async function setConfigValue(paths: HomePaths, key: ConfigKey, value: Config[ConfigKey] | undefined): Promise<Config> {
  return withLock(paths.lock, async () => {
    const config = loadConfig(paths, () => {}, true)
    if (value === undefined) delete config[key]
    else (config as Record<string, unknown>)[key] = value
    new LowSync<Config>(new JSONFileSync<Config>(paths.config), config).write()
    return config
  })
}

export function isConfigKey(key: string): key is ConfigKey {
  return (CONFIG_KEYS as readonly string[]).includes(key)
}

export function resolveRelays(opts: { flag?: string[]; env?: string; config?: string[] }): { urls: string[]; source: RelaySource } {
  if (opts.flag && opts.flag.length > 0) return { urls: parseRelayList(opts.flag), source: 'flag' }
  if (opts.env?.trim()) return { urls: parseRelayList(opts.env), source: 'env' }
  if (opts.config && opts.config.length > 0) return { urls: parseRelayList(opts.config), source: 'config' }
  return { urls: DEFAULT_RELAYS, source: 'default' }
}
