export type { AwsClientOptions, AwsClients } from './clients.ts';
export {
  clientSettings,
  createAwsClients,
  getAwsClients,
  resetAwsClients,
  resolveAwsLocation,
} from './clients.ts';
export { isAwsError } from './errors.ts';
export { RequestCounter } from './request-counter.ts';
