import { LinkDto } from '../../common/links/link.dto';
import { PageDto } from '../../common/pagination/page.dto';

export class ContactDto {
  id: string;
  /** The thread: the id of its first message. */
  conversationId: string;
  sendingDate: string;
  receiverId: string | null;
  transmitterId: string | null;
  name: string;
  mail: string;
  object: string;
  message: string;
  /** Language of the mails sent to the writer. */
  locale: string;
  links: LinkDto[];
}

export class ContactPageDto extends PageDto<ContactDto> {
  content: ContactDto[];
}
