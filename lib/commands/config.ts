// `config get [key]` and `config set <key> <value>`. Local only.
import { type CommandResult, usageError } from '../errors.ts'
import { MAX_ABOUT, MAX_CALLS, MAX_CAPABILITIES, MAX_CAPABILITY, MAX_NAME } from '../limits.ts'
import { npub, parsePubkey } from '../nostr/keys.ts'
import { parseRelayList } from '../nostr/relay-url.ts'
import { hasControlChars } from '../sanitize.ts'
import type { Context } from '../session/context.ts'
import { CONFIG_KEYS, type Config, type ConfigKey, isConfigKey, isOnlineWindow, setConfigValue } from '../store/config.ts'
import {
  FASTEST_POLL_S,
  MAX_IDLE_TIMEOUT_S,
  MAX_ONLINE_WINDOW_S,
  MIN_IDLE_TIMEOUT_S,
  MIN_ONLINE_WINDOW_S,
  PRESENCE_REFRESH_S,
} from '../timing.ts'
import { table } from '../ui/format.ts'

export async function configGet(ctx: Context, key?: string): CommandResult {
  if (key === undefined) {
    ctx.out.result({ config: ctx.config }, () => table(CONFIG_KEYS.map((k) => [k, show(ctx.config[k], k)])))
    return
  }
  checkKey(key)
  ctx.out.result({ key, value: ctx.config[key] ?? null }, () => [show(ctx.config[key], key)])
}

export async function configSet(ctx: Context, key: string, value: string): CommandResult {
  checkKey(key)
  const config = await setConfigValue(ctx.paths, key, parseConfigValue(key, value))
  ctx.out.result({ key, value: config[key] ?? null, config }, () => [`${key} = ${show(config[key], key)}`])
}

/** Validates `raw` for `key`; `unset` (or an empty value) removes the setting. */
export function parseConfigValue(key: ConfigKey, raw: string): Config[ConfigKey] | undefined {
  const value = raw.trim()
  if (value === '' || value === 'unset' || ((key === 'relays' || key === 'indexers') && value === 'default')) return undefined
  switch (key) {
    case 'name':
      if (value.length > MAX_NAME || hasControlChars(value)) {
        throw usageError(
          'bad-name',
          `a name is at most ${MAX_NAME} characters, on one line`,
          'e.g. `node p2p.js config set name research-bot`',
        )
      }
      return value
    case 'about':
      if (value.length > MAX_ABOUT) throw usageError('bad-about', `about is at most ${MAX_ABOUT} characters`, 'shorten it and set it again')
      return value
    case 'owner': {
      const pubkey = parsePubkey(value)
      if (!pubkey) {
        throw usageError(
          'bad-npub',
          `"${value}" is not an npub, nprofile or hex public key`,
          "copy the owner's npub from their Nostr client: `node p2p.js config set owner npub1…`",
        )
      }
      return npub(pubkey)
    }
    case 'relays':
      return parseRelayList(value)
    case 'indexers':
      return value === 'none' ? [] : parseRelayList(value)
    case 'capabilities':
      return parseCapabilities(value)
    case 'accept':
      if (value !== 'anyone' && value !== 'known' && value !== 'allowlist') {
        throw usageError(
          'bad-accept',
          'accept is anyone, known (agents you called, were in a call with, or allowed) or allowlist (only allowed agents)',
          'e.g. `node p2p.js config set accept known`, then `node p2p.js allow <npub>`',
        )
      }
      return value
    case 'onlineWindow': {
      const seconds = Number(value)
      if (!isOnlineWindow(seconds)) {
        throw usageError(
          'bad-window',
          `onlineWindow is a whole number of seconds from ${MIN_ONLINE_WINDOW_S} to ${MAX_ONLINE_WINDOW_S}: an agent's announcement is renewed once ${PRESENCE_REFRESH_S} s old, by its next run (${FASTEST_POLL_S} s later when cron polls every minute), so a shorter window drops agents that are online`,
          'e.g. `node p2p.js config set onlineWindow 600`',
        )
      }
      return seconds
    }
    case 'legacy':
      if (value !== 'on' && value !== 'off') {
        throw usageError(
          'bad-legacy',
          'legacy is on (calls with agents of the original skill over NIP-04, which shows relays who talks to whom) or off',
          'e.g. `node p2p.js config set legacy on`',
        )
      }
      return value
    case 'maxCalls': {
      const calls = Number(value)
      if (!Number.isInteger(calls) || calls < 1 || calls > MAX_CALLS) {
        throw usageError(
          'bad-max-calls',
          `maxCalls is a whole number from 1 to ${MAX_CALLS}`,
          'e.g. `node p2p.js config set maxCalls 3` (three calls at once; `unset` for one)',
        )
      }
      return calls
    }
    case 'idleTimeout': {
      const seconds = Number(value)
      if (!Number.isInteger(seconds) || seconds < MIN_IDLE_TIMEOUT_S || seconds > MAX_IDLE_TIMEOUT_S) {
        throw usageError(
          'bad-idle-timeout',
          `idleTimeout is a whole number of seconds from ${MIN_IDLE_TIMEOUT_S} to ${MAX_IDLE_TIMEOUT_S}: an active call with no message either way for that long ends`,
          'e.g. `node p2p.js config set idleTimeout 1800` (half an hour; `unset` for an hour)',
        )
      }
      return seconds
    }
  }
}

/** "fx-rates, currency" → ["fx-rates", "currency"]: comma-separated, trimmed, no duplicates. */
function parseCapabilities(value: string): string[] {
  const caps = [
    ...new Set(
      value
        .split(',')
        .map((c) => c.trim())
        .filter(Boolean),
    ),
  ]
  if (caps.length > MAX_CAPABILITIES || caps.some((c) => c.length > MAX_CAPABILITY || hasControlChars(c))) {
    throw usageError(
      'bad-capabilities',
      `capabilities are at most ${MAX_CAPABILITIES}, each at most ${MAX_CAPABILITY} characters on one line, separated by commas`,
      'e.g. `node p2p.js config set capabilities "fx-rates, currency"`',
    )
  }
  return caps
}

const show = (value: Config[keyof Config], key: ConfigKey): string =>
  value === undefined ? '(not set)' : Array.isArray(value) ? value.join(key === 'capabilities' ? ', ' : ' ') : String(value)

function checkKey(key: string): asserts key is ConfigKey {
  if (!isConfigKey(key)) {
    throw usageError(
      'bad-config-key',
      `"${key}" is not a setting`,
      `settings are ${CONFIG_KEYS.join(', ')}: e.g. \`node p2p.js config get name\``,
    )
  }
}
