import { LinkDto } from '../../common/links/link.dto';
import { PageDto } from '../../common/pagination/page.dto';
import { MailCategory, ProductType } from '../mail-category';
import { DeliveryStatus, MailStatus } from '../mail-status';

export class DeliveryDto {
  receiverId: string;
  status: DeliveryStatus;
  /** SMTP attempts made so far. */
  attempts: number;
  /** The address it went to, masked (`j***@example.com`); null until the receiver is resolved. */
  email: string | null;
  sentAt: string | null;
  /** The Message-ID header of this delivery, the same on every attempt. */
  messageId: string;
  /** Why it failed or is being retried (`RECIPIENT_NOT_FOUND`, the SMTP server's reply…). */
  error: string | null;
}

export class MailDto {
  id: string;
  /** When the SMTP server first accepted one of the deliveries; null before. */
  sendingDate: string | null;
  receiversId: string[];
  publicationId: string | null;
  reservationId: string | null;
  productType: ProductType | null;
  organizationId: string | null;
  establishmentId: string | null;
  category: MailCategory;
  variables: Record<string, string | number | boolean>;
  /** The locale forced by the event, or null (each receiver's own). */
  locale: string | null;
  testMode: boolean;
  status: MailStatus;
  createdAt: string;
  correlationId: string;
  deliveries: DeliveryDto[];
  links: LinkDto[];
}

export class MailPageDto extends PageDto<MailDto> {
  content: MailDto[];
}
