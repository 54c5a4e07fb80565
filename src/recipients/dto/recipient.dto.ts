import { LinkDto } from '../../common/links/link.dto';

export class RecipientDto {
  /** The user id other services use in `receiversId`. */
  id: string;
  email: string;
  firstName: string | null;
  lastName: string | null;
  locale: string | null;
  createdAt: string;
  updatedAt: string;
  links: LinkDto[];
}
