/**
 * The producer-only bundle `npm run bench` measures: a service that defines one task and sends it,
 * as a Django view or another Lambda would. What it bundles is what sending a task costs a service.
 */
import { defineTask } from '../shared/task/index.ts';

export const add = defineTask('bench.producer.add', (_ctx, a: number, b: number) => a + b);

export async function handler(): Promise<string> {
  return (await add.delay(2, 3)).id;
}
