export type { TaskResultRecord } from './record.ts';
export { fitItem } from './record.ts';
export type { ClaimOutcome, ClaimRequest, Completion } from './store.ts';
export { ResultStore } from './store.ts';
export type { TransactOutcome } from './transact.ts';
export { transactWriteEach } from './transact.ts';
