// The user's settings (`config get/set`): a small JSON file of its own, so that a state file
// moved aside as corrupt never takes the agent's name, owner or relays with it.
import { LowSync } from 'lowdb'
import { JSONFileSync } from 'lowdb/node'
import { withLock } from './lock.ts'
import { P2PError, EXIT, usageError } from './errors.ts'
import { parsePubkey, npub } from './pubkey.ts'
import { parseRelayList } from './relays.ts'
import type { HomePaths } from './home.ts'

export interface Config {
  name?: string
  about?: string
  /** the owner's npub */
  owner?: string
  relays?: string[]
  /** seconds an announcement counts as "online" in `list` */
  onlineWindow?: number
}

export const CONFIG_KEYS = ['name', 'about', 'owner', 'relays', 'onlineWindow'] as const
export type ConfigKey = (typeof CONFIG_KEYS)[number]
export const DEFAULT_ONLINE_WINDOW = 300

export function loadConfig(paths: HomePaths): Config {
  try {
    const db = new LowSync<Config>(new JSONFileSync<Config>(paths.config), {})
    db.read()
    if (typeof db.data !== 'object' || db.data === null || Array.isArray(db.data)) throw new Error('not an object')
    return db.data
  } catch (err) {
    throw new P2PError(
      'config-unreadable',
      `the config file ${paths.config} cannot be read (${(err as Error).message})`,
      `fix it by hand, or move it away (\`mv ${paths.config} ${paths.config}.bad\`) and set values again with \`node p2p.js config set\``,
      EXIT.state,
    )
  }
}

/** Validates `raw` for `key`; `unset` (or an empty value) removes the setting. */
export function parseConfigValue(key: ConfigKey, raw: string): Config[ConfigKey] | undefined {
  const value = raw.trim()
  if (value === '' || value === 'unset' || (key === 'relays' && value === 'default')) return undefined
  switch (key) {
    case 'name':
      if (value.length > 64 || /[\u0000-\u001f\u007f]/.test(value)) {
        throw usageError('bad-name', 'a name is at most 64 characters, on one line', 'e.g. `node p2p.js config set name research-bot`')
      }
      return value
    case 'about':
      if (value.length > 500) throw usageError('bad-about', 'about is at most 500 characters', 'shorten it and set it again')
      return value
    case 'owner': {
      const pubkey = parsePubkey(value)
      if (!pubkey) {
        throw usageError('bad-npub', `"${value}" is not an npub, nprofile or hex public key`, "copy the owner's npub from their Nostr client: `node p2p.js config set owner npub1…`")
      }
      return npub(pubkey)
    }
    case 'relays':
      return parseRelayList(value)
    case 'onlineWindow': {
      const seconds = Number(value)
      if (!Number.isInteger(seconds) || seconds < 30 || seconds > 86_400) {
        throw usageError('bad-window', 'onlineWindow is a whole number of seconds from 30 to 86400', 'e.g. `node p2p.js config set onlineWindow 600`')
      }
      return seconds
    }
  }
}

export async function setConfigValue(paths: HomePaths, key: ConfigKey, raw: string): Promise<Config> {
  const value = parseConfigValue(key, raw)
  return withLock(paths.lock, async () => {
    const config = loadConfig(paths)
    if (value === undefined) delete config[key]
    else (config as Record<string, unknown>)[key] = value
    new LowSync<Config>(new JSONFileSync<Config>(paths.config), config).write()
    return config
  })
}

export function isConfigKey(key: string): key is ConfigKey {
  return (CONFIG_KEYS as readonly string[]).includes(key)
}
