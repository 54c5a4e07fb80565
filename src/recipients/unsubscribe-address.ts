/**
 * The mailto form of one-click unsubscribe (contract A3): `unsubscribe+{token}@INBOUND_DOMAIN`,
 * where `{token}` is the subscription's unsubscribe token (40 lower-case hex characters: with
 * `unsubscribe+` it fits in the 64 characters of a local part). The listener accepts the form at
 * RCPT TO; whether the token exists is decided when the message is applied.
 */
const UNSUBSCRIBE_LOCAL_PART = /^unsubscribe\+([0-9a-f]{40})$/i;

export function unsubscribeAddress(token: string, domain: string): string {
  return `unsubscribe+${token}@${domain}`;
}

/** The token of an unsubscribe address of this domain (lower-cased: MTAs may change the case), or null. */
export function unsubscribeToken(address: string, domain: string): string | null {
  const at = address.lastIndexOf('@');
  if (at < 0 || address.slice(at + 1).toLowerCase() !== domain.toLowerCase()) return null;
  const match = UNSUBSCRIBE_LOCAL_PART.exec(address.slice(0, at));
  return match ? match[1].toLowerCase() : null;
}
