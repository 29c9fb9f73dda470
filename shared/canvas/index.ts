/** Celery's canvas in Celerity's API: signatures, chains and links (`celerity` re-exports it). */
export type { SignatureCall, SignatureLike, SignatureOptions } from './signature.ts';
export { Chain, chain, Signature } from './signature.ts';
