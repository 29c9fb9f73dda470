export type { AwsClientOptions, AwsClients } from './clients.ts';
export {
  clientSettings,
  createAwsClients,
  getAwsClients,
  resetAwsClients,
  resolveAwsLocation,
} from './clients.ts';
export { RequestCounter } from './request-counter.ts';
