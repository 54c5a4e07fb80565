import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Patch, Post, Query } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBody, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { HttpResult } from '../common/http/http-result';
import { TextIdParam, UuidParam } from '../common/http/id-params';
import { CreateMailDto } from './dto/create-mail.dto';
import { ListMailsQueryDto } from './dto/list-mails.query.dto';
import { CancelMailsDto, RescheduleMailDto } from './dto/mail-actions.dto';
import { BatchResultDto, CancellationResultDto, DeliveryAttemptDto, MailDto, MailPageDto } from './dto/mail.dto';
import { MailsService } from './mails.service';
import { Idempotent } from '../common/idempotency/idempotent.decorator';

@ApiTags('mails')
@Controller('v1/mails')
export class MailsController {
  constructor(private readonly mails: MailsService) {}

  /**
   * Accept a mail event: it is stored and queued, then delivered asynchronously to each receiver
   * (at `scheduledAt` when given). Answers 202 with the mail and a `Location` header.
   */
  @Post()
  @Idempotent()
  @HttpCode(HttpStatus.ACCEPTED)
  create(@Body() dto: CreateMailDto): Promise<MailDto> {
    return this.mails.create(dto);
  }

  /**
   * Accept up to 500 mail events at once. Each is validated on its own: the answer gives, per index,
   * 202 and the mail, or 400 and the error; the valid ones are accepted even when others are not.
   */
  @Post('batch')
  @Idempotent()
  @HttpCode(HttpStatus.OK)
  @ApiBody({ type: [CreateMailDto] })
  createBatch(@Body() items: unknown[]): Promise<BatchResultDto> {
    return this.mails.createBatch(items);
  }

  /**
   * Cancel every mail of a booking, publication, organization, establishment or receiver: a
   * cancelled booking is one call, and none of its reminders leaves. Mails with a delivery in an
   * attempt are in `requestedMailIds`: that delivery ends CANCELLED unless the relay accepted it.
   */
  @Post('cancellations')
  @Idempotent()
  @HttpCode(HttpStatus.OK)
  cancelMany(@Body() dto: CancelMailsDto): Promise<CancellationResultDto> {
    return this.mails.cancelMany(dto);
  }

  /** List mails, newest first, with filters. */
  @Get()
  list(@Query() query: ListMailsQueryDto): Promise<MailPageDto> {
    return this.mails.list(query);
  }

  /** Get a mail with its per-receiver deliveries. */
  @Get(':mailId')
  get(@UuidParam('mailId') id: string): Promise<MailDto> {
    return this.mails.findOne(id);
  }

  /** Move a SCHEDULED mail to another time (409 once its sending has begun). */
  @Patch(':mailId')
  reschedule(@UuidParam('mailId') id: string, @Body() dto: RescheduleMailDto): Promise<MailDto> {
    return this.mails.reschedule(id, dto);
  }

  /**
   * Cancel what is still to be sent of a mail: 200 when done at once; 202 (`cancelRequested`) when a
   * delivery is in an attempt, which then ends CANCELLED unless the relay accepted that copy; 409
   * when every delivery has already ended.
   */
  @Delete(':mailId')
  @ApiOkResponse({ type: MailDto, description: 'Cancelled: nothing more of this mail will be sent.' })
  @ApiAcceptedResponse({
    type: MailDto,
    description:
      'A delivery is in an attempt: the cancellation is recorded (`cancelRequested`); it ends CANCELLED, or SENT if the relay accepted that copy. No new attempt starts.',
  })
  cancel(@UuidParam('mailId') id: string): Promise<HttpResult<MailDto>> {
    return this.mails.cancel(id);
  }

  /** Queue the FAILED deliveries of a mail again, with a fresh retry budget (409 when none failed). */
  @Post(':mailId/retry')
  @Idempotent()
  @HttpCode(HttpStatus.ACCEPTED)
  retry(@UuidParam('mailId') id: string): Promise<MailDto> {
    return this.mails.retry(id);
  }

  /** Every attempt of one receiver's delivery, oldest first. */
  @Get(':mailId/deliveries/:receiverId/attempts')
  attempts(
    @UuidParam('mailId') id: string,
    @TextIdParam('receiverId') receiverId: string,
  ): Promise<DeliveryAttemptDto[]> {
    return this.mails.attempts(id, receiverId);
  }
}
