import type { OpsContext } from '../ops/context.ts';
import type * as z from '../schema.ts';

/** Who may call a route: `viewer` reads, `admin` reads and writes. */
export type Role = 'viewer' | 'admin';

/**
 * A zod schema (classic or mini): its output is what the handler is given. Validation and the
 * OpenAPI document both read it, so what is documented is what is enforced.
 */
export type ZodType<T = unknown> = z.core.$ZodType<T>;

/** What a handler is given: the validated request, the operations' context and who is asking. */
export interface RouteInput<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  ctx: OpsContext;
  /** The caller's role name (`admin`, `viewer`), for the audit line and for records that name who did it. */
  actor: string;
  /** The caller's role, as the route's check saw it. */
  role: Role;
  signal?: AbortSignal;
}

/** A handler's answer: JSON `body`, status 200 unless given. */
export interface RouteOutput {
  status?: number;
  body: unknown;
  headers?: Record<string, string>;
}

/** One route of the admin API; the router, the auth check and the OpenAPI document are built from these. */
export interface AdminRoute<P = unknown, Q = unknown, B = unknown> {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** OpenAPI style: `/api/tasks/{id}`. */
  path: string;
  /** `viewer` for reads, `admin` for writes. */
  role: Role;
  /** One line, for the OpenAPI document. */
  summary: string;
  params?: ZodType<P>;
  query?: ZodType<Q>;
  body?: ZodType<B>;
  /** The success body's shape, for the OpenAPI document only. */
  response?: ZodType;
  handle(input: RouteInput<P, Q, B>): Promise<RouteOutput>;
}

/**
 * Declares a route with its types inferred from its schemas. The route lists hold them as
 * `AdminRoute` (unknown types): the router validates before it calls `handle`.
 */
export function defineRoute<P, Q, B>(route: AdminRoute<P, Q, B>): AdminRoute<P, Q, B> {
  return route;
}
