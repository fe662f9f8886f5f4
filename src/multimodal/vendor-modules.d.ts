// jpeg-lossless-decoder-js names a .d.ts in its package.json that it does not ship.
declare module 'jpeg-lossless-decoder-js' {
  export class Decoder {
    decode(buffer: ArrayBuffer, offset: number, length: number, numBytes?: number): ArrayBufferView;
  }
}
