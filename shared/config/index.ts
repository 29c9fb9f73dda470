export type {
  AppSettings,
  CelerityConfig,
  CelerityConfigInput,
  QueueTarget,
  ResourceLocations,
} from './config.ts';
export {
  configDefaults,
  configure,
  functionConfig,
  getConfig,
  HANDED_ON_SETTINGS,
  resetConfig,
  resolveConfig,
} from './config.ts';
export { ConfigEnv } from './env.ts';
