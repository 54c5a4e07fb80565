import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The addresses mail comes back to (contract A2): `bounces+{token}@INBOUND_DOMAIN`, the envelope
 * sender of one delivery, and `reply+{token}@INBOUND_DOMAIN`, the Reply-To of a copy that invites
 * an answer. Both tokens name a delivery: the copy sent to one person, which tells the thread (its
 * mail) and who may answer (its address). The token is the delivery id and an HMAC of it and of the
 * purpose, in lower-case hex: it survives MTAs that change the case of local parts, is not
 * guessable, and one made for a bounce is not a reply token (nor one for another delivery).
 * `bounces+` and 52 characters stay within the 64 a local part may have (RFC 5321 4.5.3.1.1).
 */
export type InboundPurpose = 'bounces' | 'reply';

const MAC_BYTES = 10;
const TOKEN = /^([0-9a-f]{32})([0-9a-f]{20})$/;

export interface InboundAddress {
  purpose: InboundPurpose;
  deliveryId: string;
}

export class InboundAddresses {
  constructor(
    private readonly domain: string,
    private readonly secret: Buffer,
  ) {}

  address(purpose: InboundPurpose, deliveryId: string): string {
    const id = deliveryId.replace(/-/g, '').toLowerCase();
    return `${purpose}+${id}${this.mac(purpose, id).toString('hex')}@${this.domain}`;
  }

  /** An address of our inbound domain in the form of ours, whether or not its token is valid. */
  isOurs(address: string): boolean {
    const at = address.lastIndexOf('@');
    return at > 0 && address.slice(at + 1).toLowerCase() === this.domain && /^(bounces|reply)\+/i.test(address);
  }

  /** What an address names, or null when it is not ours or its token is not valid. */
  parse(address: string): InboundAddress | null {
    const at = address.lastIndexOf('@');
    if (at < 0 || address.slice(at + 1).toLowerCase() !== this.domain) return null;
    const match = /^(bounces|reply)\+(.+)$/i.exec(address.slice(0, at));
    if (!match) return null;
    const purpose = match[1].toLowerCase() as InboundPurpose;
    const token = TOKEN.exec(match[2].toLowerCase());
    if (!token) return null;
    const expected = this.mac(purpose, token[1]);
    if (!timingSafeEqual(expected, Buffer.from(token[2], 'hex'))) return null;
    const id = token[1];
    return {
      purpose,
      deliveryId: `${id.slice(0, 8)}-${id.slice(8, 12)}-${id.slice(12, 16)}-${id.slice(16, 20)}-${id.slice(20)}`,
    };
  }

  private mac(purpose: InboundPurpose, id: string): Buffer {
    return createHmac('sha256', this.secret).update(`${purpose}:${id}`).digest().subarray(0, MAC_BYTES);
  }
}
