export type { CelerityConfig, CelerityConfigInput, QueueTarget } from './config.ts';
export { configDefaults, configure, getConfig, resetConfig, resolveConfig } from './config.ts';
export { ConfigEnv } from './env.ts';
