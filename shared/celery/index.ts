export {
  CeleryMessageError,
  CeleryProtocolError,
  CompressedMessageError,
  ContentDisallowedError,
  UnsupportedCanvasError,
} from './errors.ts';
export { type ArrivedOn, decodeCeleryMessage } from './intake.ts';
export { type KombuMessage, readKombuMessage } from './kombu.ts';
export { type CeleryMark, celeryEnvelopeInput } from './protocol.ts';
