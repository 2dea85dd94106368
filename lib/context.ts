// What every command starts from: the options in effect, the home folder, the identity,
// the config, the relays to use, the state store and the output.
import { homePaths, ensureHome, type HomePaths } from './home.ts'
import { loadOrCreateIdentity, type Identity } from './identity.ts'
import { loadConfig, DEFAULT_ONLINE_WINDOW, type Config } from './config.ts'
import { resolveRelays, type RelaySource } from './relays.ts'
import { StateStore } from './state.ts'
import { createOutput, type Output } from './output.ts'
import { usageError } from './errors.ts'
import { parsePubkey } from './pubkey.ts'

export interface GlobalOptions {
  json?: boolean
  verbose?: boolean
  timeout?: number
  relay?: string[]
}

/** Keeps every command under ~5 s even when every relay is dead or silent. */
export const DEFAULT_TIMEOUT_MS = 4_000

export interface Context {
  out: Output
  paths: HomePaths
  identity: Identity
  config: Config
  relays: string[]
  relaySource: RelaySource
  timeoutMs: number
  store: StateStore
  /** the agent's display name: configured, or derived from its key */
  name: string
  onlineWindow: number
  /** the owner's hex key, when one is set */
  owner?: string
}

export function createContext(opts: GlobalOptions, out = createOutput(opts)): Context {
  const timeoutMs = opts.timeout ?? DEFAULT_TIMEOUT_MS
  if (!Number.isFinite(timeoutMs) || timeoutMs < 100 || timeoutMs > 600_000) {
    throw usageError('bad-timeout', '--timeout is a number of milliseconds from 100 to 600000', 'e.g. `--timeout 8000`')
  }
  const paths = homePaths()
  ensureHome(paths)
  const identity = loadOrCreateIdentity(paths.identity)
  if (identity.permissionWarning) out.warn(`warning: ${identity.permissionWarning}`)
  const config = loadConfig(paths)
  const relays = resolveRelays({ flag: opts.relay, env: process.env.P2P_RELAYS, config: config.relays })
  return {
    out,
    paths,
    identity,
    config,
    relays: relays.urls,
    relaySource: relays.source,
    timeoutMs,
    store: new StateStore(paths.state, paths.lock, out.warn),
    name: config.name ?? `agent-${identity.npub.slice(5, 13)}`,
    onlineWindow: config.onlineWindow ?? DEFAULT_ONLINE_WINDOW,
    owner: config.owner ? (parsePubkey(config.owner) ?? undefined) : undefined,
  }
}
