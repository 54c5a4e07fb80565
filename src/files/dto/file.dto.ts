import { LinkDto } from '../../common/links/link.dto';

export class FileDto {
  /** @example "0f8fad5b-d9cb-469f-a165-70867728950e" */
  id: string;
  /** The name it was uploaded with. @example "voucher.pdf" */
  filename: string;
  /** Its type, checked from its bytes: application/pdf, image/png, image/jpeg, text/calendar or text/plain. @example "application/pdf" */
  contentType: string;
  /** Bytes. @example 48213 */
  size: number;
  /** Hex SHA-256 of the bytes (equal bytes are stored once). */
  sha256: string;
  createdAt: string;
  links: LinkDto[];
}
