import { Body, Controller, Get, HttpCode, HttpStatus, Param, Post, Res } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiNotFoundResponse, ApiOkResponse, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Public } from '../auth/access.decorator';
import { DEFAULT_LOCALE } from '../catalog/mail-category';
import { ApiError } from '../common/errors/api-error';
import { ErrorBodyDto } from '../common/errors/error-body.dto';
import { Idempotent } from '../common/idempotency/idempotent.decorator';
import { UnsubscribedDto } from './dto/subscriptions.dto';
import { SubscriptionsService } from './subscriptions.service';
import { UNSUBSCRIBE_PAGE_CSP, unknownTokenPage, unsubscribedPage, unsubscribePage } from './unsubscribe.page';

const HTML = 'text/html; charset=utf-8';

/**
 * One-click unsubscribe (contract A3, RFC 8058): the `List-Unsubscribe` URL of every SUBSCRIPTION
 * mail. No authentication: the token (random, unique to a receiver and a category, never
 * expiring) is the credential. Only a POST unsubscribes; the GET is a page that offers to.
 * Rate limited per client address like every public route.
 */
@ApiTags('unsubscribe')
@Controller('v1/unsubscribe')
@Public()
export class UnsubscribeController {
  constructor(private readonly subscriptions: SubscriptionsService) {}

  /**
   * The unsubscribe page the mail's footer links to, in the receiver's locale (French by default):
   * it changes nothing (link scanners open links) and offers a button that POSTs to this URL. A
   * token that names nothing is a 404 page.
   */
  @Get(':token')
  @ApiProduces('text/html')
  @ApiOkResponse({ description: 'The page.', content: { 'text/html': { schema: { type: 'string' } } } })
  @ApiNotFoundResponse({
    description: 'A token that names nothing: a page saying so.',
    content: { 'text/html': { schema: { type: 'string' } } },
  })
  async page(@Param('token') token: string, @Res({ passthrough: true }) reply: FastifyReply): Promise<string> {
    void reply.type(HTML).header('content-security-policy', UNSUBSCRIBE_PAGE_CSP).header('cache-control', 'no-store');
    try {
      const { subscription, locale } = await this.subscriptions.byToken(token);
      return unsubscribePage(locale, token, subscription.category, subscription.emailSubscribed);
    } catch (error) {
      if (!(error instanceof ApiError) || error.errorName !== 'RESOURCE_NOT_FOUND') throw error;
      void reply.status(HttpStatus.NOT_FOUND);
      return unknownTokenPage(DEFAULT_LOCALE);
    }
  }

  /**
   * Unsubscribe from the category the token names, for every mail not yet sent (RFC 8058: the
   * body `List-Unsubscribe=One-Click` as `application/x-www-form-urlencoded`, or none). Repeating
   * it changes nothing and answers the same. Posted by the page's button (`source=page` in the
   * form), it answers a confirmation page in the receiver's locale (source `PAGE`); otherwise
   * JSON (source `ONE_CLICK`). The event `recipient.unsubscribed` is written once.
   */
  @Post(':token')
  @Idempotent()
  @HttpCode(HttpStatus.OK)
  @ApiConsumes('application/x-www-form-urlencoded')
  @ApiBody({
    required: false,
    description: 'What RFC 8058 mail clients send; the page adds `source=page`.',
    schema: {
      type: 'object',
      properties: {
        'List-Unsubscribe': { type: 'string', enum: ['One-Click'] },
        source: { type: 'string', enum: ['page'], description: 'Posted by the unsubscribe page: answered by a page.' },
      },
      example: { 'List-Unsubscribe': 'One-Click' },
    },
  })
  @ApiOkResponse({
    type: UnsubscribedDto,
    description: 'Unsubscribed (or already). Posted by the page: a confirmation page (`text/html`).',
  })
  @ApiNotFoundResponse({ description: '`RESOURCE_NOT_FOUND`: a token that names nothing.', type: ErrorBodyDto })
  async unsubscribe(
    @Param('token') token: string,
    @Body() form: unknown,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<UnsubscribedDto | string> {
    const fromPage = isForm(form) && form.source === 'page';
    if (!fromPage) return (await this.subscriptions.unsubscribe(token, 'ONE_CLICK')).unsubscribed;
    void reply.type(HTML).header('content-security-policy', UNSUBSCRIBE_PAGE_CSP).header('cache-control', 'no-store');
    try {
      const { unsubscribed, locale } = await this.subscriptions.unsubscribe(token, 'PAGE');
      return unsubscribedPage(locale, unsubscribed.category);
    } catch (error) {
      if (!(error instanceof ApiError) || error.errorName !== 'RESOURCE_NOT_FOUND') throw error;
      void reply.status(HttpStatus.NOT_FOUND);
      return unknownTokenPage(DEFAULT_LOCALE);
    }
  }
}

function isForm(body: unknown): body is Record<string, unknown> {
  return typeof body === 'object' && body !== null && !Array.isArray(body);
}
