// What every command starts from: the options in effect, the home folder, the identity, the
// config, the relays to use, the state store and the output.
import { usageError } from '../errors.ts'
import { parsePubkey } from '../nostr/keys.ts'
import { type Config, DEFAULT_INDEXERS, loadConfig, type RelaySource, resolveRelays } from '../store/config.ts'
import { ensureHome, type HomePaths, homePaths } from '../store/home.ts'
import { type Identity, loadOrCreateIdentity } from '../store/identity.ts'
import { StateStore } from '../store/state.ts'
import { DEFAULT_IDLE_TIMEOUT_S, DEFAULT_ONLINE_WINDOW_S, DEFAULT_TIMEOUT_MS, MAX_TIMEOUT_MS, MIN_TIMEOUT_MS } from '../timing.ts'
import { createOutput, type Output } from '../ui/output.ts'

/** The options every command takes (CLI.md). */
export interface GlobalOptions {
  json?: boolean
  verbose?: boolean
  timeout?: number
  relay?: string[]
  /** `config set`: an unreadable config file is moved aside instead of stopping the command */
  repairConfig?: boolean
}

export interface Context {
  out: Output
  paths: HomePaths
  identity: Identity
  config: Config
  relays: string[]
  relaySource: RelaySource
  /** where our lists and profile also go, and others' are looked up (never one of `relays`) */
  indexers: string[]
  timeoutMs: number
  store: StateStore
  /** the agent's display name: configured, or derived from its key */
  name: string
  onlineWindow: number
  /** calls that may be active at once (config maxCalls, default 1) */
  maxCalls: number
  /** seconds an active call may go silent before it ends (config idleTimeout) */
  idleS: number
  /** the owner's hex key, when one is set (config.owner is its npub) */
  ownerPubkey?: string
  /** calls with agents of the original skill, over NIP-04 (config legacy on) */
  legacy: boolean
}

export function createContext(opts: GlobalOptions, out = createOutput(opts)): Context {
  const timeoutMs = opts.timeout ?? DEFAULT_TIMEOUT_MS
  if (!Number.isFinite(timeoutMs) || timeoutMs < MIN_TIMEOUT_MS || timeoutMs > MAX_TIMEOUT_MS) {
    throw usageError(
      'bad-timeout',
      `--timeout is a number of milliseconds from ${MIN_TIMEOUT_MS} to ${MAX_TIMEOUT_MS}`,
      'e.g. `--timeout 8000`',
    )
  }
  const paths = homePaths()
  ensureHome(paths)
  const identity = loadOrCreateIdentity(paths.identity)
  if (identity.permissionWarning) out.warn(`warning: ${identity.permissionWarning}`)
  const config = loadConfig(paths, out.warn, opts.repairConfig)
  const relays = resolveRelays({ flag: opts.relay, env: process.env.P2P_RELAYS, config: config.relays })
  return {
    out,
    paths,
    identity,
    config,
    relays: relays.urls,
    relaySource: relays.source,
    indexers: (config.indexers ?? DEFAULT_INDEXERS).filter((url) => !relays.urls.includes(url)),
    timeoutMs,
    store: new StateStore(paths, out.warn, out.dropped),
    name: config.name ?? `agent-${identity.npub.slice(5, 13)}`,
    onlineWindow: config.onlineWindow ?? DEFAULT_ONLINE_WINDOW_S,
    maxCalls: config.maxCalls ?? 1,
    idleS: config.idleTimeout ?? DEFAULT_IDLE_TIMEOUT_S,
    ownerPubkey: config.owner ? (parsePubkey(config.owner) ?? undefined) : undefined,
    legacy: config.legacy === 'on',
  }
}
