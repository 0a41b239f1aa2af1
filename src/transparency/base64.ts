/** Standard base64 (RFC 4648 §4) with padding, as every C2SP format uses. */
export function encodeBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

const shape = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Strict base64 decoding: the standard alphabet, padded, and canonical (zero pad bits), so one
 * value has exactly one text form. Null for anything else, where Buffer.from would guess.
 */
export function decodeBase64(text: string): Uint8Array | null {
  if (!shape.test(text)) return null;
  const bytes = Buffer.from(text, 'base64');
  return bytes.toString('base64') === text ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) : null;
}
