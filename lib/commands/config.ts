// `config get [key]` and `config set <key> <value>`. Local only.
import type { Context } from '../context.ts'
import { setConfigValue, isConfigKey, CONFIG_KEYS, type Config } from '../config.ts'
import { usageError, type CommandResult } from '../errors.ts'
import { table } from '../output.ts'

const show = (value: Config[keyof Config]): string =>
  value === undefined ? '(not set)' : Array.isArray(value) ? value.join(' ') : String(value)

function checkKey(key: string): asserts key is (typeof CONFIG_KEYS)[number] {
  if (!isConfigKey(key)) {
    throw usageError('bad-config-key', `"${key}" is not a setting`, `settings are ${CONFIG_KEYS.join(', ')}: e.g. \`node p2p.js config get name\``)
  }
}

export async function configGet(ctx: Context, key?: string): CommandResult {
  if (key === undefined) {
    ctx.out.result({ config: ctx.config }, () => table(CONFIG_KEYS.map((k) => [k, show(ctx.config[k])])))
    return
  }
  checkKey(key)
  ctx.out.result({ key, value: ctx.config[key] ?? null }, () => [show(ctx.config[key])])
}

export async function configSet(ctx: Context, key: string, value: string): CommandResult {
  checkKey(key)
  const config = await setConfigValue(ctx.paths, key, value)
  ctx.out.result({ key, value: config[key] ?? null, config }, () => [`${key} = ${show(config[key])}`])
}
