import { TextDecoder } from 'node:util';

/** The types a file may have (FILE_TYPES of the contract), each checked from its first bytes. */
export const FILE_TYPES = ['application/pdf', 'image/png', 'image/jpeg', 'text/calendar', 'text/plain'] as const;
export type FileType = (typeof FILE_TYPES)[number];

/** The declared type without its parameters (`text/plain; charset=utf-8` → `text/plain`), or null when not listed. */
export function listedType(declared: string | undefined): FileType | null {
  const type = (declared ?? '').split(';')[0].trim().toLowerCase();
  return (FILE_TYPES as readonly string[]).includes(type) ? (type as FileType) : null;
}

const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const JPEG = Buffer.from([0xff, 0xd8, 0xff]);
const PDF = Buffer.from('%PDF-', 'latin1');
const VCALENDAR = Buffer.from('BEGIN:VCALENDAR', 'latin1');
const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/** How many first bytes the signature checks need. */
export const SIGNATURE_BYTES = 32;

/**
 * Whether the bytes are of the declared type, checked as they stream: the signature on the first
 * bytes (PDF, PNG, JPEG, iCalendar), and for text every byte valid UTF-8 without NUL (text/calendar
 * too). `push` each chunk, then `end`; both answer false as soon as the bytes cannot be of the type.
 */
export class TypeCheck {
  private head = Buffer.alloc(0);
  private headChecked = false;
  private readonly decoder: TextDecoder | null;

  constructor(private readonly type: FileType) {
    this.decoder = type.startsWith('text/') ? new TextDecoder('utf-8', { fatal: true }) : null;
  }

  push(chunk: Buffer): boolean {
    if (!this.headChecked) {
      this.head = Buffer.concat([this.head, chunk.subarray(0, SIGNATURE_BYTES)]).subarray(0, SIGNATURE_BYTES);
      if (this.head.length >= SIGNATURE_BYTES) {
        this.headChecked = true;
        if (!this.signatureMatches()) return false;
      }
    }
    return this.textValid(chunk, true);
  }

  end(): boolean {
    if (!this.headChecked && !this.signatureMatches()) return false;
    return this.textValid(Buffer.alloc(0), false);
  }

  private signatureMatches(): boolean {
    const head = this.head;
    switch (this.type) {
      case 'application/pdf':
        return head.subarray(0, PDF.length).equals(PDF);
      case 'image/png':
        return head.subarray(0, PNG.length).equals(PNG);
      case 'image/jpeg':
        return head.subarray(0, JPEG.length).equals(JPEG);
      case 'text/calendar': {
        const text = head.subarray(0, UTF8_BOM.length).equals(UTF8_BOM) ? head.subarray(UTF8_BOM.length) : head;
        return text.subarray(0, VCALENDAR.length).toString('latin1').toUpperCase() === VCALENDAR.toString('latin1');
      }
      case 'text/plain':
        return true;
    }
  }

  private textValid(chunk: Buffer, more: boolean): boolean {
    if (!this.decoder) return true;
    if (chunk.includes(0)) return false;
    try {
      this.decoder.decode(chunk, { stream: more });
      return true;
    } catch {
      return false;
    }
  }
}
